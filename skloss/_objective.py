r"""The training objective: a loss on linear decision values plus a penalty.

.. math::
    F(W, b) = \sum_i s_i\, \ell(y_i, x_i^\top W + b) + \alpha R(W),
    \qquad \sum_i s_i = 1,

where :math:`s` are the (class- and sample-) weights normalised to sum to
one, so an unweighted cost is the mean loss. Parameters travel as one array
``theta`` of shape ``(n_features + 1, n_outputs)``: the coefficients, then
the intercept in the last row (as in scikit-learn's ``_linear_loss``).

With an intercept, solvers work on mean-centred features: the decision
values are :math:`(x_i - \mu)^\top W + c` with :math:`\mu` the weighted
feature mean, and :math:`b = c - \mu^\top W` recovers the model. The
optimum is the same (the intercept is not penalised), but the intercept no
longer couples with the weights, so gradient steps are far better
conditioned on uncentred data. Centring is implicit: ``X`` is never copied
and sparse ``X`` stays sparse.

Features of extreme magnitude (a column whose largest absolute value lies
outside :math:`[2^{-20}, 2^{20}]`, e.g. data in units of 1e150 or 1e-150)
are also rescaled implicitly: solvers see :math:`\tilde W_j = W_j / f_j`
with :math:`f_j` a power of two close to :math:`1/\sqrt{\mathrm{var}_j +
\ell_2 / \mathrm{smoothness}}`, so that every coordinate, the intercept
included, has a curvature of order one. Powers of two are exact in floating
point, nothing overflows, and the optimum is unchanged. Data of ordinary
magnitude take exactly the plain path (no factors at all).

An epoch over dense NumPy data larger than one block (about 2 MB of ``X``)
runs block by block, each block's two products and loss in the processor's
cache, the blocks shared between as many threads as BLAS may use
(:mod:`skloss._parallel`); the partial sums are added in block order, so the
result does not depend on the threads.
"""

import copy
import math

import numpy as np
import scipy.sparse as sp
from sklearn.utils._array_api import get_namespace

from ._array_api import take_rows, to_device, to_host
from ._parallel import _BLOCK_BYTES, epoch_threads, run_blocks
from ._penalties import Penalty

# Columns whose largest magnitude lies in this range are used as they are;
# others get an implicit power-of-two rescaling (see LinearObjective).
_ORDINARY_MAGNITUDE = (2.0**-20, 2.0**20)



def _column_max_abs(X, xp):
    """Largest absolute value of each column of X, and which are constant.

    Both on the host as NumPy arrays, computed without a copy of X.
    """
    if sp.issparse(X):
        hi = X.max(axis=0).toarray().ravel()
        lo = X.min(axis=0).toarray().ravel()
    else:
        hi = to_host(xp.max(X, axis=0))
        lo = to_host(xp.min(X, axis=0))
    hi = np.asarray(hi, dtype=np.float64)
    lo = np.asarray(lo, dtype=np.float64)
    return np.maximum(np.abs(hi), np.abs(lo)), hi == lo


