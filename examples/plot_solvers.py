"""
==================================
Solvers compared: epochs and time
==================================

``solver`` picks how the cost is followed down: ``"gd"`` (full-batch
gradient descent, with ``learning_rate="auto"`` Barzilai-Borwein steps and a
line search), ``"nesterov"`` (accelerated full-batch steps), and the
mini-batch solvers ``"sgd"`` and ``"adam"``, which take many cheap steps
per epoch. An epoch is one pass over the data for all of them, so cost per
epoch compares their progress per pass, and cost per second compares what
a pass costs. The time of each epoch is recorded with a callback through
scikit-learn's callback API (``set_callbacks``).
"""

import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_classification
from sklearn.preprocessing import StandardScaler

from skloss import GDLogisticClassifier


class EpochTimer:
    """Record the wall-clock time at the end of every epoch."""

    def setup(self, estimator, context):
        self.start, self.times = time.perf_counter(), []

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context):
        if context.task_name == "epoch":
            self.times.append(time.perf_counter() - self.start)


X, y = make_classification(n_samples=20_000, n_features=40, n_informative=10,
                           random_state=0)
X = StandardScaler().fit_transform(X)
solvers = {
    "gd": dict(solver="gd"),
    "nesterov": dict(solver="nesterov"),
    "sgd": dict(solver="sgd", batch_size=256),
    "adam": dict(solver="adam", batch_size=256),
}
fits = {}
for name, params in solvers.items():
    timer = EpochTimer()
    clf = GDLogisticClassifier(alpha=1e-4, max_iter=30, tol=None,
                               random_state=0, **params)
    clf.set_callbacks(timer).fit(X, y)
    fits[name] = (clf, timer.times)
    print(f"{name:>9}: final cost {clf.loss_curve_[-1]:.5f} after "
          f"{clf.n_iter_} epochs, {timer.times[-1]:.2f} s")

# %%
# Distance to the optimum per epoch and per second
# ------------------------------------------------
# All four minimise the same convex cost, so we draw each curve's distance
# to its minimum, found by a long run of "gd" with a tight ``tol``. The
# costs of "sgd" and "adam" are the mean of each epoch's mini-batch costs
# (as SGDClassifier and MLPClassifier report them), measured at moving
# weights: they level off at the noise of their constant step and may dip
# below the optimum (clipped at 1e-8 here). The full-batch solvers report
# the full cost after each epoch and keep descending; "gd" with its "auto"
# steps gets there in the fewest epochs.
optimum = GDLogisticClassifier(alpha=1e-4, max_iter=2000, tol=1e-10).fit(X, y)
best = min(optimum.loss_curve_)
fig, (ax_epoch, ax_time) = plt.subplots(1, 2, figsize=(11, 4.5), sharey=True)
for name, (clf, times) in fits.items():
    gap = np.maximum(np.asarray(clf.loss_curve_) - best, 1e-8)
    epochs = range(1, len(gap) + 1)
    ax_epoch.plot(epochs, gap, label=name)
    ax_time.plot(times, gap, label=name)
ax_epoch.set_yscale("log")
ax_epoch.set_xlabel("epoch")
ax_epoch.set_ylabel("training cost minus its minimum")
ax_time.set_xlabel("seconds since the start of fit")
ax_epoch.legend()
ax_epoch.set_title("Distance to the optimum per epoch")
ax_time.set_title("... and per second")
fig.tight_layout()
plt.show()
