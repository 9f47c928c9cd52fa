r"""Data statistics of a training set: moments, magnitude guards, factors.

Everything the objective derives from ``X`` and the sample weights alone,
computed once per dataset by :class:`DataStatistics` and shared by the
objective, its views and the solvers:

- the weighted feature mean (the implicit centring of the objective);
- whether every column has an ordinary magnitude, and otherwise the
  power-of-two factors that bring extreme columns (units of 1e150 or
  1e-150) to magnitude one without overflow (:meth:`DataStatistics.rescaling`);
- the column mean squares, from which come the diagonal preconditioner
  (:func:`preconditioner_factors`) and the mean squared row norm of the
  smoothness bound;
- the largest squared row norm (the smoothness of a single-sample cost).

Nothing here knows a loss's formula: the loss enters only through its
``smoothness`` constant, passed in as a number.
"""

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.utils.extmath import row_norms
from sklearn.utils.sparsefuncs import min_max_axis

from ._array_api import to_device, to_host
from ._parallel import _BLOCK_BYTES

# Columns whose largest magnitude lies in this range are used as they are;
# others get an implicit power-of-two rescaling (see DataStatistics.rescaling).
ORDINARY_MAGNITUDE = (2.0**-20, 2.0**20)


def column_max_abs(X, xp):
    """Largest absolute value of each column of X, and which are constant.

    Both on the host as NumPy arrays, computed without a copy of X.

    Examples
    --------
    >>> import numpy as np
    >>> from skloss._scaling import column_max_abs
    >>> column_max_abs(np.array([[1.0, -3.0], [1.0, 2.0]]), np)
    (array([1., 3.]), array([ True, False]))
    """
    if sp.issparse(X):
        # One CSC conversion for both extremes (scipy's max and min convert
        # separately).
        lo, hi = min_max_axis(X, axis=0)
    else:
        hi = to_host(xp.max(X, axis=0))
        lo = to_host(xp.min(X, axis=0))
    hi = np.asarray(hi, dtype=np.float64)
    lo = np.asarray(lo, dtype=np.float64)
    return np.maximum(np.abs(hi), np.abs(lo)), hi == lo


def preconditioner_factors(var, l2, smoothness):
    r"""Jacobi factors :math:`f_j = 1 / \sqrt{\mathrm{var}_j + \ell_2 / \beta}`.

    ``var`` are the features' weighted variances (mean squares without an
    intercept), ``smoothness`` the loss's :math:`\beta` (None: not smooth).
    A zero or non-finite factor is replaced by one (a constant column).

    Examples
    --------
    >>> import numpy as np
    >>> from skloss._scaling import preconditioner_factors
    >>> preconditioner_factors(np.array([4.0, 0.0]), 0.0, 0.25)
    array([0.5, 1. ])
    """
    c = l2 / float(smoothness) if smoothness else l2
    denom = var + c
    with np.errstate(divide="ignore"):
        f = np.where(denom > 0, 1.0 / np.sqrt(denom), 1.0)
    return np.where(np.isfinite(f), f, 1.0)


@dataclass
class Rescaling:
    """Implicit coordinates for features of extreme magnitude.

    Attributes
    ----------
    mean : array of shape (n_features,) or None
        The weighted feature mean (None without an intercept).
    inv_scale : array of shape (n_features,) or None
        Per-feature factors f (solver coefficients are W / f); None when
        every factor is one.
    l2_factor : float
        The squared largest factor: the L2 curvature in solver coordinates.
    sq_norm : float
        The mean squared row norm of the rescaled, centred features (plus
        one for the intercept column).
    variances : ndarray of shape (n_features,)
        The weighted variance (mean square without an intercept) of each
        rescaled feature, on the host in float64: no square of an extreme
        value was formed.
    """

    mean: object
    inv_scale: object
    l2_factor: float
    sq_norm: float
    variances: object


