"""The routes an epoch can take over the data: where the fast paths live.

The objective (:mod:`skloss._objective`) states what is computed: the
weighted mean loss of the decision values ``X @ W + shift`` and its
gradient. A route says how, for one kind of data, and is chosen once per
dataset by :func:`route`:

- :class:`GenericRoute`: array-API operations only (PyTorch, CuPy, ...);
- :class:`NumpyRoute`: the same sums written with NumPy directly, one pass
  (on small data an epoch is mostly Python overhead, and the array-API
  dispatch of the generic route costs a third of it);
- :class:`BlockedRoute`: dense C-ordered NumPy data larger than one block
  (about 2 MB), a block of rows at a time, each block's two products and
  its loss in the processor's cache, the blocks shared between as many
  threads as BLAS may use (:mod:`skloss._parallel`); partial sums are added
  in block order, so the result does not depend on the threads.

Every route takes the data as a :class:`Rows` record and returns sums in
the objective's layout (``(n_features + 1, n_outputs)``, the intercept
last); none calls back into the objective. Each is tested equal to the
generic route (tests/test_kernels.py).
"""

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ._parallel import _BLOCK_BYTES, epoch_threads, run_blocks, serial_blas


@dataclass(frozen=True)
class Rows:
    """The data a route evaluates: rows, targets and their weights.

    Attributes
    ----------
    X : {array, sparse matrix} of shape (n_samples, n_features)
    y : array of shape (n_samples,) or (n_samples, n_outputs)
    sw : array of shape (n_samples,) or None
        Weights normalised to sum to one; None: uniform, see ``scale``.
    scale : float or None
        ``1 / n_samples`` when ``sw`` is None.
    fit_intercept : bool
        Whether the intercept row of the gradient is computed (else zero).
    xp : module
        The array namespace of the data.
    """

    X: object
    y: object
    sw: object
    scale: object
    fit_intercept: bool
    xp: object


def decision_values(X, W, shift):
    """``X @ W + shift``, of shape (n,) when W has one column.

    Examples
    --------
    >>> import numpy as np
    >>> from skloss._kernels import decision_values
    >>> decision_values(np.eye(2), np.array([[1.0], [2.0]]), np.array([0.5]))
    array([1.5, 2.5])
    """
    K = W.shape[1]
    if type(X) is np.ndarray and not np.any(W):
        # Zero coefficients (the usual starting point, whose cost every fit
        # evaluates): the decision values are the shift, without a pass
        # over X (finite, as validated, so X @ 0 is 0).
        shape = X.shape[:1] if K == 1 else (X.shape[0], K)
        out = np.zeros(shape, dtype=np.result_type(X.dtype, W.dtype))
    else:
        # One product, then the shift added in place (no second n-array).
        out = X @ W[:, 0] if K == 1 else X @ W
    out += shift[0] if K == 1 else shift
    return out


def weighted_sum(rows, values):
    """Weighted sum over samples of per-sample values (n,) or (n, K)."""
    xp, sw = rows.xp, rows.sw
    if sw is None:
        return float(xp.sum(values)) * rows.scale
    if values.ndim == 2:
        return float(xp.sum(sw @ values))
    return float(xp.vecdot(sw, values))


class GenericRoute:
    """Array-API operations only: any namespace, one pass over the data."""

    name = "generic"

    def loss_gradient(self, rows, loss, W, shift, like):
        """Weighted mean loss and its gradient w.r.t. ``(W, shift)``.

        Parameters
        ----------
        rows : Rows
        loss : GuardedLoss
            The loss, called as ``loss.loss_gradient(y, raw)``.
        W : array of shape (n_features, n_outputs)
        shift : array of shape (n_outputs,)
        like : array of shape (n_features + 1, n_outputs)
            Gives the gradient's shape, dtype and device.

        Returns
        -------
        value : float
        grad : array of the shape of ``like``
        """
        xp, X, sw = rows.xp, rows.X, rows.sw
        raw = decision_values(X, W, shift)
        value, g = loss.loss_gradient(rows.y, raw)
        value = weighted_sum(rows, value)
        # Unweighted: the 1/n factor scales the (d + 1, K) result, not g.
        if sw is not None:
            g = g * (sw[:, None] if g.ndim == 2 else sw)
        grad = xp.empty_like(like)
        if W.shape[1] == 1:
            grad[:-1, 0] = X.T @ g
            grad[-1, 0] = xp.sum(g) if rows.fit_intercept else 0.0
        else:
            grad[:-1, :] = X.T @ g
            grad[-1, :] = xp.sum(g, axis=0) if rows.fit_intercept else 0.0
        if sw is None:
            grad *= rows.scale
        return value, grad

    def mean_loss(self, rows, loss, W, shift):
        """The weighted mean loss of the decision values."""
        return weighted_sum(rows, loss.loss(rows.y, decision_values(rows.X, W, shift)))

    def mean_square(self, rows, W, shift):
        """The weighted mean of ``||X @ W + shift||^2`` over samples."""
        Z = decision_values(rows.X, W, shift)
        return weighted_sum(rows, Z * Z)


