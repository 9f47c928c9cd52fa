"""
===============================
Streaming data with partial_fit
===============================

When the data arrive in chunks, or do not fit in memory, ``partial_fit``
trains on one chunk at a time: each call runs one epoch of the solver over
that chunk and continues from the current weights. The first call must name
every class (``classes=``), since a chunk may lack some. ``loss_curve_``
grows by one entry per call, the cost on that chunk.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split

from skloss import GDLogisticClassifier

X, y = make_classification(n_samples=12_000, n_features=20, n_informative=6,
                           n_classes=3, n_clusters_per_class=1, random_state=0)
X_stream, X_test, y_stream, y_test = train_test_split(X, y, test_size=2000,
                                                      random_state=0)
chunks = np.array_split(np.arange(len(y_stream)), 40)

# %%
# One pass over the stream, chunk by chunk
# ----------------------------------------
# "sgd" takes mini-batch steps within each chunk; "gd" takes one full step
# per chunk. We keep the held-out accuracy after every chunk.
classes = np.unique(y)
history = {}
for solver in ["sgd", "gd"]:
    clf = GDLogisticClassifier(solver=solver, batch_size=64, random_state=0)
    accuracy = []
    for rows in chunks:
        clf.partial_fit(X_stream[rows], y_stream[rows], classes=classes)
        accuracy.append(clf.score(X_test, y_test))
    history[solver] = (clf.loss_curve_, accuracy)
    print(f"{solver:>4}: {clf.n_iter_} partial_fit calls, held-out accuracy "
          f"{accuracy[-1]:.3f}")

full = GDLogisticClassifier(random_state=0).fit(X_stream, y_stream)
print(f"full-batch fit on all the data: held-out accuracy "
      f"{full.score(X_test, y_test):.3f}")

# %%
# The cost on each chunk and the held-out accuracy
# ------------------------------------------------
# With ``learning_rate="auto"``, "gd" takes one adaptive full step per
# chunk and is close to the model fitted on all the data after about ten
# chunks. "sgd" takes four steps per chunk (batches of 64), each of the
# conservative "auto" size that lets every mini-batch step descend; in one
# pass it climbs more slowly here. Both curves of the cost are noisy because
# every entry is measured on a different chunk.
fig, (ax_cost, ax_acc) = plt.subplots(1, 2, figsize=(11, 4.5))
for solver, (costs, accuracy) in history.items():
    calls = np.arange(1, len(costs) + 1)
    ax_cost.plot(calls, costs, label=solver)
    ax_acc.plot(calls, accuracy, label=solver)
ax_acc.axhline(full.score(X_test, y_test), color="0.5", linestyle=":",
               label="fit on all data")
ax_cost.set_xlabel("partial_fit call (chunk of 250 samples)")
ax_cost.set_ylabel("cost on the chunk")
ax_acc.set_xlabel("partial_fit call (chunk of 250 samples)")
ax_acc.set_ylabel("held-out accuracy")
ax_cost.legend()
ax_acc.legend()
fig.tight_layout()
plt.show()
