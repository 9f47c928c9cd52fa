"""Dask support: lazy import and block-wise prediction on dask arrays.

dask is an optional dependency (the ``dask`` extra). Nothing here imports
it at module import time: :func:`is_dask_array` recognises a dask array by
its type's module, and :func:`import_dask_array` imports ``dask.array`` only
when a dask array is actually passed in.
"""

import numpy as np

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
    func = getattr(estimator, method)
    probe = func(np.zeros((1, X.shape[1]), dtype=X.dtype))
    if probe.ndim == 1:
        return da.map_blocks(
            lambda block: func(block), X, drop_axis=1, dtype=probe.dtype,
            meta=np.empty((0,), dtype=probe.dtype),
        )
    return da.map_blocks(
        lambda block: func(block), X, chunks=(X.chunks[0], (probe.shape[1],)),
        dtype=probe.dtype, meta=np.empty((0, 0), dtype=probe.dtype),
    )
