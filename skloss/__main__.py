"""``python -m skloss``: a demo on the breast cancer dataset.

Prints the cross-validated accuracy of a Pipeline(StandardScaler,
GDLogisticClassifier), then a grid search over learning rates as a table.
"""

import sys
import time
import warnings

from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from . import GDLogisticClassifier, __version__


def main(out=sys.stdout):
    """Run the demo and print its report to ``out``.

    Parameters
    ----------
    out : file-like, default=sys.stdout
        Where the report goes.

    Returns
    -------
    search : GridSearchCV
        The fitted grid search.
    """
    X, y = load_breast_cancer(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), GDLogisticClassifier(random_state=0))
    print(f"skloss {__version__}: GDLogisticClassifier on breast cancer "
          f"({X.shape[0]} samples, {X.shape[1]} features)\n", file=out)

    start = time.perf_counter()
    cv = cross_validate(pipe, X, y, cv=5)
    acc = cv["test_score"]
    print(f"5-fold cross-validated accuracy (learning_rate='auto'): "
          f"{acc.mean():.4f} +/- {acc.std():.4f} "
          f"({time.perf_counter() - start:.2f}s)\n", file=out)

    grid = {"gdlogisticclassifier__learning_rate": [0.001, 0.01, 0.1, 1.0, "auto"]}
    search = GridSearchCV(pipe, grid, cv=5, return_train_score=False)
    with warnings.catch_warnings():
        # Small fixed steps stop at max_iter by design; the table shows it.
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X, y)
    res = search.cv_results_
    epochs = {}
    for lr in grid["gdlogisticclassifier__learning_rate"]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = pipe.set_params(gdlogisticclassifier__learning_rate=lr).fit(X, y)
        epochs[str(lr)] = model[-1].n_iter_
    print("Grid search over the learning rate (5-fold CV):", file=out)
    print(f"{'learning rate':>14} {'mean score':>11} {'fit time (s)':>13} "
          f"{'epochs':>7}", file=out)
    for i, params in enumerate(res["params"]):
        lr = params["gdlogisticclassifier__learning_rate"]
        print(f"{lr!s:>14} {res['mean_test_score'][i]:>11.4f} "
              f"{res['mean_fit_time'][i]:>13.4f} {epochs[str(lr)]:>7}", file=out)
    best = search.best_params_["gdlogisticclassifier__learning_rate"]
    print(f"\nBest learning rate: {best!s} (score {search.best_score_:.4f})",
          file=out)
    return search


if __name__ == "__main__":
    main()
