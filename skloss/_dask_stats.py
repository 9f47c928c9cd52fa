"""Data statistics of a dask array, each from one reduction over its blocks.

:class:`DaskStatistics` is :class:`skloss._scaling.DataStatistics` for the
Dask route (:class:`skloss._dask.DaskRoute`): column moments, row norms and
the power-of-two rescaling of features of extreme magnitude, with only
``n_features``-sized results reaching the client.
:func:`dask_route_and_statistics` builds both for the objective.
"""

import numpy as np
import scipy.sparse as sp

from ._dask import DaskRoute, _max_parts, import_dask_array, reduce_blocks, row_blocks
from ._scaling import (
    ORDINARY_MAGNITUDE,
    magnitude_exponents,
    rescaling_of,
    row_sq_norms,
)


def _block_moments(X, y, sw):
    """Column maxima, minima, weighted sums and weighted sums of squares."""
    if sp.issparse(X):
        hi = X.max(axis=0).toarray().ravel()
        lo = X.min(axis=0).toarray().ravel()
        sq = X.multiply(X)
        if sw is None:
            s, q = np.asarray(X.sum(axis=0)).ravel(), np.asarray(sq.sum(axis=0)).ravel()
        else:
            s, q = np.asarray(X.T @ sw).ravel(), np.asarray(sq.T @ sw).ravel()
    else:
        hi, lo = X.max(axis=0), X.min(axis=0)
        if sw is None:
            s, q = X.sum(axis=0, dtype=np.float64), np.einsum("ij,ij->j", X, X)
        else:
            s, q = X.T @ sw, np.einsum("i,ij,ij->j", sw, X, X)
    f64 = np.float64
    return (hi.astype(f64), lo.astype(f64), s.astype(f64), q.astype(f64))


def _combine_moments(*parts):
    his, los, sums, squares = zip(*parts, strict=True)
    return (np.max(his, axis=0), np.min(los, axis=0),
            np.sum(sums, axis=0), np.sum(squares, axis=0))


def _block_max_sq_norm(X, y, sw, mean, inv_scale):
    if inv_scale is not None:
        X = X @ sp.diags(inv_scale) if sp.issparse(X) else X * inv_scale
        mean = None if mean is None else mean * inv_scale
    if sp.issparse(X):
        sq = np.asarray(X.multiply(X).sum(axis=1)).ravel()
        if mean is not None:
            sq = sq - 2.0 * np.asarray(X @ mean).ravel() + float(mean @ mean)
    else:
        sq = row_sq_norms(np.ascontiguousarray(X), mean)
    if sw is not None:
        sq = np.where(sw > 0, sq, 0.0)
    return float(np.max(sq)) if sq.size else 0.0


def _block_scaled_sums(X, y, sw, factors, centre, squares=False):
    """Weighted column sums of ``x * factors`` (float64), or with
    ``squares`` of ``(x * factors - centre) ** 2`` (``centre`` may be None).

    The factors are exact powers of two: a block of extreme magnitude is
    brought to ~1 without rounding before anything is summed or squared.
    """
    if sp.issparse(X):
        Xp = X.astype(np.float64) @ sp.diags(factors)

        def column_sums(A):
            return (np.asarray(A.sum(axis=0)).ravel() if sw is None
                    else np.asarray(A.T @ sw).ravel())

        if not squares:
            return column_sums(Xp)
        total = column_sums(Xp.multiply(Xp))
        if centre is not None:
            # sum w (x - c)^2 = sum w x^2 - 2 c sum w x + c^2 sum w, without
            # densifying the block
            weight = X.shape[0] if sw is None else float(np.sum(sw))
            total = total - 2.0 * centre * column_sums(Xp) + centre**2 * weight
        return total
    Xp = np.asarray(X, dtype=np.float64) * factors
    if squares:
        if centre is not None:
            Xp = Xp - centre
        Xp = Xp * Xp
    return Xp.sum(axis=0) if sw is None else sw @ Xp


# Unweighted column moments of dask arrays, by the array's name (a dask
# array's name identifies its content). The fit's input check computes them
# in the same reduction as its other checks (finiteness is read off their
# maxima and minima), and the statistics of that array, unweighted, take
# them from here: one pass over X and one round trip fewer a fit.
_KNOWN_MOMENTS = {}


def unweighted_moments(dask, X):
    """The delayed unweighted column moments of the dask array ``X``.

    ``(maxima, minima, sums, sums of squares)`` of its columns, as
    :class:`DaskStatistics` computes them without weights; NaN or infinite
    maxima or minima exactly when ``X`` holds a NaN or an infinity.
    """
    return reduce_blocks(dask, _block_moments,
                         [(b, None, None) for b in row_blocks(X)],
                         combine=_combine_moments)


def remember_moments(X, moments):
    """Keep the unweighted ``moments`` of ``X`` for its statistics."""
    _KNOWN_MOMENTS[X.name] = moments


