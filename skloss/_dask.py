"""Dask support: the fit route over row blocks, and block-wise prediction.

dask is an optional dependency (the ``dask`` extra). Nothing here imports
it at module import time: :func:`is_dask_array` recognises a dask array by
its type's module, and :func:`import_dask_array` imports ``dask.array`` only
when a dask array is actually passed in.

- :class:`DaskRoute`: the objective's route for dask data (chosen by
  :meth:`skloss._objective.LinearObjective._set_rows`): each evaluation is
  one map of the NumPy route's kernel over the row blocks and one tree
  reduction; only ``(n_features + 1) x n_outputs`` numbers reach the client.
- the data statistics the objective needs, each from one reduction, are in
  :mod:`skloss._dask_stats`.
- :func:`map_rows`: lazy prediction, block by block.

The estimator-side preparation of a fit (checks, labels, weights) is in
:mod:`skloss._dask_fit`.
"""

import copy
import math

import numpy as np
import scipy.sparse as sp

from ._kernels import Rows, route
from ._newton import newton_system

_EXTRA_HINT = (
    "dask is required for dask array input; install it with "
    "`pip install skloss[dask]` (the `dask` extra: dask[array], distributed)."
)


def import_dask_array():
    """Import and return ``dask.array``, or raise an ImportError naming the extra.

    Returns
    -------
    module
        The ``dask.array`` module.
    """
    try:
        import dask.array as da
    except ImportError as exc:
        raise ImportError(_EXTRA_HINT) from exc
    return da


def is_dask_array(X):
    """Whether ``X`` is a dask array, without importing dask.

    Parameters
    ----------
    X : object
        Any input.

    Returns
    -------
    bool

    Examples
    --------
    >>> import numpy as np
    >>> is_dask_array(np.zeros(3))
    False
    """
    cls = type(X)
    return cls.__module__.split(".")[0] == "dask" and cls.__name__ == "Array"


def map_rows(estimator, method, X):
    """Apply ``estimator.<method>`` lazily to each row block of a dask array.

    Each row block is passed to the NumPy method, so only the fitted
    parameters travel to the workers and the result stays a lazy dask array
    chunked like ``X`` along rows. ``X`` must have a single chunk along
    columns (rechunk with ``X.rechunk({1: -1})`` otherwise).

    Parameters
    ----------
    estimator : fitted estimator
    method : str
        ``"decision_function"``, ``"predict"`` or ``"predict_proba"``.
    X : dask array of shape (n_samples, n_features)

    Returns
    -------
    dask array
        Of shape ``(n_samples,)`` or ``(n_samples, n_outputs)``.
    """
    da = import_dask_array()
    if X.ndim != 2:
        raise ValueError(
            f"Expected a 2D dask array, got {X.ndim} dimensions; reshape it to "
            "(n_samples, n_features)."
        )
    if X.numblocks[1] != 1:
        X = X.rechunk({1: -1})
    method_of = getattr(estimator, method)
    probe = method_of(np.zeros((1, X.shape[1]), dtype=X.dtype))

    def func(block):
        return method_of(aligned(block))  # (see aligned: a block that moved)

    if probe.ndim == 1:
        return da.map_blocks(
            func, X, drop_axis=1, dtype=probe.dtype,
            meta=np.empty((0,), dtype=probe.dtype),
        )
    return da.map_blocks(
        func, X, chunks=(X.chunks[0], (probe.shape[1],)),
        dtype=probe.dtype, meta=np.empty((0, 0), dtype=probe.dtype),
    )


# -- rows on the client: the warm start's subsamples -------------------------

# At most this much of the data is brought to the client, once a fit: the
# warm start's every-16th-row subsamples of "auto" (a solve in client memory
# instead of round trips to the cluster). Larger subsamples stay where they
# are, and the fit starts from the initial point as before.
CLIENT_ROWS_MAX_BYTES = 128 * 2**20


