"""
================================================
Grid-searching the learning rate, curve by curve
================================================

Plain gradient descent takes a fixed step ``learning_rate`` along the
negative gradient of the cost. Too small a step crawls, too large a step
oscillates or diverges; ``learning_rate="auto"`` picks safe, fast steps by
itself. A grid search tells which step scores best; the cost curve of each
candidate tells *why*.
"""

import warnings

import matplotlib.pyplot as plt
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skloss import GDLogisticClassifier
from skloss.plotting import LossCurveDisplay

X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
pipe = make_pipeline(StandardScaler(),
                     GDLogisticClassifier(max_iter=200, random_state=0))
grid = {"gdlogisticclassifier__learning_rate": [0.01, 0.1, 1.0, 4.0, "auto"]}
search = GridSearchCV(pipe, grid, cv=5)
with warnings.catch_warnings():
    # Small fixed steps run out of epochs by design; the curves show it.
    warnings.simplefilter("ignore", ConvergenceWarning)
    search.fit(X_train, y_train)

# %%
# The scores
# ----------
results = search.cv_results_
print(f"{'learning rate':>14} {'CV accuracy':>12} {'fit time (s)':>13}")
for params, score, fit_time in zip(
    results["params"], results["mean_test_score"], results["mean_fit_time"],
    strict=True,
):
    lr = params["gdlogisticclassifier__learning_rate"]
    print(f"{lr!s:>14} {score:>12.4f} {fit_time:>13.4f}")
print("best:", search.best_params_,
      f"test accuracy {search.score(X_test, y_test):.4f}")

# %%
# The cost curve of every candidate
# ---------------------------------
# :meth:`~skloss.plotting.LossCurveDisplay.from_search` refits each candidate
# once on the data it is given (here the training set: five fits of at most
# 200 epochs) and draws its cost per epoch, coloured by its cross-validated
# score. The dot marks the epoch whose weights the model kept. On a log
# scale, the small steps are still descending when they run out of epochs;
# ``"auto"`` reaches the lowest cost in a few dozen epochs. The lowest
# training cost is not the best cross-validated score, though: with the
# small default penalty (``alpha=1e-4``), the model that fits the training
# folds best is not the one that generalises best, which is what the
# search measures.
fig, ax = plt.subplots(figsize=(8, 5))
disp = LossCurveDisplay.from_search(search, X_train, y_train, ax=ax,
                                    log_scale=True)
ax.set_title("Training cost per epoch of each learning-rate candidate")
plt.show()
