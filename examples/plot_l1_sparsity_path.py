"""
======================
The L1 sparsity path
======================

``penalty="l1"`` adds ``alpha * ||W||_1`` to the cost; every solver applies
it by a proximal step (soft thresholding), so weights become exactly zero,
not merely small. Raising ``alpha`` zeroes more of them: the *path* of the
weights against ``alpha`` shows the order in which features leave the
model. Each fit starts from the previous one (``warm_start=True``), which
is how paths are computed cheaply.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.preprocessing import StandardScaler

from skloss import GDLogisticClassifier

data = load_breast_cancer()
X = StandardScaler().fit_transform(data.data)
y = data.target
alphas = np.logspace(-0.5, -3.5, 25)  # from strong to weak
clf = GDLogisticClassifier(penalty="l1", warm_start=True, max_iter=2000,
                           random_state=0)
path, nonzero = [], []
for alpha in alphas:
    clf.set_params(alpha=alpha).fit(X, y)
    path.append(clf.coef_.ravel().copy())
    nonzero.append(np.count_nonzero(clf.coef_))
path = np.array(path)
for alpha, k in list(zip(alphas, nonzero, strict=True))[::6]:
    print(f"alpha={alpha:.4f}: {k:>2} of {X.shape[1]} weights non-zero")

# %%
# The path
# --------
# The first features to enter are the ones the strongest penalty cannot
# remove: here the "worst" measurements of the tumour.
first = [data.feature_names[j] for j in np.flatnonzero(path[2])]
print("first features in the model:", ", ".join(first))
fig, (ax_path, ax_count) = plt.subplots(
    2, 1, figsize=(8, 7), sharex=True, gridspec_kw=dict(height_ratios=[3, 1]))
ax_path.plot(alphas, path, linewidth=1)
ax_path.set_xscale("log")
ax_path.invert_xaxis()
ax_path.set_ylabel("weight")
ax_path.set_title("Weights of the 30 features along the L1 path")
ax_count.plot(alphas, nonzero, marker="o")
ax_count.set_xlabel("alpha (decreasing)")
ax_count.set_ylabel("non-zero weights")
fig.tight_layout()
plt.show()