def gather_strided(X, y, sw, step, offsets, max_bytes=None):
    """Rows ``offset, offset + step, ...`` of dask data, on the client.

    One computation for all ``offsets``, each giving ``(X, y, sw)`` of NumPy
    arrays (``sw`` None when None). Rows are taken by their index in the
    whole array, as a NumPy slice ``X[offset::step]`` takes them.

    Parameters
    ----------
    X : dask array of shape (n_samples, n_features)
    y : dask array of shape (n_samples,) or (n_samples, n_outputs)
    sw : dask array of shape (n_samples,) or None
    step : int
    offsets : sequence of int
    max_bytes : int, default=None
        The most the rows may take on the client; None for
        ``CLIENT_ROWS_MAX_BYTES``.

    Returns
    -------
    list of tuple or None
        None for sparse blocks or rows of more than ``max_bytes``.

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> X = da.from_array(np.arange(12.0).reshape(6, 2), chunks=(4, 2))
    >>> y = da.from_array(np.arange(6.0), chunks=4)
    >>> [(Xs.tolist(), ys.tolist()) for Xs, ys, _ in gather_strided(X, y, None, 3, [1])]
    [([[2.0, 3.0], [8.0, 9.0]], [1.0, 4.0])]
    """
    if sp.issparse(getattr(X, "_meta", None)):
        return None
    n = X.shape[0]
    row_bytes = (
        X.shape[1] * X.dtype.itemsize
        + math.prod(y.shape[1:]) * y.dtype.itemsize
        + (0 if sw is None else sw.dtype.itemsize)
    )
    if max_bytes is None:
        max_bytes = CLIENT_ROWS_MAX_BYTES
    if sum(len(range(o, n, step)) for o in offsets) * row_bytes > max_bytes:
        return None
    lazy = [
        (X[o::step], y[o::step], None if sw is None else sw[o::step])
        for o in offsets
    ]
    (rows,) = _import_dask().compute(lazy)
    return [tuple(part) for part in rows]


# -- the Dask route: one map over row blocks and one tree reduction per epoch --

# Partial sums combined per node of the reduction tree (dask.array's default
# ``split_every`` for reductions is 4 to 32; 8 keeps the tree shallow).
_FAN_IN = 8


def _import_dask():
    """Import and return ``dask``, or raise an ImportError naming the extra."""
    import_dask_array()
    import dask

    return dask


def row_blocks(array):
    """The row blocks of a dask array (or None) as a list of delayed objects.

    A 2-D array must have one chunk along its columns.
    """
    if array is None:
        return None
    blocks = array.to_delayed()
    if array.ndim == 2:
        if blocks.shape[1] != 1:
            raise ValueError(
                "A dask array in fit must have a single chunk along its "
                f"columns, got {blocks.shape[1]}; rechunk it with "
                "X.rechunk({1: -1})."
            )
        blocks = blocks[:, 0]
    return list(blocks)


def _sum_parts(*parts):
    """Sum of partial results: floats, arrays, tuples of them, or None
    (a part not computed, such as the Newton system's gradient)."""
    first = parts[0]
    if first is None:
        return None
    if isinstance(first, tuple):
        return tuple(_sum_parts(*column) for column in zip(*parts, strict=True))
    total = first.copy() if isinstance(first, np.ndarray) else first
    for part in parts[1:]:
        total = total + part
    return total


def _max_parts(*parts):
    return max(parts)


def tree_reduce(dask, parts, combine=_sum_parts):
    """One delayed tree reduction of ``parts`` (fan-in ``_FAN_IN``)."""
    reduce = dask.delayed(combine, pure=True)
    while len(parts) > 1:
        parts = [
            reduce(*parts[i:i + _FAN_IN]) if len(parts[i:i + _FAN_IN]) > 1
            else parts[i]
            for i in range(0, len(parts), _FAN_IN)
        ]
    return parts[0]


def _block_rows(X, y, sw, fit_intercept):
    # Un-normalised per-block sums: weights as given (normalised over the
    # whole data), or a scale of one (the 1 / n is applied to the total).
    return Rows(X, y, sw, 1.0 if sw is None else None, fit_intercept, np)


def _own_loss(loss):
    # A loss that keeps state between calls gets its own copy per block: a
    # worker runs blocks on several threads.
    return loss if loss.thread_safe else copy.deepcopy(loss)


def _block_loss_gradient(X, y, sw, loss, params, fit_intercept):
    """Loss sum and gradient sum of one block, by the NumPy route for it.

    (A large dense block takes the cache-blocked route, one read of the
    block per epoch instead of two: 1.5x faster on 125,000 x 20 blocks.)
    """
    W, shift = params[:-1, :], params[-1, :]
    rows = _block_rows(X, y, sw, fit_intercept)
    like = np.empty(params.shape, dtype=params.dtype)
    value, grad = route(X, y).loss_gradient(rows, _own_loss(loss), W, shift, like)
    return float(value), grad