def rows_loss_gradient(rows, loss, W, shift, grad):
    """Loss and gradient on NumPy or CSR ``rows``, written into ``grad``.

    The generic route's sums with NumPy directly; shared by the epoch and
    the mini-batch evaluator, so a mini-batch step is bit for bit the
    generic one.
    """
    X, sw, K = rows.X, rows.sw, W.shape[1]
    if K == 1:
        raw = X @ W[:, 0]
        raw += shift[0]
    else:
        raw = X @ W
        raw += shift
    value, g = loss.loss_gradient(rows.y, raw)
    if sw is None:
        value = float(value.sum()) * rows.scale
    else:
        value = float(np.sum(sw @ value))
        g = g * (sw if g.ndim == 1 else sw[:, None])
    grad_w = grad[:-1, 0] if K == 1 else grad[:-1, :]
    if type(X) is np.ndarray:
        np.matmul(X.T, g, out=grad_w)  # no temporary
    else:
        grad_w[...] = X.T @ g
    if K == 1:
        grad[-1, 0] = g.sum() if rows.fit_intercept else 0.0
    elif not rows.fit_intercept:
        grad[-1, :] = 0.0
    else:
        # Column sums as a BLAS product, as the blocked route's: sum(axis=0)
        # loops over rows (digits, 1,797 x 10 classes, one thread: 45 -> 6 us
        # of an epoch's ~450).
        grad[-1, :] = np.ones(g.shape[0], dtype=grad.dtype) @ g
    if sw is None:
        grad *= rows.scale
    return value, grad


class NumpyRoute(GenericRoute):
    """NumPy or CSR data in one pass, without array-API dispatch."""

    name = "numpy"

    def loss_gradient(self, rows, loss, W, shift, like):
        return rows_loss_gradient(rows, loss, W, shift, np.empty_like(like))


