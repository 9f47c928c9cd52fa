"""
=======================================
Writing, checking and tuning your loss
=======================================

A loss is a small class: the loss and its derivative as functions of the
targets ``y`` (0/1) and the raw predictions, a few flags, and its
hyperparameters as constructor arguments. Here we write a smoothed hinge,
let :func:`~skloss.check_loss` test it against its contract, look at it,
and tune its width with a grid search.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skloss import GDLogisticClassifier, Loss, LossContractError, check_loss
from skloss import register_loss
from skloss.plotting import LossFunctionDisplay

# %%
# Write it
# --------
# With the margin ``z = s * raw`` (``s = 2y - 1`` in {-1, +1}) and a width
# ``w``: 0 for ``z >= 1``, ``(1 - z)^2 / (2w)`` within ``w`` of the margin,
# and ``1 - z - w/2`` below, so the hinge's corner becomes a parabola and
# gradient descent gets a curvature bound, ``1 / w``.


@register_loss("smooth_hinge", overwrite=True)
class SmoothHinge(Loss):
    """Quadratically smoothed hinge (Rennie & Srebro, 2005)."""

    is_convex = True

    def __init__(self, width=1.0):
        self.width = width

    @property
    def smoothness(self):  # a bound on the second derivative in raw
        return 1.0 / self.width

    def loss(self, y, raw):
        m = np.clip(1.0 - (2.0 * y - 1.0) * raw, 0.0, None)
        q = np.minimum(m, self.width)  # squaring m itself could overflow
        return q * q / (2.0 * self.width) + (m - q)

    def gradient(self, y, raw):
        s = 2.0 * y - 1.0
        return -s * np.clip((1.0 - s * raw) / self.width, 0.0, 1.0)


# %%
# Check it
# --------
# :func:`~skloss.check_loss` evaluates the loss on random and extreme inputs:
# shapes and dtypes, finite values, the gradient against finite differences,
# the declared convexity and smoothness. A mistake is an error naming the
# property and the worst point found; here, a gradient with the wrong sign:
check_loss(SmoothHinge(width=0.5))
print("SmoothHinge passes check_loss")


class WrongSign(SmoothHinge):
    def gradient(self, y, raw):
        return -super().gradient(y, raw)


try:
    check_loss(WrongSign())
except LossContractError as exc:
    print("WrongSign fails:", str(exc).splitlines()[0][:100])

# %%
# Look at it
# ----------
# Between the hinge (``width -> 0``) and a Huber-like loss (large width):
fig, ax = plt.subplots(figsize=(7, 4.5))
widths = [0.1, 0.5, 1.0, 2.0]
LossFunctionDisplay.from_losses(
    ["hinge", *[SmoothHinge(width=w) for w in widths]],
    labels=["hinge", *[f"smooth_hinge, width={w}" for w in widths]],
    margin_range=(-2, 2), ax=ax,
)
ax.set_title("The smoothed hinge and its width")

# %%
# Tune it
# -------
# Registered by name, the loss and its hyperparameter go into a grid like any
# other parameter (``loss__width``).
X, y = make_classification(n_samples=600, n_features=10, flip_y=0.05,
                           random_state=0)
pipe = make_pipeline(StandardScaler(),
                     GDLogisticClassifier(loss="smooth_hinge", random_state=0))
grid = {"gdlogisticclassifier__loss__width": [0.05, 0.2, 0.5, 1.0, 2.0, 5.0]}
search = GridSearchCV(pipe, grid, cv=5).fit(X, y)
res = search.cv_results_
for width, score in zip(grid["gdlogisticclassifier__loss__width"],
                        res["mean_test_score"], strict=True):
    print(f"width={width:<5} CV accuracy {score:.4f}")

fig, ax = plt.subplots(figsize=(6, 4))
ax.errorbar(grid["gdlogisticclassifier__loss__width"], res["mean_test_score"],
            yerr=res["std_test_score"], marker="o", capsize=3)
ax.set_xscale("log")
ax.set_xlabel("width of the smoothed hinge")
ax.set_ylabel("CV accuracy (mean +/- std)")
ax.set_title("Tuning loss__width")
plt.show()