def _block_mean_loss(X, y, sw, loss, params):
    rows = _block_rows(X, y, sw, False)
    return route(X, y).mean_loss(rows, _own_loss(loss), params[:-1, :], params[-1, :])


def _block_mean_square(X, y, sw, params):
    rows = _block_rows(X, y, sw, False)
    return route(X, y).mean_square(rows, params[:-1, :], params[-1, :])


def _block_newton_system(X, y, sw, loss, params, scale, gradient=True):
    weights = scale if sw is None else sw
    return newton_system(X, y, weights, _own_loss(loss), params[:-1], params[-1],
                         gradient=gradient)


def aligned(part):
    """A block (NumPy or CSR) with its values aligned for their dtype.

    An array received from another worker is a view of the message's
    buffer at whatever byte offset it arrived at; misaligned, NumPy's
    ufuncs and BLAS take their slow paths (200,000 x 100 in four blocks on
    two workers: a transferred 50,000-row block took 100-140 ms an epoch
    against 10-25 ms for the others, 20 ms with this copy). Aligned blocks
    are returned as they are, without a copy.

    Examples
    --------
    >>> import numpy as np
    >>> buffer = np.zeros(3 * 8 + 1, dtype=np.uint8)
    >>> X = np.frombuffer(buffer.data, dtype=np.float64, count=3, offset=1)
    >>> X.flags.aligned, aligned(X).flags.aligned
    (False, True)
    >>> Y = np.zeros(3)
    >>> aligned(Y) is Y
    True
    """
    if isinstance(part, np.ndarray):
        return part if part.flags.aligned else np.require(part, requirements="A")
    if sp.issparse(part) and not all(
        a.flags.aligned for a in (part.data, part.indices, part.indptr)
    ):
        return part.copy()
    return part


def _on_aligned(block, n_parts, *values):
    """``block(*parts, *args)`` with the ``n_parts`` row blocks aligned."""
    parts = [aligned(p) for p in values[:n_parts]]
    return block(*parts, *values[n_parts:])


def reduce_blocks(dask, block, blocks, *args, combine=_sum_parts):
    """The delayed tree reduction of ``block(*parts, *args)`` over ``blocks``.

    ``blocks`` is a list of tuples of delayed row blocks; each of ``args``
    (parameters, the loss) becomes one key of the graph, shared by every
    task, so it travels to each worker once. Each block's arrays are
    :func:`aligned` on the worker first.
    """
    args = [
        a if a is None or isinstance(a, (bool, int, str))
        else dask.delayed(a, pure=False)
        for a in args
    ]
    func = dask.delayed(_on_aligned, pure=True)
    return tree_reduce(
        dask, [func(block, len(parts), *parts, *args) for parts in blocks], combine
    )


def _client():
    """The current ``distributed`` Client, or None (another scheduler)."""
    try:
        from distributed import default_client

        return default_client()
    except (ImportError, ValueError):  # ValueError: no client running
        return None


def _block_futures(blocks, *arrays):
    """The futures of ``blocks`` when every one is persisted, else None."""
    from distributed import futures_of

    found = {}
    for array in arrays:
        if array is not None:
            found.update((f.key, f) for f in futures_of(array))
    try:
        return [
            tuple(None if b is None else found[b.key] for b in parts)
            for parts in blocks
        ]
    except KeyError:  # X is not persisted: the task graph reads it
        return None


def persist_if_persisted(X, *arrays):
    """``arrays`` persisted when ``X`` is persisted on a ``distributed`` cluster.

    Views of a persisted ``X`` (a selection of its blocks) get new keys,
    so they would be read through a task graph at every epoch; persisted,
    they take the futures path like ``X`` (their blocks are the same
    objects in the workers' memory). Lazy data stay lazy.
    """
    client = _client()
    if client is None or _block_futures([(b,) for b in row_blocks(X)], X) is None:
        return arrays
    return tuple(client.persist(list(arrays)))


def submit_tree(client, block, futures, args, combine=_sum_parts):
    """``combine`` of ``block(*parts, *args)`` over futures, as a result
    (each block's arrays :func:`aligned` on the worker first)."""
    parts = [
        client.submit(_on_aligned, block, len(f), *f, *args, pure=False)
        for f in futures
    ]
    while len(parts) > 1:
        parts = [
            client.submit(combine, *parts[i:i + _FAN_IN], pure=False)
            if len(parts[i:i + _FAN_IN]) > 1 else parts[i]
            for i in range(0, len(parts), _FAN_IN)
        ]
    return parts[0].result()