class BlockedRoute(GenericRoute):
    """Dense C-ordered NumPy data, by blocks of ``block_rows`` rows.

    The same sums as the one-pass route (the loss acts on each sample
    separately), accumulated over blocks; nothing of the size of ``X`` is
    allocated and each block of ``X`` is read once from memory. A loss that
    is not ``thread_safe`` (a user loss that does not say so) runs its
    blocks on one thread.
    """

    name = "blocked"

    def __init__(self, block_rows):
        self.block_rows = block_rows

    def _map(self, rows, block, n_blocks, loss=None, n_first=0):
        """``[block(i) for i in range(n_blocks)]``, the first ``n_first`` on
        this thread before any other (a loss's first output is checked
        there), the rest on the epoch's threads."""
        threads = epoch_threads(n_blocks)
        if loss is not None and not loss.thread_safe:
            threads = 1
        if threads == 1:
            return [block(i) for i in range(n_blocks)]
        # Under serial_blas as the threaded blocks: the same sums either way.
        with serial_blas():
            first = [block(i) for i in range(n_first)]
        return first + run_blocks(block, n_blocks, threads, first=n_first)

    def loss_gradient(self, rows, loss, W, shift, like):
        X, size, sw = rows.X, self.block_rows, rows.sw
        K = W.shape[1]
        n_blocks = -(-X.shape[0] // size)
        ones = None
        if rows.fit_intercept and K > 1:
            ones = np.ones(size, dtype=np.result_type(X.dtype, like.dtype))

        def block(i):
            """Loss sum, ``Xb.T @ g`` and intercept sum of block i."""
            start, stop = i * size, (i + 1) * size
            Xb = X[start:stop]
            # Without the product where W is zero (a fit's start).
            raw = decision_values(Xb, W, shift)
            value, g = loss.loss_gradient(rows.y[start:stop], raw)
            if sw is None:
                value = float(np.sum(value))
            else:
                swb = sw[start:stop]
                value = float(np.sum(swb @ value))
                g = g * (swb if g.ndim == 1 else swb[:, None])
            gb = None
            if rows.fit_intercept:
                # Column sums as a BLAS product: 3x faster than sum(axis=0)
                # on (rows, K) blocks.
                gb = np.sum(g) if g.ndim == 1 else ones[: g.shape[0]] @ g
            return value, Xb.T @ g, gb

        # The loss's first output is checked on this thread, before any other.
        parts = self._map(rows, block, n_blocks, loss, n_first=0 if loss.checked else 1)
        grad = np.zeros_like(like)
        grad_w = grad[:-1, 0] if K == 1 else grad[:-1, :]
        total = 0.0
        intercept = 0.0 if K == 1 else np.zeros(K, dtype=grad.dtype)
        for value, gw, gb in parts:  # in block order: deterministic sums
            total += value
            grad_w += gw
            if gb is not None:
                intercept += gb
        grad[-1, :] = intercept
        if sw is None:
            total *= rows.scale
            grad *= rows.scale
        return total, grad

    def _blocked_mean(self, rows, W, shift, per_sample, loss=None):
        """Weighted mean of ``per_sample(start, raw_block)``, block by block.

        As the epoch: cache-sized blocks on the epoch's threads (each with
        one BLAS thread, so none are left spinning in the way of the epochs
        that follow), partial sums added in block order.
        """
        X, sw, size = rows.X, rows.sw, self.block_rows

        def block(i):
            start = i * size
            raw = decision_values(X[start:start + size], W, shift)
            values = per_sample(start, raw)
            if sw is None:
                return float(np.sum(values))
            return float(np.sum(sw[start:start + size] @ values))

        parts = self._map(rows, block, -(-X.shape[0] // size), loss)
        total = 0.0
        for part in parts:  # in block order: deterministic
            total += part
        return total * rows.scale if sw is None else total

    def mean_loss(self, rows, loss, W, shift):
        if not loss.checked:
            # The first evaluation takes the one-pass route, which checks
            # the loss's output.
            return super().mean_loss(rows, loss, W, shift)
        y, size = rows.y, self.block_rows

        def losses(start, raw):
            return loss.loss(y[start:start + size], raw)

        return self._blocked_mean(rows, W, shift, losses, loss)

    def mean_square(self, rows, W, shift):
        def squares(start, raw):
            raw *= raw
            return raw

        return self._blocked_mean(rows, W, shift, squares)


def block_rows(X, y):
    """Rows per block of a cache-blocked epoch over ``X``, or None.

    Dense C-ordered NumPy data larger than one block is processed in equal
    blocks of at most about ``_BLOCK_BYTES``: each block of ``X`` is
    multiplied by ``W``, its loss gradient computed, and multiplied back by
    its transpose while it is still in the processor's cache, so an epoch
    reads ``X`` from memory once instead of twice. The blocks depend on the
    shape of ``X`` only, not on the number of threads.
    """
    if (
        sp.issparse(X) or type(X) is not np.ndarray
        or not X.flags.c_contiguous or not isinstance(y, np.ndarray)
    ):
        return None
    rows = max(256, _BLOCK_BYTES // max(X.shape[1] * X.itemsize, 1))
    # Blocks of equal size (none left short for one thread to finish
    # alone): as many as blocks of at most ``rows`` need.
    n_blocks = -(-X.shape[0] // rows)
    return -(-X.shape[0] // n_blocks) if n_blocks > 1 else None


def route(X, y):
    """The route for an epoch over ``(X, y)``: decided once per dataset.

    Examples
    --------
    >>> import numpy as np
    >>> from skloss._kernels import route
    >>> route(np.zeros((10, 2)), np.zeros(10)).name
    'numpy'
    >>> route(np.zeros((300_000, 10)), np.zeros(300_000)).name
    'blocked'
    """
    rows = block_rows(X, y)
    if rows is not None:
        return BlockedRoute(rows)
    if (sp.issparse(X) or type(X) is np.ndarray) and type(y) is np.ndarray:
        return NumpyRoute()
    return GenericRoute()


def renormalised(sw, n, xp):
    """The weights of ``n`` rows, renormalised to sum to one.

    Returns ``(sw, scale, weight)``: the normalised weights (None when
    unweighted, with ``scale = 1 / n``) and the rows' total weight (their
    number when unweighted); None when the rows all have zero weight.

    Examples
    --------
    >>> import numpy as np
    >>> from skloss._kernels import renormalised
    >>> renormalised(np.array([1.0, 3.0]), 2, np)
    (array([0.25, 0.75]), None, 4.0)
    >>> renormalised(None, 4, np)
    (None, 0.25, 4.0)
    """
    if sw is None:
        return None, 1.0 / max(n, 1), float(n)
    total = float(xp.sum(sw))
    return (sw / total, None, total) if total > 0 else None


class BatchRows:
    """Mini-batch :class:`Rows` of NumPy or CSR data, gathered fast.

    Dense rows are gathered into one reused buffer (valid until the next
    call); the batch's weights are renormalised to sum to one.

    Parameters
    ----------
    rows : Rows
        The full data.
    batch_size : int
        The largest batch (the buffer's size).
    """

    def __init__(self, rows, batch_size):
        self.rows = rows
        X = rows.X
        self.buffer = (
            None if sp.issparse(X)
            else np.empty((batch_size, X.shape[1]), dtype=X.dtype)
        )

    def __call__(self, idx):
        """``(Rows of the batch, its total weight)``, or None at zero weight.

        The batch weight is the number of rows (unweighted data) or the
        batch's share of the normalised sample weights.
        """
        full, m = self.rows, idx.shape[0]
        weights = renormalised(None if full.sw is None else full.sw[idx], m, np)
        if weights is None:
            return None
        sw, scale, weight = weights
        if self.buffer is not None:
            # Valid indices: mode="clip" spares take() its buffered copy.
            X = np.take(full.X, idx, axis=0, out=self.buffer[:m], mode="clip")
        else:
            X = full.X[idx]
        return Rows(X, full.y[idx], sw, scale, full.fit_intercept, np), weight