def forget_moments(X):
    """Drop what :func:`remember_moments` kept for ``X`` (at a fit's end)."""
    _KNOWN_MOMENTS.pop(X.name, None)


class DaskStatistics:
    """:class:`skloss._scaling.DataStatistics` of a dask array, by reductions.

    The column moments (maxima, minima, weighted sums and sums of squares)
    come from one map-reduce over the blocks, made the first time any of
    them is asked for; the largest row norm from another. Only
    ``n_features``-sized results reach the client.

    Parameters
    ----------
    X, sw : dask arrays
        As for :class:`DaskRoute` (``sw`` normalised, or None).
    scale : float or None
        ``1 / n_samples`` when ``sw`` is None.
    route : DaskRoute
        Its blocks are reduced over.
    """

    def __init__(self, X, sw, scale, route):
        self.X, self.sw, self.scale, self.route = X, sw, scale, route
        self._moments = None

    def _column_moments(self):
        if self._moments is None:
            known = _KNOWN_MOMENTS.get(self.X.name) if self.sw is None else None
            self._moments = known if known is not None else self.route._reduce(
                _block_moments, combine=_combine_moments
            )
        return self._moments

    def _weighted(self, total):
        return total * self.scale if self.sw is None else total

    def weighted_mean(self):
        """The weighted mean of each column (NumPy, in the dtype of X)."""
        return self._weighted(self._column_moments()[2]).astype(self.X.dtype)

    def column_mean_squares(self):
        """Weighted mean of ``x_ij ** 2`` for each column j (float64)."""
        return self._weighted(self._column_moments()[3])

    column_squares = column_mean_squares

    def is_ordinary(self):
        """Whether every column's largest magnitude is ordinary (or zero)."""
        if self.X.shape[0] == 0:
            return True
        lo, hi = ORDINARY_MAGNITUDE
        col_hi, col_lo = self._column_moments()[:2]
        colmax = np.maximum(np.abs(col_hi), np.abs(col_lo))
        return not np.any((colmax > hi) | ((colmax > 0) & (colmax < lo)))

    def rescaling(self, fit_intercept, l2, smoothness):
        """Mean and power-of-two factors for features of extreme magnitude.

        As :meth:`skloss._scaling.DataStatistics.rescaling`, from the
        moments of the blocks brought to magnitude ~1 by exact powers of two
        on the workers (one reduction for the mean, one for the centred
        squares): nothing overflows, and X stays on the cluster.
        """
        col_hi, col_lo = self._column_moments()[:2]
        colmax = np.maximum(np.abs(col_hi), np.abs(col_lo))
        constant = col_hi == col_lo
        e = magnitude_exponents(colmax, self.X.dtype)
        factors = np.ldexp(1.0, -e)
        mean_p = None
        if fit_intercept:
            mean_p = self._weighted(
                self.route._reduce(_block_scaled_sums, factors, None)
            )
        sq = self._weighted(self.route._reduce(_block_scaled_sums, factors,
                                               mean_p, True))
        return rescaling_of(colmax, constant, e, mean_p, sq, self.X.dtype,
                            l2, smoothness)

    def mean_sq_norm(self, mean):
        """Weighted mean of ``||x_i - mu||^2`` (+1 when centred: ``mean``)."""
        total = float(np.sum(self.column_mean_squares()))
        if mean is not None:
            total = max(total - float(np.dot(mean, mean)), 0.0) + 1.0
        return total

    def max_sq_norm(self, mean, inv_scale):
        """Largest ``||x_i - mu||^2`` over samples of positive weight (+1)."""
        mean = None if mean is None else np.asarray(mean)
        inv = None if inv_scale is None else np.asarray(inv_scale)
        largest = self.route._reduce(
            _block_max_sq_norm, mean, inv, combine=_max_parts
        )
        largest = max(largest, 0.0)
        return largest + 1.0 if mean is not None else largest


def dask_route_and_statistics(X, y, sw, scale):
    """The :class:`DaskRoute` and :class:`DaskStatistics` of dask data.

    Parameters
    ----------
    X : dask array of shape (n_samples, n_features)
    y : dask array of shape (n_samples,) or (n_samples, n_outputs)
    sw : dask array of shape (n_samples,) or None
    scale : float or None

    Returns
    -------
    route : DaskRoute
    stats : DaskStatistics
    """
    route = DaskRoute(X, y, sw)
    return route, DaskStatistics(X, sw, scale, route)


def uniform_weights(X):
    """Weights ``1 / n`` for the rows of the dask array ``X``, chunked as they are.

    The objective weighs the rows before summing when features are of
    extreme magnitude (a sum of them would overflow before the ``1 / n``).

    Parameters
    ----------
    X : dask array of shape (n_samples, n_features)

    Returns
    -------
    dask array of shape (n_samples,)
    """
    da = import_dask_array()
    n = X.shape[0]
    return da.full((n,), 1.0 / n, dtype=X.dtype, chunks=(X.chunks[0],))