def magnitude_exponents(colmax, dtype):
    """Binary exponents ``e`` with ``colmax * 2**-e`` in [0.5, 1), within
    ``dtype``'s range (zero columns: exponent 1).

    Examples
    --------
    >>> import numpy as np
    >>> magnitude_exponents(np.array([1e300, 3.0, 0.0]), np.dtype("float64"))
    array([997,   2,   1], dtype=int32)
    """
    finfo = np.finfo(np.dtype(str(dtype).split(".")[-1]))
    _, e = np.frexp(np.where(colmax > 0, colmax, 1.0))
    return np.clip(e, finfo.minexp + 2, finfo.maxexp - 2)


def rescaling_of(colmax, constant, e, mean_p, sq, dtype, l2, smoothness):
    """The :class:`Rescaling` from moments of the features ``x * 2**-e``.

    Shared by in-memory and block-wise (Dask) statistics, which gather the
    moments each their own way; everything is on the host.

    Parameters
    ----------
    colmax, constant : ndarray of shape (n_features,)
        Each column's largest magnitude, and whether it is constant.
    e : ndarray of shape (n_features,)
        Their :func:`magnitude_exponents`.
    mean_p : ndarray of shape (n_features,) or None
        The weighted mean of ``x * 2**-e`` (None without an intercept).
    sq : ndarray of shape (n_features,)
        The weighted mean square of ``x * 2**-e``, centred by ``mean_p``.
    dtype : dtype
        The data's dtype, whose range bounds the factors.
    l2 : float
        The L2 curvature of the penalty.
    smoothness : float or None
        The loss's smoothness constant.

    Returns
    -------
    Rescaling
        Its mean and factors as float64 NumPy arrays.
    """
    finfo = np.finfo(np.dtype(str(dtype).split(".")[-1]))
    emin, emax = finfo.minexp + 2, finfo.maxexp - 2
    var_p = np.clip(np.asarray(sq, dtype=np.float64), 0.0, None)
    drop = constant if mean_p is not None else np.zeros_like(constant)
    mean = None
    if mean_p is not None:
        mean_p = np.asarray(mean_p, dtype=np.float64)
        mean = np.ldexp(mean_p, e)
        mean[drop] = colmax[drop] * np.sign(mean_p)[drop]
    var_p[drop] = 0.0
    # log2 of var_j + l2 / smoothness, var_j = var_p * 4**e (no overflow).
    c = l2 / float(smoothness) if smoothness else l2
    with np.errstate(divide="ignore"):
        log_var = np.log2(var_p) + 2.0 * e
        log_s2 = np.logaddexp2(log_var, np.log2(c) if c > 0 else -np.inf)
    k = np.where(np.isfinite(log_s2), np.round(0.5 * log_s2), 0.0)
    tiny = (k < emin) & ~drop & (colmax > 0)
    if np.any(tiny):
        # A coefficient of such a feature would need a factor beyond
        # the dtype's range to move the decision values at all.
        cols = np.flatnonzero(tiny)
        raise ValueError(
            f"The feature(s) at column(s) {cols[:10].tolist()} have "
            f"magnitudes around {float(np.min(colmax[tiny])):.3g}: a model "
            "on them needs coefficients beyond the range of "
            f"{finfo.dtype} (about {float(finfo.max):.3g}). Multiply X by "
            "a constant (e.g. with StandardScaler), or use an L2 penalty."
        )
    k = np.clip(k, emin, emax).astype(int)
    solver_var = np.ldexp(var_p, 2 * (e - k))
    sq_norm = float(np.sum(solver_var)) + (1.0 if mean_p is not None else 0.0)
    if not (np.any(k) or np.any(drop)):
        return Rescaling(mean, None, 1.0, sq_norm, solver_var)
    inv = np.where(drop, 0.0, np.ldexp(1.0, -k))
    # With L2, f_j**2 <= smoothness / l2: finite.
    l2_factor = float(np.max(inv) ** 2) if l2 > 0 else 1.0
    return Rescaling(mean, inv, l2_factor, sq_norm, solver_var)


