"""
===========================================
Grid-searching the learning rate
===========================================

Plain gradient descent takes a fixed step ``learning_rate`` along the negative
gradient of the cost. Too small a step converges slowly, too large a step
oscillates; ``learning_rate="auto"`` picks safe, fast steps by itself. Here we
grid-search the step of a ``Pipeline(StandardScaler, GDLogisticClassifier)``
on the breast cancer dataset and print the results.
"""

import warnings

from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skloss import GDLogisticClassifier

X, y = load_breast_cancer(return_X_y=True)
pipe = make_pipeline(StandardScaler(), GDLogisticClassifier(max_iter=300))
grid = {"gdlogisticclassifier__learning_rate": [0.003, 0.03, 0.3, 3.0, "auto"]}
search = GridSearchCV(pipe, grid, cv=5)
with warnings.catch_warnings():
    # Small fixed steps run out of epochs by design; the scores show it.
    warnings.simplefilter("ignore", ConvergenceWarning)
    search.fit(X, y)

# %%
# The mean cross-validated accuracy for each step size:
results = search.cv_results_
print(f"{'learning rate':>14} {'accuracy':>9} {'fit time (s)':>13}")
for params, score, fit_time in zip(
    results["params"],
    results["mean_test_score"],
    results["mean_fit_time"],
    strict=True,
):
    lr = params["gdlogisticclassifier__learning_rate"]
    print(f"{lr!s:>14} {score:>9.4f} {fit_time:>13.4f}")
print("best:", search.best_params_)
