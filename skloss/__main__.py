"""``python -m skloss``: a demo on the breast cancer dataset.

Prints the cross-validated accuracy of a Pipeline(StandardScaler,
GDLogisticClassifier), then a grid search over learning rates as a table,
and writes the cost curve of every learning rate to a PNG file
(``--figure PATH``; ``--no-figure`` skips it). Without matplotlib the demo
still runs and says how to get the figure.
"""

import argparse
import sys
import time
import warnings

from sklearn.base import clone
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from . import GDLogisticClassifier, __version__


FIGURE = "skloss_learning_rates.png"


def parse_args(argv=None):
    """The demo's command line: where the figure goes, or no figure."""
    parser = argparse.ArgumentParser(
        prog="python -m skloss",
        description="GDLogisticClassifier on breast cancer: cross-validation, "
        "a grid search over learning rates, and their cost curves.",
    )
    parser.add_argument(
        "--figure", default=FIGURE, metavar="PATH",
        help=f"write the learning-rate figure here (default: {FIGURE})",
    )
    parser.add_argument(
        "--no-figure", action="store_true", help="do not write the figure",
    )
    return parser.parse_args(argv)


def write_figure(models, search, path, out):
    """Draw each learning rate's cost per epoch to ``path`` (PNG).

    Returns the path written, or None when matplotlib is missing (the
    report then says how to get the figure).
    """
    try:
        import matplotlib
    except ImportError:
        print('\nNo figure: matplotlib is not installed; pip install '
              '"skloss[plot]" to get the learning-rate figure.', file=out)
        return None
    matplotlib.use("Agg")  # a file, not a window: works without a display
    import matplotlib.pyplot as plt

    from .plotting import LossCurveDisplay

    labels = [f"learning_rate={lr}" for lr in models]
    disp = LossCurveDisplay(
        loss_curves=[m.loss_curve_ for m in models.values()],
        kept_epochs=[len(m.loss_curve_) for m in models.values()],
        labels=labels,
        scores=search.cv_results_["mean_test_score"],
    ).plot(log_scale=True)
    disp.ax_.set_title("Cost per epoch of each learning rate (breast cancer)")
    disp.figure_.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(disp.figure_)
    print(f"\nCost curves of every learning rate written to {path}", file=out)
    return path


def main(argv=None, out=sys.stdout):
    """Run the demo and print its report to ``out``.

    Parameters
    ----------
    argv : list of str, default=None
        Command-line arguments (None: ``sys.argv[1:]``): ``--figure PATH``,
        ``--no-figure``.
    out : file-like, default=sys.stdout
        Where the report goes.

    Returns
    -------
    search : GridSearchCV
        The fitted grid search.
    """
    args = parse_args(argv)
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
    models = {}  # each learning rate refitted once on all data
    for lr in grid["gdlogisticclassifier__learning_rate"]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = clone(pipe).set_params(
                gdlogisticclassifier__learning_rate=lr
            ).fit(X, y)
        models[str(lr)] = model[-1]
    epochs = {lr: m.n_iter_ for lr, m in models.items()}
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
    if not args.no_figure:
        write_figure(models, search, args.figure, out)
    return search


if __name__ == "__main__":
    main()