class LinearObjective:
    """Value, gradient and proximal step of the training cost.

    Parameters
    ----------
    loss : Loss
        The per-sample loss.
    X : {array, sparse matrix} of shape (n_samples, n_features)
        Training data (CSR when sparse); never copied.
    y : array of shape (n_samples,) or (n_samples, n_outputs)
        Targets in the loss's convention (0/1 floats or one-hot rows).
    sample_weight : array of shape (n_samples,), default=None
        Non-negative weights; normalised to sum to one.
    penalty : Penalty, default=None
        The penalty on the coefficients (None: no penalty).
    fit_intercept : bool, default=True
        Whether the intercept row of ``theta`` is trained.

    Examples
    --------
    >>> import numpy as np
    >>> from skloss._objective import LinearObjective
    >>> from skloss.losses import LogLoss
    >>> X = np.array([[1.0], [-1.0]])
    >>> obj = LinearObjective(LogLoss(), X, np.array([1.0, 0.0]))
    >>> theta = obj.zeros()
    >>> round(obj.value(theta), 6)
    0.693147
    """

    def __init__(
        self,
        loss,
        X,
        y,
        sample_weight=None,
        penalty=None,
        fit_intercept=True,
    ):
        self.loss = loss
        self.X = X
        self.y = y
        self.penalty = Penalty() if penalty is None else penalty
        self.fit_intercept = fit_intercept
        self.sparse = sp.issparse(X)
        self.xp, _ = get_namespace(y)
        xp = self.xp
        n_samples = X.shape[0]
        self.n_features = X.shape[1]
        self.n_outputs = 1 if y.ndim == 1 else y.shape[1]
        self.dtype = X.dtype
        if sample_weight is None:
            self.sw = None
            self._scale = 1.0 / n_samples
        else:
            total = float(xp.sum(sample_weight))
            self.sw = sample_weight / total
            self._scale = None
        self._L = None
        self.mean = None
        # Per-feature factors f (solver coefficients are W / f), the squared
        # largest factor (the L2 curvature in solver coordinates) and the
        # mean squared row norm of the rescaled features: only set for
        # features of extreme magnitude.
        self.inv_scale = None
        self._l2_factor = 1.0
        self._sq_norm = None
        # Shared (not copied) by the batch, strided and preconditioned views
        # of this cost, so the loss is checked once per fit, not per batch.
        self._loss_check = {"done": False}
        if self._ordinary_magnitude(X):
            if fit_intercept:
                self.mean = self._weighted_mean(X)
        else:
            self._rescale(X, *_column_max_abs(X, xp))

    def _ordinary_magnitude(self, X):
        """Whether every column's largest magnitude is ordinary (or zero).

        Dense NumPy data is checked with the column mean squares (shared
        with the preconditioner), and two whole-array reductions only when
        those do not bound every value by ``hi``: this is about twice as
        fast as column maxima of C-ordered data. A column whose mean square
        is at least ``lo ** 2`` has a value of magnitude ``lo`` or more, so
        only columns below that have their maxima taken.
        """
        lo, hi = _ORDINARY_MAGNITUDE
        if X.shape[0] == 0:
            return True
        if type(X) is not np.ndarray:
            colmax, _ = _column_max_abs(X, self.xp)
            return not np.any((colmax > hi) | ((colmax > 0) & (colmax < lo)))
        if self.sw is None:
            mean_sq = self._column_mean_squares()
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

    def _rescale(self, X, colmax, constant):
        """Mean and power-of-two factors for features of extreme magnitude.

        Statistics are computed on a temporary copy of ``X`` brought to
        magnitude ~1 by exact powers of two, so nothing overflows or
        underflows; this path runs only for data of extreme magnitude. With
        an intercept, a constant column gets its exact value as mean and a
        factor of zero: it carries no information, and rounding residues of
        a huge constant would otherwise act as a second, ill-conditioned
        intercept. Its coefficient stays exactly zero.
        """
        xp = self.xp
        finfo = np.finfo(np.dtype(str(X.dtype).split(".")[-1]))
        emin, emax = finfo.minexp + 2, finfo.maxexp - 2
        _, e = np.frexp(np.where(colmax > 0, colmax, 1.0))
        e = np.clip(e, emin, emax)
        device = getattr(X, "device", None) if not self.sparse else None
        if self.sparse:
            Xp = X @ sp.diags(np.ldexp(1.0, -e).astype(X.dtype))
        else:
            Xp = X * to_device(np.ldexp(1.0, -e), xp, device, dtype=X.dtype)
        mean_p = self._weighted_mean(Xp) if self.fit_intercept else None
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
        var_p = np.clip(np.asarray(to_host(sq), dtype=np.float64), 0.0, None)
        drop = constant if self.fit_intercept else np.zeros_like(constant)
        if mean_p is not None:
            mean = np.asarray(to_host(mean_p), dtype=np.float64)
            mean = np.ldexp(mean, e)
            mean[drop] = colmax[drop] * np.sign(to_host(mean_p))[drop]
            self.mean = to_device(mean, xp, device, X.dtype)
        var_p[drop] = 0.0
        # log2 of var_j + l2 / smoothness, var_j = var_p * 4**e (no overflow).
        smooth = self.loss.smoothness
        c = self.penalty.l2 / float(smooth) if smooth else self.penalty.l2
        with np.errstate(divide="ignore"):
            log_var = np.log2(var_p) + 2.0 * e
            log_s2 = np.logaddexp2(log_var, np.log2(c) if c > 0 else -np.inf)
        k = np.where(np.isfinite(log_s2), np.round(0.5 * log_s2), 0.0)
        k = np.clip(k, emin, emax).astype(int)
        total = float(np.sum(np.ldexp(var_p, 2 * (e - k))))
        self._sq_norm = total + (1.0 if self.fit_intercept else 0.0)
        if not (np.any(k) or np.any(drop)):
            return
        inv = np.where(drop, 0.0, np.ldexp(1.0, -k))
        self.inv_scale = to_device(inv, xp, device, X.dtype)
        if self.penalty.l2 > 0:  # then f_j**2 <= smoothness / l2: finite
            self._l2_factor = float(np.max(inv) ** 2)

    def _weighted_mean(self, X):
        xp = self.xp
        if self.sw is None:
            if self.sparse:
                return xp.asarray(np.asarray(X.mean(axis=0)).ravel(), dtype=X.dtype)
            return xp.mean(X, axis=0)
        return xp.asarray(X.T @ self.sw, dtype=X.dtype)

    # -- model <-> solver parameters ----------------------------------------
    def to_model(self, theta):
        """Model parameters (W, b) of solver parameters (W, c): b = c - mu.W."""
        if self.mean is None and self.inv_scale is None:
            return theta
        out = self.xp.asarray(theta, copy=True)
        if self.inv_scale is not None:
            out[:-1, :] = theta[:-1, :] * self.inv_scale[:, None]
        if self.mean is not None:
            out[-1, :] = theta[-1, :] - self.mean @ out[:-1, :]
        return out

    def from_model(self, theta):
        """Solver parameters (W, c) of model parameters (W, b): c = b + mu.W."""
        if self.mean is None and self.inv_scale is None:
            return theta
        out = self.xp.asarray(theta, copy=True)
        if self.mean is not None:
            out[-1, :] = theta[-1, :] + self.mean @ theta[:-1, :]
        if self.inv_scale is not None:
            # A zero factor (a dropped constant column) maps to zero.
            inv = self.inv_scale[:, None]
            nonzero = inv != 0
            out[:-1, :] = self.xp.where(
                nonzero, theta[:-1, :] / self.xp.where(nonzero, inv, 1.0), 0.0
            )
        return out

    # -- layout -----------------------------------------------------------
    def zeros(self):
        """A zero ``theta`` of shape (n_features + 1, n_outputs)."""
        return self.xp.zeros(
            (self.n_features + 1, self.n_outputs),
            dtype=self.dtype,
            device=getattr(self.y, "device", None)
            if not isinstance(self.y, np.ndarray)
            else None,
        )

    def split(self, theta):
        """Views of the coefficients (d, K) and intercept (K,) of ``theta``."""
        return theta[:-1, :], theta[-1, :]

    def _coef(self, theta):
        """The model coefficients W (d, K) of solver parameters ``theta``."""
        W = theta[:-1, :]
        return W if self.inv_scale is None else W * self.inv_scale[:, None]

    # -- forward ----------------------------------------------------------
    def raw(self, theta, X=None):
        """Decision values ``(X - mu) @ W + c``, shape (n,) when n_outputs is 1."""
        X = self.X if X is None else X
        W, b = self._coef(theta), theta[-1, :]
        if self.mean is not None:
            b = b - self.mean @ W
        if type(X) is np.ndarray and not np.any(W):
            # Zero coefficients (the usual starting point, whose cost every
            # fit evaluates): the decision values are the shift, without a
            # pass over X (finite, as validated, so X @ 0 is 0).
            shape = X.shape[:1] if self.n_outputs == 1 else (X.shape[0], W.shape[1])
            out = np.zeros(shape, dtype=np.result_type(X.dtype, W.dtype))
        else:
            # One product, then the shift added in place (no second n-array).
            out = X @ W[:, 0] if self.n_outputs == 1 else X @ W
        out += b[0] if self.n_outputs == 1 else b
        return out

    def _weighted(self, values):
        """Weighted sum over samples of per-sample values (n,) or (n, K)."""
        xp = self.xp
        if self.sw is None:
            return float(xp.sum(values)) * self._scale
        if values.ndim == 2:
            return float(xp.sum(self.sw @ values))
        return float(xp.vecdot(self.sw, values))

    def _weight_gradient(self, g):
        if self.sw is None:
            return g * self._scale
        if g.ndim == 2:
            return g * self.sw[:, None]
        return g * self.sw

    # -- cost -------------------------------------------------------------
    def smooth_value(self, theta):
        """Weighted mean loss plus the smooth part of the penalty."""
        W = self._coef(theta)
        rows = self._block_rows()
        if rows is not None and self._loss_check["done"]:
            # Large dense data: by blocks, as the epoch (the first
            # evaluation takes the one-pass path below, which checks the
            # loss's output).
            y, loss = self.y, self.loss

            def losses(start, raw):
                return loss.loss(y[start:start + rows], raw)

            return self._blocked_mean(theta, rows, losses) + (
                self.penalty.smooth_value(W)
            )
        raw = self.raw(theta)
        loss = self.loss.loss(self.y, raw)
        if not self._loss_check["done"]:
            self._check_loss_output(raw, loss, None)
        return self._weighted(loss) + self.penalty.smooth_value(W)

    def value(self, theta):
        """The full cost, L1 part included."""
        return self.smooth_value(theta) + self.penalty.l1_value(self._coef(theta))

    def smooth_value_gradient(self, theta):
        """Smooth cost and its gradient with respect to ``theta``.

        The gradient has the shape of ``theta``; its intercept row is zero
        when ``fit_intercept`` is False.
        """
        xp = self.xp
        W = self._coef(theta)
        rows = self._block_rows()
        if rows is not None:
            value, grad = self._blocked_loss_gradient(theta, W, rows)
        elif self._host_numpy():
            value, grad = self._numpy_loss_gradient(theta, W)
        else:
            raw = self.raw(theta)
            loss, g = self.loss.loss_gradient(self.y, raw)
            if not self._loss_check["done"]:
                self._check_loss_output(raw, loss, g)
            value = self._weighted(loss)
            # Unweighted: the 1/n factor scales the (d + 1, K) result, not g.
            g = g if self.sw is None else self._weight_gradient(g)
            grad = xp.empty_like(theta)
            if self.n_outputs == 1:
                grad[:-1, 0] = self.X.T @ g
                grad[-1, 0] = xp.sum(g) if self.fit_intercept else 0.0
            else:
                grad[:-1, :] = self.X.T @ g
                grad[-1, :] = xp.sum(g, axis=0) if self.fit_intercept else 0.0
            if self.sw is None:
                grad *= self._scale
        return self._finish(value, grad, W)

    def _finish(self, value, grad, W):
        """Add the penalty, the centring and the feature scaling in place.

        ``value, grad``: the weighted mean loss and its gradient with
        respect to the decision values' coefficients and shift; returned as
        the smooth cost and its gradient with respect to ``theta``.
        """
        value += self.penalty.smooth_value(W)
        if self.mean is not None:
            # d/dW of (X - mu) @ W: subtract mu times the summed gradient.
            if self.n_outputs == 1:
                grad[:-1, 0] -= self.mean * grad[-1, 0]
            else:
                grad[:-1, :] -= self.mean[:, None] * grad[-1, :][None, :]
        self.penalty.add_smooth_gradient(W, grad[:-1, :])
        if self.inv_scale is not None:
            grad[:-1, :] *= self.inv_scale[:, None]
        return value, grad

    def _host_numpy(self):
        """Whether X (dense or CSR) and y are NumPy/SciPy arrays on the host."""
        cached = self.__dict__.get("_host_cache")
        if cached is not None and cached[0] is self.X and cached[1] is self.y:
            return cached[2]
        host = (
            self.sparse or type(self.X) is np.ndarray
        ) and type(self.y) is np.ndarray
        self._host_cache = (self.X, self.y, host)
        return host

    def _numpy_loss_gradient(self, theta, W):
        """Weighted mean loss and its gradient, for NumPy data in one pass.

        The generic path's sums written with NumPy directly: on small data
        (breast cancer, 569 x 30) an epoch is mostly Python overhead, and
        the array-API dispatch of the generic path costs a third of it.
        """
        return self._rows_loss_gradient(
            theta, W, self.X, self.y, self.sw, self._scale, np.empty_like(theta)
        )

    def _rows_loss_gradient(self, theta, W, X, y, sw, scale, grad):
        """Loss and gradient on the rows ``X, y`` (NumPy or CSR), into ``grad``.

        ``sw``: their weights normalised to sum to one, or None with
        ``scale`` = 1 / len(X). Shared by the epoch and the mini-batch
        evaluator, so a mini-batch step is bit for bit the generic one.
        """
        K = self.n_outputs
        shift = theta[-1, :] if self.mean is None else theta[-1, :] - self.mean @ W
        if K == 1:
            raw = X @ W[:, 0]
            raw += shift[0]
        else:
            raw = X @ W
            raw += shift
        loss, g = self.loss.loss_gradient(y, raw)
        if not self._loss_check["done"]:
            self._check_loss_output(raw, loss, g)
        if sw is None:
            value = float(loss.sum()) * scale
        else:
            value = float(np.sum(sw @ loss))
            g = g * (sw if g.ndim == 1 else sw[:, None])
        grad_w = grad[:-1, 0] if K == 1 else grad[:-1, :]
        if type(X) is np.ndarray:
            np.matmul(X.T, g, out=grad_w)  # no temporary
        else:
            grad_w[...] = X.T @ g
        if K == 1:
            grad[-1, 0] = g.sum() if self.fit_intercept else 0.0
        else:
            grad[-1, :] = g.sum(axis=0) if self.fit_intercept else 0.0
        if sw is None:
            grad *= scale
        return value, grad

    def _block_rows(self):
        """Rows per block of a cache-blocked epoch, or None for one pass.

        Dense C-ordered NumPy data larger than one block is processed in
        equal blocks of at most about ``_BLOCK_BYTES``: each block of ``X``
        is multiplied by ``W``, its loss gradient computed, and multiplied
        back by its transpose while it is still in the processor's cache, so
        an epoch reads ``X`` from memory once instead of twice. The blocks depend on
        the shape of ``X`` only, not on the number of threads.
        """
        X = self.X
        cached = self.__dict__.get("_rows_cache")
        if cached is not None and cached[0] is X:  # once per X, not per epoch
            return cached[1]
        rows = None
        if not (
            self.sparse
            or type(X) is not np.ndarray
            or not X.flags.c_contiguous
            or not isinstance(self.y, np.ndarray)
        ):
            rows = max(256, _BLOCK_BYTES // max(X.shape[1] * X.itemsize, 1))
            # Blocks of equal size (none left short for one thread to finish
            # alone): as many as blocks of at most ``rows`` need.
            n_blocks = -(-X.shape[0] // rows)
            rows = -(-X.shape[0] // n_blocks) if n_blocks > 1 else None
        self._rows_cache = (X, rows)
        return rows

    def _blocked_loss_gradient(self, theta, W, rows):
        """Weighted mean loss and its gradient, one block of rows at a time.

        The same sums as the one-pass path (the loss acts on each sample
        separately), accumulated over blocks; nothing of the size of ``X``
        is allocated and each block of ``X`` is read once from memory.
        Blocks run on several threads when BLAS may use several
        (:mod:`skloss._parallel`); the partial sums are added in block
        order either way, so the result does not depend on the threads.
        """
        X, K = self.X, self.n_outputs
        shift = theta[-1, :] if self.mean is None else theta[-1, :] - self.mean @ W
        w, b = (W[:, 0], shift[0]) if K == 1 else (W, shift)
        n_blocks = -(-X.shape[0] // rows)
        ones = None
        if self.fit_intercept and K > 1:
            ones = np.ones(rows, dtype=np.result_type(X.dtype, theta.dtype))

        def block(i):
            return self._loss_gradient_block(i * rows, rows, w, b, ones)

        parts = []
        if not self._loss_check["done"]:
            # The loss's first output is checked here, before any thread.
            parts.append(self._loss_gradient_block(0, rows, w, b, ones, True))
        threads = epoch_threads(n_blocks)
        if threads > 1:
            parts += run_blocks(block, n_blocks, threads, first=len(parts))
        else:
            parts += [block(i) for i in range(len(parts), n_blocks)]
        grad = np.zeros_like(theta)
        grad_w = grad[:-1, 0] if K == 1 else grad[:-1, :]
        total = 0.0
        intercept = 0.0 if K == 1 else np.zeros(K, dtype=grad.dtype)
        for value, gw, gb in parts:  # in block order: deterministic sums
            total += value
            grad_w += gw
            if gb is not None:
                intercept += gb
        grad[-1, :] = intercept
        if self.sw is None:
            total *= self._scale
            grad *= self._scale
        return total, grad

    def _loss_gradient_block(self, start, rows, w, b, ones, check=False):
        """Loss sum, ``Xb.T @ g`` and intercept sum of rows ``start:+rows``.

        Safe to run in several threads at once (reads shared data only).
        """
        stop = start + rows
        Xb = self.X[start:stop]
        raw = Xb @ w
        raw += b
        loss, g = self.loss.loss_gradient(self.y[start:stop], raw)
        if check:
            self._check_loss_output(raw, loss, g)
        sw = self.sw
        if sw is None:
            value = float(np.sum(loss))
        else:
            swb = sw[start:stop]
            value = float(np.sum(swb @ loss))
            g = g * (swb if g.ndim == 1 else swb[:, None])
        gb = None
        if self.fit_intercept:
            # Column sums as a BLAS product: 3x faster than sum(axis=0) on
            # (rows, K) blocks.
            gb = np.sum(g) if g.ndim == 1 else ones[: g.shape[0]] @ g
        return value, Xb.T @ g, gb

    def _check_loss_output(self, raw, loss, grad):
        """Check a loss's first output against the contract of ``Loss``.

        A user loss that returns a wrong shape, or non-finite values at
        moderate decision values (``|raw| <= 100``, where any sound loss is
        finite; larger ones are left to divergence detection), is named in a
        ValueError at the first evaluation, before it can corrupt training.
        Runs once per objective and the views made from it.
        """
        xp = self.xp
        name = type(self.loss).__name__
        n = raw.shape[0]
        shape = tuple(getattr(loss, "shape", ()))
        if shape not in ((n,), tuple(raw.shape)):
            raise ValueError(
                f"The loss {name} breaks the loss contract: loss(y, raw) "
                f"returned shape {shape}, expected ({n},) (one value per "
                f"sample) or the shape of raw {tuple(raw.shape)}. See "
                "skloss.Loss; skloss.check_loss(loss) tests the whole contract."
            )
        if grad is not None and tuple(getattr(grad, "shape", ())) != tuple(
            raw.shape
        ):
            raise ValueError(
                f"The loss {name} breaks the loss contract: gradient(y, raw) "
                f"returned shape {tuple(getattr(grad, 'shape', ()))}, expected "
                f"the shape of raw {tuple(raw.shape)}. See skloss.Loss; "
                "skloss.check_loss(loss) tests the whole contract."
            )
        if bool(xp.all(xp.abs(raw) <= 100.0)):
            for what, out in (("loss(y, raw)", loss), ("gradient(y, raw)", grad)):
                if out is not None and not bool(xp.all(xp.isfinite(out))):
                    raise ValueError(
                        f"The loss {name} breaks the loss contract: {what} "
                        "returned non-finite values (NaN or inf) for finite "
                        "decision values (|raw| <= 100) at the first "
                        "evaluation. Make the loss numerically stable; "
                        "skloss.check_loss(loss) tests the whole contract."
                    )
        if grad is not None:
            self._loss_check["done"] = True

    def nonsmooth_value(self, theta):
        """The L1 part of the penalty (zero without one)."""
        return self.penalty.l1_value(self._coef(theta))

    def prox(self, theta, step):
        """Proximal step on the L1 part; the intercept is left alone.

        ``step`` is a float or an array of ``theta``'s shape (per-coordinate
        steps, as Adam takes).
        """
        if not self.penalty.has_l1:
            return theta
        out = self.xp.asarray(theta, copy=True)
        if getattr(step, "ndim", 0):
            step = step[:-1, :]  # the intercept row takes no L1 step
        if self.inv_scale is not None:
            # l1 * |W_j| = l1 * f_j * |W~_j|: a per-feature threshold.
            step = step * self.inv_scale[:, None]
        out[:-1, :] = self.penalty.prox(theta[:-1, :], step)
        return out

    # -- curvature --------------------------------------------------------
    def smoothness(self):
        """An upper bound L on the Lipschitz constant of the smooth gradient.

        ``loss.smoothness * (weighted mean squared row norm, intercept
        column included) + l2``; None when the loss is not smooth. The trace
        bound is cheap and safe: ``1 / L`` is a step size that never diverges
        for gradient descent.
        """
        if self._L is None:
            if self.loss.smoothness is None:
                return None
            self._L = float(self.loss.smoothness) * self.mean_sq_norm() + (
                self.penalty.l2 * self._l2_factor
            )
        return self._L

    def mean_sq_norm(self):
        """Weighted mean of ``||x_i - mu||^2`` (+1 for the intercept column)."""
        if self._sq_norm is not None:
            return self._sq_norm  # rescaled features, see _rescale
        xp = self.xp
        X = self.X
        if type(X) is np.ndarray and X.dtype == np.float64:
            # One pass over X, shared with preconditioned().
            total = float(np.sum(self._column_mean_squares()))
        else:
            if self.sparse:
                sq = np.asarray(X.multiply(X).sum(axis=1)).ravel()
            else:
                sq = xp.vecdot(X, X)  # row norms without a copy of X
            if self.sw is None:
                total = float(xp.sum(sq)) * self._scale
            else:
                total = float(
                    xp.vecdot(self.sw, xp.asarray(sq, dtype=self.sw.dtype))
                )
        if self.fit_intercept:
            # Centring removes ||mu||^2; the intercept column adds 1.
            total = max(total - float(xp.vecdot(self.mean, self.mean)), 0.0) + 1.0
        return total

    def _column_mean_squares(self):
        """Weighted mean of ``x_ij ** 2`` for each column j of dense NumPy X.

        One pass and no copy (einsum), computed once for this ``X``.
        """
        X = self.X
        cached = self.__dict__.get("_colsq_cache")
        if cached is not None and cached[0] is X:
            return cached[1]
        if self.sw is None:
            sq = np.einsum("ij,ij->j", X, X) * self._scale
        else:
            sq = np.einsum("i,ij,ij->j", self.sw, X, X)
        self._colsq_cache = (X, sq)
        return sq

    def bound_curvature(self, direction):
        r"""Curvature of the cost's quadratic upper bound along ``direction``.

        With :math:`\beta` the loss's smoothness and :math:`Z = (X - \mu)
        D_W + D_b` the change of the decision values along the direction
        :math:`D` (shape of ``theta``), this is :math:`\beta \sum_i s_i
        \|Z_i\|^2 + \ell_2 \|D_W\|^2`: no smaller than the true curvature
        :math:`D^\top \nabla^2 F D`, so the step
        :math:`g^\top g / (g^\top H_\beta g)` along the gradient :math:`g`
        minimises an upper bound of the cost (a descent step), at the cost
        of one product with ``X``. None when the loss is not smooth.

        Examples
        --------
        >>> import numpy as np
        >>> from skloss._objective import LinearObjective
        >>> from skloss.losses import LogLoss
        >>> X = np.array([[1.0], [-1.0]])
        >>> obj = LinearObjective(LogLoss(), X, np.array([1.0, 0.0]))
        >>> obj.bound_curvature(np.array([[1.0], [0.0]]))  # 0.25 * mean(x**2)
        0.25
        """
        smooth = self.loss.smoothness
        if smooth is None:
            return None
        rows = self._block_rows()
        if rows is not None:
            quad = self._blocked_squares(direction, rows)
        else:
            Z = self.raw(direction)
            quad = self._weighted(Z * Z)
        curvature = float(smooth) * quad
        if self.penalty.l2:
            # (Without L2, model coefficients of features of extreme
            # magnitude may not even be representable squared.)
            W = self._coef(direction)
            curvature += self.penalty.l2 * float(self.xp.sum(W * W))
        return curvature

    def _blocked_mean(self, theta, rows, per_sample):
        """Weighted mean of ``per_sample(start, raw_block)``, by blocks of rows.

        ``raw_block`` are the decision values of ``theta`` on rows
        ``start:start + rows``; ``per_sample`` returns one value per sample
        (or per sample and output). As the epoch: cache-sized blocks on the
        epoch's threads (each with one BLAS thread, so no BLAS threads are
        left spinning in the way of the epochs that follow), partial sums
        added in block order.
        """
        X, K, sw = self.X, self.n_outputs, self.sw
        W = self._coef(theta)
        shift = theta[-1, :]
        if self.mean is not None:
            shift = shift - self.mean @ W
        w, b = (W[:, 0], shift[0]) if K == 1 else (W, shift)

        def block(i):
            start = i * rows
            raw = X[start:start + rows] @ w
            raw += b
            values = per_sample(start, raw)
            if sw is None:
                return float(np.sum(values))
            return float(np.sum(sw[start:start + rows] @ values))

        n_blocks = -(-X.shape[0] // rows)
        threads = epoch_threads(n_blocks)
        if threads > 1:
            parts = run_blocks(block, n_blocks, threads)
        else:
            parts = [block(i) for i in range(n_blocks)]
        total = 0.0
        for part in parts:  # in block order: deterministic
            total += part
        return total * self._scale if sw is None else total

    def _blocked_squares(self, direction, rows):
        """Weighted mean of ``||raw(direction)_i||^2``, by blocks of rows."""

        def squares(start, raw):
            raw *= raw
            return raw

        return self._blocked_mean(direction, rows, squares)

    def safe_step(self):
        """A step size for which plain gradient descent cannot diverge."""
        L = self.smoothness()
        if L is None or not math.isfinite(L) or L <= 0:
            return None
        return 1.0 / L

    # -- preconditioning (solver "gd" with learning_rate="auto") -------------
    def preconditioned(self):
        r"""This cost in standardized coordinates: a diagonal preconditioner.

        The copy's solver coefficients are :math:`\tilde W_j = W_j / f_j`
        with :math:`f_j = 1 / \sqrt{\mathrm{var}_j + \ell_2 / \beta}`
        (:math:`\mathrm{var}_j` the weighted variance of feature j, or its
        mean square without an intercept; :math:`\beta` the loss's
        smoothness): every coordinate gets the curvature of a standardized
        feature (Jacobi preconditioning), so features on different scales
        cost a gradient method no extra iterations. The penalty moves with
        the coefficients (per-feature L1 thresholds in :meth:`prox`), so the
        optimum in W is the same. Nothing of size ``X`` is allocated: the
        factors multiply the (d, K) coefficients.

        Convert parameters with ``to_model`` and ``from_model`` of each
        objective; costs are equal at corresponding parameters.

        Returns
        -------
        LinearObjective
            The preconditioned copy, or ``self`` when it would not help:
            features already rescaled for extreme magnitude, or factors all
            within 1% of one (standardized data).

        Examples
        --------
        >>> import numpy as np
        >>> from skloss._objective import LinearObjective
        >>> from skloss.losses import LogLoss
        >>> X = np.array([[1.0, 100.0], [-1.0, -300.0], [2.0, 50.0]])
        >>> obj = LinearObjective(LogLoss(), X, np.array([1.0, 0.0, 1.0]))
        >>> pre = obj.preconditioned()
        >>> theta = obj.from_model(np.array([[0.5], [0.01], [0.2]]))
        >>> bool(np.isclose(obj.value(theta),
        ...                 pre.value(pre.from_model(obj.to_model(theta)))))
        True
        """
        X = self.X
        if self.inv_scale is not None or X.shape[0] == 0:
            return self
        # Weighted mean square of each column, without a copy of dense X.
        if not (self.sparse or isinstance(X, np.ndarray)):
            # Other array libraries (array API): reduce on X's device and
            # bring the d column totals to the host.
            xp = self.xp
            if self.sw is None:
                sq = xp.linalg.vector_norm(X, axis=0) ** 2 * self._scale
            else:
                sq = self.sw @ (X * X)
            sq = to_host(sq)
        elif self.sparse:
            sq = X.multiply(X)
            sq = (
                np.asarray(sq.sum(axis=0)).ravel() * self._scale
                if self.sw is None
                else np.asarray(sq.T @ self.sw).ravel()
            )
        else:
            sq = self._column_mean_squares()
        var = np.asarray(sq, dtype=np.float64)
        if self.mean is not None:
            var = var - np.asarray(to_host(self.mean), dtype=np.float64) ** 2
        var = np.clip(var, 0.0, None)
        smooth = self.loss.smoothness
        c = self.penalty.l2 / float(smooth) if smooth else self.penalty.l2
        denom = var + c
        with np.errstate(divide="ignore"):
            f = np.where(denom > 0, 1.0 / np.sqrt(denom), 1.0)
        f = np.where(np.isfinite(f), f, 1.0)
        if np.all(np.abs(f - 1.0) <= 0.01):
            # (X.dtype by name: a PyTorch or array-api-strict dtype does not
            # compare equal to NumPy's.)
            float64 = (
                X.dtype == np.float64 if isinstance(X, np.ndarray)
                else str(X.dtype).split(".")[-1] == "float64"
            )
            if self._sq_norm is None and float64:
                # mean_sq_norm from the same moments: no second pass over X.
                self._sq_norm = float(np.sum(var)) + (
                    1.0 if self.fit_intercept else 0.0
                )
            return self
        other = copy.copy(self)
        device = getattr(self.y, "device", None)
        other.inv_scale = to_device(f, self.xp, device, X.dtype)
        other._l2_factor = float(np.max(f) ** 2) if self.penalty.l2 > 0 else 1.0
        other._sq_norm = float(np.sum(var * f * f)) + (
            1.0 if self.fit_intercept else 0.0
        )
        other._L = None
        return other

    def strided(self, step, offset=0):
        """The cost on every ``step``-th sample, from ``offset``: a view.

        Rows ``offset, offset + step, ...`` of dense ``X`` (no copy);
        weights renormalised to sum to one; everything else (centring,
        preconditioning, penalty, smoothness bound) kept from this cost.
        Used by "auto" gradient descent for a cheap warm start.

        Parameters
        ----------
        step : int
            Take every ``step``-th row.
        offset : int, default=0
            The first row taken.

        Returns
        -------
        LinearObjective or None
            None for sparse data, or when the rows
            taken all have zero weight.

        Examples
        --------
        >>> import numpy as np
        >>> from skloss._objective import LinearObjective
        >>> from skloss.losses import LogLoss
        >>> X = np.arange(12.0).reshape(6, 2)
        >>> obj = LinearObjective(LogLoss(), X, np.array([0.0, 1.0] * 3))
        >>> obj.strided(2, offset=1).X
        array([[ 2.,  3.],
               [ 6.,  7.],
               [10., 11.]])
        """
        X = self.X
        if self.sparse:
            return None
        sub = copy.copy(self)
        # Strided slices are views in NumPy, PyTorch and CuPy alike (the
        # ellipsis spells out the other axes, as the array API asks).
        sub.X = X[offset::step, ...]
        sub.y = self.y[offset::step, ...]
        if self.sw is None:
            sub._scale = 1.0 / max(sub.X.shape[0], 1)
        else:
            sw = self.sw[offset::step]
            total = float(self.xp.sum(sw))
            if not total > 0:
                return None
            sub.sw = sw / total
        return sub

    # -- mini-batches (solvers "sgd" and "adam") -----------------------------
    def batch(self, idx):
        """The cost restricted to the rows ``idx``: a mini-batch objective.

        The batch's sample weights are normalised to sum to one within the
        batch (an unweighted batch cost is the batch's mean loss); the
        penalty is unchanged and the centring mean stays that of the full
        data, so batch gradients are those of the same parametrisation.

        Parameters
        ----------
        idx : array of int
            Row indices of the batch.

        Returns
        -------
        LinearObjective or None
            None when the batch's samples all have zero weight.

        Examples
        --------
        >>> import numpy as np
        >>> from skloss._objective import LinearObjective
        >>> from skloss.losses import LogLoss
        >>> X = np.array([[1.0], [-1.0], [2.0]])
        >>> obj = LinearObjective(LogLoss(), X, np.array([1.0, 0.0, 1.0]))
        >>> sub = obj.batch(np.array([0, 2]))
        >>> sub.X.shape, bool(np.all(sub.mean == obj.mean))
        ((2, 1), True)
        """
        # A shallow copy keeps everything that does not depend on the rows
        # (loss, penalty, centring mean, implicit feature scaling, checks
        # done) without the constructor's passes over the data; whatever
        # depends on the rows is replaced or reset here. A new cached
        # attribute that depends on the rows must be reset here too.
        sub = copy.copy(self)
        sub.X = take_rows(self.X, idx)
        sub.y = take_rows(self.y, idx)
        if self.sw is None:
            sub._scale = 1.0 / sub.X.shape[0]
        else:
            sw = take_rows(self.sw, idx)
            total = float(self.xp.sum(sw))
            if not total > 0:
                return None
            sub.sw = sw / total
        sub._L = None
        sub._sq_norm = None
        return sub

    def batch_evaluator(self, batch_size):
        """A fast evaluator of mini-batch costs and gradients, or None.

        ``evaluator(idx, theta)`` returns what
        ``self.batch(idx).smooth_value_gradient(theta)`` returns, computed
        by the same code (so bit for bit the same), plus the batch's total
        weight; None for a batch of zero weight. Without the
        generic path's per-batch copy of this object, array namespace
        dispatch and allocations of the batch rows, a step on 256 x 100
        float64 rows costs about 30 microseconds instead of 52.

        Parameters
        ----------
        batch_size : int
            The largest batch the evaluator will see (its row buffer).

        Returns
        -------
        _BatchEvaluator or None
            None where the generic path must be used: data other than
            NumPy arrays or SciPy CSR matrices, or batches large enough
            for the full-data evaluation to process them differently
            (cache blocking).

        Examples
        --------
        >>> import numpy as np
        >>> from skloss._objective import LinearObjective
        >>> from skloss.losses import LogLoss
        >>> X = np.array([[1.0], [-1.0], [2.0]])
        >>> obj = LinearObjective(LogLoss(), X, np.array([1.0, 0.0, 1.0]))
        >>> theta = np.array([[0.5], [0.1]])
        >>> value, grad, weight = obj.batch_evaluator(2)(np.array([0, 2]), theta)
        >>> ref_value, ref_grad = obj.batch(np.array([0, 2])).smooth_value_gradient(
        ...     theta)
        >>> value == ref_value, bool(np.all(grad == ref_grad)), weight
        (True, True, 2.0)
        """
        if not (
            isinstance(self.y, np.ndarray)
            and (self.sw is None or isinstance(self.sw, np.ndarray))
            and (
                sp.issparse(self.X) and self.X.format == "csr"
                or type(self.X) is np.ndarray
            )
        ):
            return None
        batch_size = min(int(batch_size), self.X.shape[0])
        if batch_size < 1:
            return None
        # The generic path evaluates a batch view as a whole dataset: it
        # must take the same (single pass) route for the results to agree.
        # (Its route depends on the batch's shape and type only: probe a
        # view of the first rows.)
        probe = copy.copy(self)
        probe.X, probe.y = self.X[:batch_size], self.y[:batch_size]
        probe.__dict__.pop("_rows_cache", None)
        block_rows = getattr(probe, "_block_rows", None)
        if block_rows is not None and block_rows() is not None:
            return None
        return _BatchEvaluator(self, batch_size)

    @staticmethod
    def _row_sq_norms(X, mean):
        """``||x_i - mu||^2`` of each row of dense NumPy X, one read of X.

        ``x.x - 2 x.mu + mu.mu``, a block of rows at a time: the block
        stays in cache between its two products, where whole-array
        products would read X from memory twice.
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

    def max_sq_norm(self):
        """Largest ``||x_i - mu||^2`` over samples (+1 for the intercept).

        With it, ``loss.smoothness * max_sq_norm() + l2`` bounds the
        smoothness of every single-sample (hence every mini-batch) cost.
        Samples of zero weight do not count (they add nothing to a cost).
        """
        xp = self.xp
        X, mean = self.X, self.mean
        if self.inv_scale is not None:
            # Features of extreme magnitude: measure them rescaled (a copy).
            if self.sparse:
                X = X @ sp.diags(to_host(self.inv_scale))
            else:
                X = X * self.inv_scale
            mean = None if mean is None else mean * self.inv_scale
        dense = type(X) is np.ndarray and X.ndim == 2
        if dense:
            sq = self._row_sq_norms(X, mean)  # centred already
        elif self.sparse:
            sq = np.asarray(X.multiply(X).sum(axis=1)).ravel()
        else:
            sq = xp.vecdot(X, X)
        if mean is not None and not dense:
            cross = X @ mean
            sq = sq - 2.0 * xp.asarray(cross) + float(xp.vecdot(mean, mean))
        if self.sw is not None:
            sq = xp.where(self.sw > 0, xp.asarray(sq, dtype=self.sw.dtype), 0.0)
        if mean is not None:
            return max(float(xp.max(sq)), 0.0) + 1.0
        return max(float(xp.max(sq)), 0.0)

    # -- solver support (optim branch) --
    @property
    def n_samples(self):
        """The number of rows of ``X``."""
        return self.X.shape[0]

    @property
    def itemsize(self):
        """Bytes per entry of ``X`` (sizes the solvers' batches)."""
        size = getattr(self.X.dtype, "itemsize", None)  # array API: no itemsize
        return size if size is not None else self.xp.finfo(self.X.dtype).bits // 8

    def batch_weight(self, idx):
        """The weight of the rows ``idx`` in the epoch's mean of batch costs.

        The number of rows for unweighted data, else the rows' share of the
        normalised sample weights (as ``batch_evaluator`` reports it).
        """
        if self.sw is None:
            return float(idx.shape[0])
        return float(self.xp.sum(take_rows(self.sw, idx)))

    def coordinate_scale(self):
        """1 / weighted root-mean-square of each centred feature.

        Measured on the features the solver sees (after the implicit
        rescaling of extreme columns, if any); the shape of ``theta``, 1 on
        the intercept row and on constant columns. Adam's "auto" step.
        """
        xp = self.xp
        X = self.X
        sw = self.sw
        if self.sparse:
            X2 = X.multiply(X)
            sq = X2.T @ sw if sw is not None else np.asarray(X2.mean(axis=0))
            sq = np.asarray(sq).ravel()
        elif sw is not None:
            sq = sw @ (X * X)
        else:
            sq = xp.mean(X * X, axis=0)
        sq = xp.asarray(sq, dtype=self.dtype)
        if self.mean is not None:
            sq = sq - self.mean * self.mean
        rms = xp.sqrt(xp.clip(sq, 0, None))
        inv = xp.where(rms > 0, 1.0 / xp.where(rms > 0, rms, 1.0), 1.0)
        if self.inv_scale is not None:
            # The solver's coordinate j multiplies x_j * inv_scale_j.
            inv = xp.where(rms > 0, inv / self.inv_scale, 1.0)
        scale = xp.ones_like(self.zeros())
        scale[:-1, :] = inv[:, None]
        return scale


class _BatchEvaluator:
    """Mini-batch costs and gradients of a LinearObjective on NumPy or CSR data.

    See :meth:`LinearObjective.batch_evaluator`. The batch is evaluated by
    the objective's own ``_rows_loss_gradient`` and ``_finish``, the code
    ``batch(idx).smooth_value_gradient`` runs on a NumPy batch, so the two
    agree bit for bit; what the evaluator saves is the per-batch copy of
    the objective and its namespace dispatch. Dense rows are gathered into
    a reused buffer and the gradient is written into a reused array: it is
    valid until the next call.
    """

    def __init__(self, objective, batch_size):
        self.objective = objective
        self.X, self.y, self.sw = objective.X, objective.y, objective.sw
        self.buffer = (
            None if sp.issparse(objective.X)
            else np.empty((batch_size, objective.n_features), dtype=objective.X.dtype)
        )
        self.grad = np.empty(
            (objective.n_features + 1, objective.n_outputs), dtype=objective.dtype
        )

    def __call__(self, idx, theta):
        """``(value, gradient, batch weight)`` on the rows ``idx``, or None.

        The batch weight is the number of rows (unweighted data) or the
        batch's share of the normalised sample weights.
        """
        m = idx.shape[0]
        sw, scale = self.sw, None
        if sw is None:
            weight = float(m)
            scale = 1.0 / m
        else:
            sw = sw[idx]
            weight = float(np.sum(sw))
            if not weight > 0:
                return None
            sw = sw / weight
        if self.buffer is not None:
            # Valid indices: mode="clip" spares take() its buffered copy.
            X = np.take(self.X, idx, axis=0, out=self.buffer[:m], mode="clip")
        else:
            X = self.X[idx]
        obj = self.objective
        W = obj._coef(theta)
        value, grad = obj._rows_loss_gradient(
            theta, W, X, self.y[idx], sw, scale, self.grad
        )
        value, grad = obj._finish(value, grad, W)
        return value, grad, weight