class DaskRoute:
    """Row blocks of a dask array, each epoch one map and one tree reduction.

    Each block is evaluated by the NumPy route for it
    (:func:`skloss._kernels.route`: one pass, or cache blocks for a large
    dense block) on the worker that holds it, into un-normalised partial
    sums; a tree of additions brings them to one ``(value, gradient)`` and
    only that, ``(n_features + 1) x n_outputs`` numbers, is computed to the
    client. The parameters go to
    the workers with each block's task (persisted data on a ``distributed``
    cluster: tasks submitted on the blocks' futures) or as one key of the
    epoch's task graph (any other data or scheduler).

    Parameters
    ----------
    X : dask array of shape (n_samples, n_features)
        One chunk along columns; blocks of NumPy arrays or CSR matrices.
    y : dask array of shape (n_samples,) or (n_samples, n_outputs)
        Chunked along rows as ``X`` (one chunk along columns).
    sw : dask array of shape (n_samples,) or None
        Weights normalised to sum to one, chunked as ``X``.
    """

    name = "dask"

    def __init__(self, X, y, sw):
        dask = self._dask = _import_dask()
        # The targets and weights are built from the labels by a chain of
        # block-wise steps: computed once onto the workers, not per epoch.
        y, sw = dask.persist(y, sw)
        # (Held: the delayed blocks name the persisted keys, not their futures.)
        self._persisted = (y, sw)
        self._blocks = [
            parts for parts, size in zip(
                zip(row_blocks(X), row_blocks(y),
                    row_blocks(sw) or [None] * X.numblocks[0], strict=True),
                X.chunks[0], strict=True,
            ) if size  # an empty block adds nothing
        ]
        self._client, self._futures = _client(), None
        if self._client is not None:
            self._futures = _block_futures(self._blocks, X, y, sw)

    def _reduce(self, block, *args, combine=_sum_parts):
        """Map ``block(X, y, sw, *args)`` over the blocks, reduce, compute."""
        if not self._blocks:
            raise ValueError("No samples to train on: every row block is empty.")
        if self._futures is not None:
            # Persisted data on a distributed cluster: tasks submitted on
            # its futures, without building and sending a task graph (half
            # the latency of an epoch on small blocks).
            return submit_tree(self._client, block, self._futures, args, combine)
        total = reduce_blocks(self._dask, block, self._blocks, *args, combine=combine)
        (total,) = self._dask.compute(total)
        return total

    @staticmethod
    def _params(W, shift, dtype):
        return np.concatenate([W, shift[None, :]]).astype(dtype, copy=False)

    def loss_gradient(self, rows, loss, W, shift, like):
        """Weighted mean loss and its gradient (see ``GenericRoute``)."""
        params = self._params(W, shift, like.dtype)
        value, grad = self._reduce(
            _block_loss_gradient, loss, params, bool(rows.fit_intercept)
        )
        if rows.sw is None:
            value *= rows.scale
            grad *= rows.scale
        return value, grad.astype(like.dtype, copy=False)

    def newton_system(self, loss, W, shift, weights, gradient=True):
        """The data part of a Newton step, summed over the blocks.

        See :func:`skloss._newton.newton_system`; ``weights`` is the cost's
        per-row scale when there are no sample weights (each block's rows
        then weigh it), ignored otherwise (the blocks' weights are used).
        Without ``gradient`` the blocks compute the Hessian alone.
        """
        scale = float(weights) if np.ndim(weights) == 0 else None
        return self._reduce(
            _block_newton_system, loss, self._params(W, shift, np.float64), scale,
            gradient,
        )

    def mean_loss(self, rows, loss, W, shift):
        """The weighted mean loss of the decision values."""
        total = self._reduce(_block_mean_loss, loss, self._params(W, shift, W.dtype))
        return total * rows.scale if rows.sw is None else total

    def mean_square(self, rows, W, shift):
        """The weighted mean of ``||X @ W + shift||^2`` over samples."""
        total = self._reduce(_block_mean_square, self._params(W, shift, W.dtype))
        return total * rows.scale if rows.sw is None else total
