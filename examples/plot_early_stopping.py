"""
=======================================
Early stopping and the validation curve
=======================================

With ``early_stopping=True``, a stratified ``validation_fraction`` of the
training data is held out; after each epoch the model is scored on it, and
training stops once ``n_iter_no_change`` epochs have not improved the
score. The weights kept are those of the best epoch, not the last. The
training cost keeps falling while the validation score stalls: that gap is
what early stopping watches.
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import ValidationCurveDisplay, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skloss import GDLogisticClassifier
from skloss.plotting import LossCurveDisplay

# Few samples, correlated features and 5% flipped labels: easy to overfit.
X, y = make_classification(n_samples=600, n_features=30, n_informative=3,
                           n_redundant=25, flip_y=0.05, class_sep=0.7,
                           random_state=1)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)

# %%
# The cost and the validation score per epoch
# -------------------------------------------
# A small fixed step makes the epochs visible. The dashed lines (right
# axis) are the validation accuracy after each epoch, the dots the epoch
# whose weights each model kept.
models = [
    make_pipeline(StandardScaler(), GDLogisticClassifier(
        learning_rate=0.05, early_stopping=True, n_iter_no_change=n,
        validation_fraction=0.2, max_iter=800, random_state=0))
    for n in (5, 30)
]
for model in models:
    model.fit(X_train, y_train)
    clf = model[-1]
    print(f"n_iter_no_change={clf.n_iter_no_change:>2}: stopped after "
          f"{clf.n_iter_} epochs, best validation accuracy "
          f"{max(clf.validation_scores_):.3f} at epoch "
          f"{int(np.argmax(clf.validation_scores_)) + 1}, test accuracy "
          f"{model.score(X_test, y_test):.3f}")
fig, ax = plt.subplots(figsize=(8, 4.5))
disp = LossCurveDisplay.from_estimator(models, ax=ax)
ax.set_title("Early stopping: training cost and validation accuracy")

# %%
# The validation curve of the penalty
# -----------------------------------
# Early stopping regularises by stopping; the ``alpha`` penalty regularises
# the optimum itself. scikit-learn's
# :class:`~sklearn.model_selection.ValidationCurveDisplay` works with the
# estimator as it is. On 200 samples with 100 features, 5 of them
# informative, an L1 penalty shows the classic shape: the training score
# falls as ``alpha`` grows, the cross-validated score rises while the
# penalty removes noise features, then both collapse once it removes the
# informative ones too.
X, y = make_classification(n_samples=200, n_features=100, n_informative=5,
                           n_redundant=0, flip_y=0.05, random_state=0)
fig, ax = plt.subplots(figsize=(7, 4.5))
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    curve = ValidationCurveDisplay.from_estimator(
        make_pipeline(StandardScaler(),
                      GDLogisticClassifier(penalty="l1", random_state=0)),
        X, y, param_name="gdlogisticclassifier__alpha",
        param_range=np.logspace(-3, 0, 7), cv=5, ax=ax,
    )
best = np.argmax(curve.test_scores.mean(axis=1))
print(f"best alpha {curve.param_range[best]:.3g}: CV accuracy "
      f"{curve.test_scores.mean(axis=1)[best]:.3f}")
ax.set_title("Validation curve of alpha (L1 penalty)")
plt.show()
