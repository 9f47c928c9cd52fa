"""Data for the blocked-epoch tests: 1300 x 7, six blocks of about 217 rows."""

import numpy as np

from skloss.losses import LogLoss, SoftmaxCrossEntropy

N, D = 1300, 7  # six blocks of 217 rows (the last 215)


def blocked_problem(kind, dtype, weighted, rng):
    """``(loss, X, y, sample_weight)`` of a binary, ovr or multinomial problem."""
    X = (rng.standard_normal((N, D)) + 1.0).astype(dtype)
    labels = rng.integers(0, 3, N)
    if kind == "binary":
        loss, y = LogLoss(), (labels == 1).astype(dtype)
    elif kind == "ovr":
        loss, y = LogLoss(), np.eye(3, dtype=dtype)[labels]
    else:
        loss, y = SoftmaxCrossEntropy(), np.eye(3, dtype=dtype)[labels]
    sw = rng.uniform(0.1, 2.0, N).astype(dtype) if weighted else None
    return loss, X, y, sw
