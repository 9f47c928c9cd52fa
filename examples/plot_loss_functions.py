"""
=============================
Loss functions side by side
=============================

A loss measures how far a raw prediction is from the answer. For a binary
problem with labels ``y`` in {-1, +1} and raw prediction ``raw = x @ w + b``,
every built-in loss is a function of the *margin* ``m = y * raw``: positive
when the sample is on the right side of the boundary, large when it is there
with confidence. The shape of that function is what makes losses train
differently, and :class:`~skloss.plotting.LossFunctionDisplay` draws it.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_blobs
from sklearn.inspection import DecisionBoundaryDisplay

from skloss import GDLogisticClassifier, get_loss
from skloss.plotting import LossFunctionDisplay

# %%
# Binary losses against the margin
# --------------------------------
# Hinge and squared hinge are exactly zero past a margin of 1: samples that
# are classified with enough margin stop contributing (support vectors). Log
# loss never reaches zero but its slope fades; exponential loss grows fast on
# misclassified samples, which makes it sensitive to label noise; the
# perceptron only asks for the right side; focal loss (``gamma=2``) flattens
# the well-classified tail further than log loss, so training concentrates on
# the hard samples.
names = ["log_loss", "hinge", "squared_hinge", "modified_huber", "exponential",
         "perceptron", "focal"]
fig, ax = plt.subplots(figsize=(7, 4.5))
disp = LossFunctionDisplay.from_losses(
    [*names[:-1], get_loss("focal", gamma=2.0)],
    labels=[*names[:-1], "focal (gamma=2)"], margin_range=(-2, 3), ax=ax,
)
ax.set_ylim(0, 5)
ax.set_title("Binary losses against the margin y * raw")
print(f"{'loss':>16} {'m = -1':>7} {'m = 0':>7} {'m = 1':>7} {'m = 2':>7}")
for label, values in zip(disp.labels, disp.values, strict=True):
    at = np.interp([-1.0, 0.0, 1.0, 2.0], disp.margins, values) + 0.0
    print(f"{label:>16} " + " ".join(f"{v:7.3f}" for v in at))

# %%
# The derivative: how hard each sample pulls
# ------------------------------------------
# Gradient descent moves the weights along ``sum_i dloss/dm_i * y_i x_i``, so
# the derivative is the pull of a sample with margin ``m``. The dashed lines
# show that hinge pulls with constant force until the margin reaches 1 and
# then not at all, log loss pulls a little from everyone, and focal loss with
# a large ``gamma`` barely pulls from the samples it already gets right.
fig, ax = plt.subplots(figsize=(7, 4.5))
LossFunctionDisplay.from_losses(
    ["log_loss", "hinge", get_loss("focal", gamma=5.0)],
    labels=["log_loss", "hinge", "focal (gamma=5)"],
    margin_range=(-2, 3), derivative=True, ax=ax,
)
ax.set_title("Losses (solid) and their derivatives (dashed)")

# %%
# Multiclass losses against the true-class logit
# ----------------------------------------------
# A multiclass loss couples one raw score per class. With the other logits
# held at 0, raising the logit of the true class lowers the softmax cross
# entropy smoothly, while the Crammer-Singer multiclass hinge is zero once
# the true class leads the others by 1.
fig, ax = plt.subplots(figsize=(7, 4.5))
LossFunctionDisplay.from_losses(
    ["softmax_cross_entropy", "multiclass_hinge", "multiclass_focal"],
    n_classes=3, margin_range=(-3, 3), ax=ax,
)
ax.set_title("Multiclass losses, 3 classes")

# %%
# What the shapes do to a boundary
# --------------------------------
# Two clusters and three mislabelled points far on the wrong side. Hinge
# grows only linearly on them and its boundary stays between the clusters;
# log loss tilts a little; the exponential loss grows fastest and tilts the
# boundary until it classifies the outliers "right", misclassifying more of
# the clusters (lower training accuracy).
# scikit-learn's :class:`~sklearn.inspection.DecisionBoundaryDisplay`
# draws the fitted boundaries.
X, y = make_blobs(n_samples=200, centers=[(-2, 0), (2, 0)], cluster_std=1.0,
                  random_state=0)
X = np.vstack([X, [[6.0, 4.0], [6.5, 3.5], [7.0, 4.5]]])
y = np.concatenate([y, [0, 0, 0]])
fig, axes = plt.subplots(1, 3, figsize=(12, 4), sharey=True)
for ax, loss in zip(axes, ["hinge", "log_loss", "exponential"], strict=True):
    clf = GDLogisticClassifier(loss=loss, alpha=1e-3, random_state=0).fit(X, y)
    DecisionBoundaryDisplay.from_estimator(
        clf, X, response_method="predict", alpha=0.3, ax=ax, cmap="coolwarm")
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", edgecolor="k", s=20)
    ax.set_title(f"{loss}: training accuracy {clf.score(X, y):.3f}")
    print(f"{loss:>12}: boundary normal {clf.coef_.ravel().round(2)}")
fig.tight_layout()
plt.show()