class DataStatistics:
    """Statistics of one dataset ``(X, sample weights)``, each computed once.

    Parameters
    ----------
    X : {array, sparse matrix} of shape (n_samples, n_features)
        The data (CSR when sparse); never copied on the ordinary path.
    sw : array of shape (n_samples,) or None
        Sample weights normalised to sum to one; None: uniform.
    scale : float or None
        ``1 / n_samples`` when ``sw`` is None.
    xp : module
        The array namespace of the data.

    Examples
    --------
    >>> import numpy as np
    >>> from skloss._scaling import DataStatistics
    >>> stats = DataStatistics(np.array([[1.0, 2.0], [3.0, 2.0]]), None, 0.5, np)
    >>> stats.weighted_mean(), stats.is_ordinary()
    (array([2., 2.]), True)
    >>> stats.column_mean_squares()
    array([5., 4.])
    """

    def __init__(self, X, sw, scale, xp):
        self.X, self.sw, self.scale, self.xp = X, sw, scale, xp
        self.sparse = sp.issparse(X)
        self._colsq = None
        self._colsq_host = None

    def weighted_mean(self, X=None):
        """The weighted mean of each column of ``X`` (default: the data)."""
        X = self.X if X is None else X
        xp = self.xp
        if self.sw is None:
            if sp.issparse(X):
                return xp.asarray(np.asarray(X.mean(axis=0)).ravel(), dtype=X.dtype)
            if type(X) is np.ndarray and X.shape[0]:
                # Column sums as one BLAS product: 1.7-2.5x faster than
                # mean(axis=0) on C-ordered data (200,000 x 100: 22 -> 13 ms).
                return np.ones(X.shape[0], dtype=X.dtype) @ X / X.shape[0]
            return xp.mean(X, axis=0)
        return xp.asarray(X.T @ self.sw, dtype=X.dtype)

    def column_mean_squares(self):
        """Weighted mean of ``x_ij ** 2`` for each column j of dense NumPy X.

        One pass and no copy (einsum), computed once for this dataset.
        """
        if self._colsq is None:
            X = self.X
            if self.sw is None:
                self._colsq = np.einsum("ij,ij->j", X, X) * self.scale
            else:
                self._colsq = np.einsum("i,ij,ij->j", self.sw, X, X)
        return self._colsq

    def is_ordinary(self):
        """Whether every column's largest magnitude is ordinary (or zero).

        Dense NumPy data is checked with the column mean squares (shared
        with the preconditioner), and two whole-array reductions only when
        those do not bound every value by ``hi``: this is about twice as
        fast as column maxima of C-ordered data. A column whose mean square
        is at least ``lo ** 2`` has a value of magnitude ``lo`` or more, so
        only columns below that have their maxima taken.
        """
        lo, hi = ORDINARY_MAGNITUDE
        X = self.X
        if X.shape[0] == 0:
            return True
        if self.sparse:
            # Every stored value ordinary (or zero) bounds every column's
            # largest magnitude: no per-column pass (a CSC conversion) needed.
            data = np.abs(X.data)
            if data.size == 0 or (
                float(data.max()) <= hi and float(np.min(data[data > 0], initial=hi)) >= lo
            ):
                return True
        if type(X) is not np.ndarray:
            colmax, _ = column_max_abs(X, self.xp)
            return not np.any((colmax > hi) | ((colmax > 0) & (colmax < lo)))
        if self.sw is None:
            mean_sq = self.column_mean_squares()
        else:
            mean_sq = np.einsum("ij,ij->j", X, X) / X.shape[0]
        # |x_ij| <= sqrt(n * mean_sq_j): when that bound is ordinary, the
        # whole-array extremes need not be read at all.
        bound = float(np.max(mean_sq)) * X.shape[0] if mean_sq.size else 0.0
        if not bound <= hi * hi and max(float(X.max()), -float(X.min())) > hi:
            return False
        low = np.flatnonzero(mean_sq < lo * lo)
        if low.size == 0:
            return True
        colmax = np.max(np.abs(X[:, low]), axis=0)
        return not np.any((colmax > 0) & (colmax < lo))

    def rescaling(self, fit_intercept, l2, smoothness):
        """Mean and power-of-two factors for features of extreme magnitude.

        Statistics are computed on a temporary copy of ``X`` brought to
        magnitude ~1 by exact powers of two, so nothing overflows or
        underflows; this path runs only for data of extreme magnitude. With
        an intercept, a constant column gets its exact value as mean and a
        factor of zero: it carries no information, and rounding residues of
        a huge constant would otherwise act as a second, ill-conditioned
        intercept. Its coefficient stays exactly zero.

        Parameters
        ----------
        fit_intercept : bool
            Whether the objective centres the features.
        l2 : float
            The L2 curvature of the penalty.
        smoothness : float or None
            The loss's smoothness constant.

        Returns
        -------
        Rescaling
        """
        X, xp = self.X, self.xp
        colmax, constant = column_max_abs(X, xp)
        e = magnitude_exponents(colmax, X.dtype)
        device = getattr(X, "device", None) if not self.sparse else None
        if self.sparse:
            Xp = X @ sp.diags(np.ldexp(1.0, -e).astype(X.dtype))
        else:
            Xp = X * to_device(np.ldexp(1.0, -e), xp, device, dtype=X.dtype)
        mean_p = self.weighted_mean(Xp) if fit_intercept else None
        if self.sparse:
            sq = Xp.multiply(Xp)
            sq = (
                np.asarray(sq.mean(axis=0)).ravel() if self.sw is None
                else np.asarray(sq.T @ to_host(self.sw)).ravel()
            )
            if mean_p is not None:
                sq = sq - np.asarray(to_host(mean_p), dtype=np.float64) ** 2
        else:
            if mean_p is not None:
                Xp = Xp - mean_p
            Xp = Xp * Xp
            sq = xp.mean(Xp, axis=0) if self.sw is None else self.sw @ Xp
        mean_p = None if mean_p is None else to_host(mean_p)
        scaled = rescaling_of(colmax, constant, e, mean_p, to_host(sq), X.dtype,
                              l2, smoothness)
        if scaled.mean is not None:
            scaled.mean = to_device(scaled.mean, xp, device, X.dtype)
        if scaled.inv_scale is not None:
            scaled.inv_scale = to_device(scaled.inv_scale, xp, device, X.dtype)
        return scaled

    def column_squares(self):
        """Weighted mean square of each column, on the host (float64).

        Without a copy of dense X; other array libraries reduce on X's
        device and bring the d column totals to the host. Computed once for
        this dataset (the preconditioner, Adam's scale and the
        standardization check share it).
        """
        if self._colsq_host is None:
            self._colsq_host = self._column_squares()
        return self._colsq_host

    def _column_squares(self):
        X, xp = self.X, self.xp
        if not (self.sparse or isinstance(X, np.ndarray)):
            if self.sw is None:
                sq = xp.linalg.vector_norm(X, axis=0) ** 2 * self.scale
            else:
                sq = self.sw @ (X * X)
            sq = to_host(sq)
        elif self.sparse:
            sq = X.multiply(X)
            sq = (
                np.asarray(sq.sum(axis=0)).ravel() * self.scale
                if self.sw is None
                else np.asarray(sq.T @ self.sw).ravel()
            )
        else:
            sq = self.column_mean_squares()
        return np.asarray(sq, dtype=np.float64)

    def inverse_rms(self, mean, inv_scale=None, variances=None):
        """1 / root-mean-square of each centred feature the solver sees.

        The features are ``x * inv_scale`` (when given); ``variances``, if
        known (the rescaling's), are theirs already. One on constant
        columns. From the shared column moments: no copy of ``X``.

        Examples
        --------
        >>> import numpy as np
        >>> from skloss._scaling import DataStatistics
        >>> X = np.array([[1.0, 5.0], [3.0, 5.0]])
        >>> stats = DataStatistics(X, None, 0.5, np)
        >>> stats.inverse_rms(stats.weighted_mean())
        array([1., 1.])
        """
        if variances is None:
            variances = self.column_squares()
            if mean is not None:
                variances = variances - np.asarray(to_host(mean), dtype=np.float64) ** 2
            if inv_scale is not None:
                variances = variances * np.asarray(to_host(inv_scale), np.float64) ** 2
        rms = np.sqrt(np.clip(variances, 0.0, None))
        with np.errstate(divide="ignore"):
            return np.where(rms > 0, 1.0 / rms, 1.0)

    def mean_sq_norm(self, mean):
        """Weighted mean of ``||x_i - mu||^2`` (+1 when centred: ``mean``)."""
        xp, X = self.xp, self.X
        if type(X) is np.ndarray and X.dtype == np.float64:
            # One pass over X, shared with the preconditioner.
            total = float(np.sum(self.column_mean_squares()))
        else:
            if self.sparse:
                sq = row_norms(X, squared=True)
            else:
                sq = xp.vecdot(X, X)  # row norms without a copy of X
            if self.sw is None:
                total = float(xp.sum(sq)) * self.scale
            else:
                total = float(xp.vecdot(self.sw, xp.asarray(sq, dtype=self.sw.dtype)))
        if mean is not None:
            # Centring removes ||mu||^2; the intercept column adds 1.
            total = max(total - float(xp.vecdot(mean, mean)), 0.0) + 1.0
        return total

    def max_sq_norm(self, mean, inv_scale):
        """Largest ``||x_i - mu||^2`` over samples (+1 for the intercept).

        Measured on the features the solver sees (``x * inv_scale``);
        samples of zero weight do not count (they add nothing to a cost).
        """
        xp, X, sw = self.xp, self.X, self.sw
        if inv_scale is not None:
            # Features of extreme magnitude: measure them rescaled (a copy).
            if self.sparse:
                X = X @ sp.diags(to_host(inv_scale))
            else:
                X = X * inv_scale
            mean = None if mean is None else mean * inv_scale
        dense = type(X) is np.ndarray and X.ndim == 2
        if dense:
            sq = row_sq_norms(X, mean)  # centred already
        elif self.sparse:
            sq = row_norms(X, squared=True)
        else:
            sq = xp.vecdot(X, X)
        if mean is not None and not dense:
            cross = X @ mean
            sq = sq - 2.0 * xp.asarray(cross) + float(xp.vecdot(mean, mean))
        if sw is not None:
            sq = xp.where(sw > 0, xp.asarray(sq, dtype=sw.dtype), 0.0)
        if mean is not None:
            return max(float(xp.max(sq)), 0.0) + 1.0
        return max(float(xp.max(sq)), 0.0)


def row_sq_norms(X, mean):
    """``||x_i - mu||^2`` of each row of dense NumPy X, one read of X.

    ``x.x - 2 x.mu + mu.mu``, a block of rows at a time: the block stays in
    cache between its two products, where whole-array products would read
    X from memory twice (``sklearn.utils.extmath.row_norms`` squares
    uncentred rows only, and centring first would copy X).

    Examples
    --------
    >>> import numpy as np
    >>> from skloss._scaling import row_sq_norms
    >>> row_sq_norms(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([1.0, 1.0]))
    array([ 1., 13.])
    """
    n = X.shape[0]
    sq = np.empty(n, dtype=X.dtype)
    rows = max(256, _BLOCK_BYTES // 8 // max(X.shape[1] * X.itemsize, 1))
    mm = None if mean is None else float(np.dot(mean, mean))
    for start in range(0, n, rows):
        block = X[start:start + rows]
        out = sq[start:start + rows]
        np.einsum("ij,ij->i", block, block, out=out)
        if mean is not None:
            cross = block @ mean
            cross *= 2.0
            out -= cross
            out += mm
    return sq
