"""In-place NumPy kernels of the built-in losses' formulas.

Each function computes exactly what the readable, array-API formula of its
loss computes (tested equal in tests/test_numpy_kernels.py), with NumPy's
``out=`` arguments instead of temporaries and without boolean masks. They
pay on the epoch's hot path (see benchmarks/run.py, P2 and P5) and are used
only for NumPy floating arrays; every other array library takes the formula.
"""

import numpy as np


def applies(raw, t):
    """Whether a kernel may run: NumPy floating ``raw``, ``t`` of its shape."""
    return (
        type(raw) is np.ndarray and raw.dtype.kind == "f"
        and getattr(t, "shape", None) == raw.shape
    )


def log_loss_gradient(t, raw):
    """Log loss ``log(1 + e^r) - t r`` and its gradient ``sigmoid(r) - t``.

    7x faster than the formula: ``sigmoid(r) = (1 + sign(r) tanh(|r| / 2)) / 2``
    with ``tanh(|r| / 2) = (1 - e) / (1 + e)``, ``e = exp(-|r|)``, in place.

    Examples
    --------
    >>> import numpy as np
    >>> from skloss.losses._numpy_kernels import log_loss_gradient
    >>> loss, grad = log_loss_gradient(np.array([1.0]), np.array([0.0]))
    >>> round(float(loss[0]), 6), float(grad[0])
    (0.693147, -0.5)
    """
    e = np.abs(raw)
    np.negative(e, out=e)
    np.exp(e, out=e)
    loss = np.log1p(e)
    tmp = np.maximum(raw, 0)
    loss += tmp
    np.multiply(t, raw, out=tmp)
    loss -= tmp
    np.add(e, 1.0, out=tmp)
    np.subtract(1.0, e, out=e)
    e /= tmp
    np.copysign(e, raw, out=e)
    e *= 0.5
    e += 0.5
    e -= t
    return loss, e


def softmax_cross_entropy_gradient(t, raw):
    """Softmax cross-entropy of (n, K) ``raw`` and its gradient, or None.

    Without the max-shift while the row sums of ``exp(raw)`` stay normal
    and finite (checked on n values), with row sums as BLAS products, in
    place; None when the shift is needed (the caller uses the formula).

    Examples
    --------
    >>> import numpy as np
    >>> from skloss.losses._numpy_kernels import softmax_cross_entropy_gradient
    >>> loss, grad = softmax_cross_entropy_gradient(
    ...     np.array([[1.0, 0.0]]), np.zeros((1, 2)))
    >>> round(float(loss[0]), 6), grad.tolist()
    (0.693147, [[-0.5, 0.5]])
    """
    finfo = np.finfo(raw.dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(raw)
        ones = np.ones(raw.shape[1], dtype=raw.dtype)
        sums = e @ ones
        lo, hi = np.min(sums), np.max(sums)
    if not (lo >= finfo.tiny * 2.0**finfo.nmant and hi <= finfo.max):
        return None
    total = t @ ones
    loss = np.log(sums)
    loss *= total
    loss -= np.einsum("ij,ij->i", t, raw)
    np.divide(total, sums, out=sums)
    e *= sums[:, None]
    e -= t
    return loss, e
