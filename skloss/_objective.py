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

The statistics behind these coordinates come from :mod:`skloss._scaling`;
how an epoch runs over the data (one pass, cache blocks on threads, any
array library) is the route :mod:`skloss._kernels` picks once per dataset.
This module is the readable contract: what is computed, never how fast.
"""

import copy
import math

import numpy as np
import scipy.sparse as sp
from sklearn.utils._array_api import get_namespace

from ._array_api import to_device, to_host
from ._dask import is_dask_array
from ._dask_stats import dask_route_and_statistics, uniform_weights
from ._kernels import Rows, decision_values, route
from ._newton import inverse_hessian, newton_capable, newton_direction
from ._penalties import Penalty
from ._scaling import DataStatistics
from ._views import RowViewsMixin, TransformedViewsMixin
from .losses._guard import GuardedLoss


class LinearObjective(RowViewsMixin, TransformedViewsMixin):
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
    own_coordinates : bool, default=True
        Whether solvers work in this cost's own coordinates (centred
        features, power-of-two factors for extreme magnitudes), which
        "auto" steps are chosen for. False: in the user's (W, b) exactly,
        so a fixed learning rate is textbook gradient descent.

    Attributes
    ----------
    route : GenericRoute
        How an epoch runs over this data (:func:`skloss._kernels.route`).
    mean : array of shape (n_features,) or None
        The weighted feature mean (the implicit centring), None without an
        intercept.
    inv_scale : array of shape (n_features,) or None
        Per-feature factors f of the solver's coordinates (W / f), None
        when there are none.

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
        own_coordinates=True,
    ):
        self.penalty = Penalty() if penalty is None else penalty
        self.fit_intercept = fit_intercept
        self.sparse = sp.issparse(X)
        self.xp, _ = get_namespace(y)
        self.n_features = X.shape[1]
        self.n_outputs = 1 if y.ndim == 1 else y.shape[1]
        self.dtype = X.dtype
        sw, scale = None, 1.0 / X.shape[0]
        if sample_weight is not None:
            sw, scale = sample_weight / float(self.xp.sum(sample_weight)), None
        # The guard is shared (not copied) by the batch, strided and
        # preconditioned views of this cost, so the loss's output is checked
        # once per fit, not per batch.
        self.loss = loss
        self._set_rows(X, y, sw, scale)
        self._L = None
        self.mean = None
        self.inv_scale = None
        # The squared largest factor (the L2 curvature in solver
        # coordinates) and the mean squared row norm of the solver's
        # features, where the statistics give them without another pass.
        self._l2_factor = 1.0
        self._newton = None  # whether the Newton system applies, see _newton_applies
        self._sq_norm = None
        self._variances = None  # of the rescaled features, see _scaling
        if not own_coordinates:
            return
        if self._stats.is_ordinary():
            if fit_intercept:
                self.mean = self._stats.weighted_mean()
        else:
            scaled = self._stats.rescaling(
                fit_intercept, self.penalty.l2, loss.smoothness
            )
            self.mean, self.inv_scale = scaled.mean, scaled.inv_scale
            self._l2_factor, self._sq_norm = scaled.l2_factor, scaled.sq_norm
            self._variances = scaled.variances
            if sw is None:
                # Weights applied before the sums, not 1/n after them:
                # sum_i x_ij g_i / n is at most max|x_j| max|g|, while
                # sum_i x_ij g_i overflows for |x| near the float limit.
                n = X.shape[0]
                uniform = (
                    uniform_weights(X) if is_dask_array(X)
                    else self.xp.full((n,), 1.0 / n, dtype=X.dtype,
                                      device=self._device())
                )
                self._set_rows(X, y, uniform, None)

    def _set_rows(self, X, y, sw, scale):
        """Use the data ``(X, y, sw)``: its route and statistics, once."""
        self.X, self.y, self.sw, self._scale = X, y, sw, scale
        self._rows = Rows(X, y, sw, scale, self.fit_intercept, self.xp)
        if is_dask_array(X):  # Dask hook: route and statistics on the cluster
            self.route, self._stats = dask_route_and_statistics(X, y, sw, scale)
            return
        self.route = route(X, y)
        self._stats = DataStatistics(X, sw, scale, self.xp)

    def _view(self, X, y, sw, scale, keep_bounds=False):
        """A copy of this cost on other rows: coordinates and guard shared.

        The route and statistics follow the rows, and so does the smoothness
        bound unless ``keep_bounds``; the centring mean and feature factors
        stay this cost's, so gradients are those of the same parametrisation.
        """
        view = copy.copy(self)
        view._set_rows(X, y, sw, scale)
        if not keep_bounds:
            view._L = None
            view._sq_norm = None
        return view

    @property
    def loss(self):
        """The per-sample loss (setting it guards the new loss)."""
        return self._guard.loss_

    @loss.setter
    def loss(self, loss):
        self._guard = GuardedLoss(loss)
        self._newton = None

    @property
    def n_samples(self):
        """The number of rows of the data."""
        return self.X.shape[0]

    @property
    def itemsize(self):
        """Bytes per entry of ``X`` (sizes the solvers' batches)."""
        size = getattr(self.X.dtype, "itemsize", None)  # array API: no itemsize
        return size if size is not None else self.xp.finfo(self.X.dtype).bits // 8

    @property
    def row_bytes(self):
        """Mean bytes of one row of ``X``: what a mini-batch of rows moves.

        Dense: ``n_features * itemsize``; CSR: the row's stored values and
        their column indices.
        """
        if self.sparse:
            stored = self.X.nnz / max(self.n_samples, 1)
            return stored * (self.itemsize + self.X.indices.dtype.itemsize)
        return self.n_features * self.itemsize

    # -- model <-> solver parameters ----------------------------------------
    def to_model(self, theta):
        """Model parameters (W, b) of solver parameters (W, c): b = c - mu.W."""
        if self.mean is None and self.inv_scale is None:
            return theta
        out = self.xp.asarray(theta, copy=True)
        out[:-1, :] = self._coef(theta)
        out[-1, :] = self._shift(theta, out[:-1, :])
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

    def model_gradient(self, grad):
        """The gradient with respect to the model's (W, b), from ``grad``,
        the gradient with respect to the solver parameters theta.

        The transpose of :meth:`from_model` (both maps are linear):
        ``g_W / f + mu g_c`` and ``g_c``, with ``f`` the feature factors and
        ``mu`` the centring mean.
        """
        if self.mean is None and self.inv_scale is None:
            return grad
        out = self.xp.asarray(grad, copy=True)
        if self.inv_scale is not None:
            inv = self.inv_scale[:, None]
            nonzero = inv != 0
            out[:-1, :] = self.xp.where(
                nonzero, grad[:-1, :] / self.xp.where(nonzero, inv, 1.0), 0.0
            )
        if self.mean is not None:
            out[:-1, :] += self.mean[:, None] * grad[-1:, :]
        return out

    # -- layout -----------------------------------------------------------
    def _device(self):
        y = self.y
        return None if isinstance(y, np.ndarray) else getattr(y, "device", None)

    def zeros(self):
        """A zero ``theta`` of shape (n_features + 1, n_outputs)."""
        return self.xp.zeros(
            (self.n_features + 1, self.n_outputs), dtype=self.dtype,
            device=self._device(),
        )

    def split(self, theta):
        """Views of the coefficients (d, K) and intercept (K,) of ``theta``."""
        return theta[:-1, :], theta[-1, :]

    def _coef(self, theta):
        """The model coefficients W (d, K) of solver parameters ``theta``."""
        W = theta[:-1, :]
        return W if self.inv_scale is None else W * self.inv_scale[:, None]

    def _shift(self, theta, W):
        """The decision values' shift ``c - mu @ W`` (K,), W the model's."""
        return theta[-1, :] if self.mean is None else theta[-1, :] - self.mean @ W

    # -- forward ----------------------------------------------------------
    def raw(self, theta, X=None):
        """Decision values ``(X - mu) @ W + c``, shape (n,) when n_outputs is 1."""
        W = self._coef(theta)
        return decision_values(self.X if X is None else X, W, self._shift(theta, W))

    # -- cost -------------------------------------------------------------
    def smooth_value(self, theta):
        """Weighted mean loss plus the smooth part of the penalty."""
        W = self._coef(theta)
        value = self.route.mean_loss(self._rows, self._guard, W, self._shift(theta, W))
        return value + self.penalty.smooth_value(W)

    def value(self, theta):
        """The full cost, L1 part included."""
        return self.smooth_value(theta) + self.penalty.l1_value(self._coef(theta))

    def smooth_value_gradient(self, theta):
        """Smooth cost and its gradient with respect to ``theta``.

        The gradient has the shape of ``theta``; its intercept row is zero
        when ``fit_intercept`` is False.
        """
        W = self._coef(theta)
        value, grad = self.route.loss_gradient(
            self._rows, self._guard, W, self._shift(theta, W), theta
        )
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
            return self._sq_norm  # from the rescaling or the preconditioner
        return self._stats.mean_sq_norm(self.mean)

    def max_sq_norm(self):
        """Largest ``||x_i - mu||^2`` over samples (+1 for the intercept).

        With it, ``loss.smoothness * max_sq_norm() + l2`` bounds the
        smoothness of every single-sample (hence every mini-batch) cost.
        Samples of zero weight do not count (they add nothing to a cost).
        """
        return self._stats.max_sq_norm(self.mean, self.inv_scale)

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
        W = self._coef(direction)
        quad = self.route.mean_square(self._rows, W, self._shift(direction, W))
        curvature = float(smooth) * quad
        if self.penalty.l2:
            # (Without L2, model coefficients of features of extreme
            # magnitude may not even be representable squared.)
            curvature += self.penalty.l2 * float(self.xp.sum(W * W))
        return curvature

    def looks_standardized(self):
        """Whether every non-constant feature has mean ~0 and variance ~1.

        Within a factor of two in variance and half a standard deviation in
        mean, as after StandardScaler (weighted, on the training rows).
        """
        if self.inv_scale is not None or self.X.shape[0] == 0:
            return False
        mean = self.mean if self.mean is not None else self._stats.weighted_mean()
        mean = np.asarray(to_host(mean), dtype=np.float64)
        var = self._stats.column_squares() - mean**2
        varying = var > 1e-12 * max(float(np.max(var, initial=0.0)), 1e-300)
        return bool(np.all(np.abs(mean[varying]) <= 0.5 * np.sqrt(var[varying]))
                    and np.all((var[varying] >= 0.5) & (var[varying] <= 2.0)))

    def safe_step(self):
        """A step size for which plain gradient descent cannot diverge."""
        L = self.smoothness()
        if L is None or not math.isfinite(L) or L <= 0:
            return None
        return 1.0 / L

    def _newton_applies(self, coupled=False):
        """Whether the Newton system applies (cached; ``coupled``: also that
        of a multiclass loss, see :func:`~skloss._newton.newton_capable`)."""
        known = self._newton or {}
        if coupled not in known:
            # A new dict, not an update: views share this one (copy.copy).
            self._newton = {**known, coupled: newton_capable(
                self.loss, self.penalty, self.X, self._stats.is_ordinary,
                blocks=hasattr(self.route, "newton_system"),
                n_outputs=self.n_outputs, coupled=coupled,
            )}
        return self._newton[coupled]

    def newton_direction(self, theta, gradient=None):
        """The Newton step of the cost at ``theta``, or None where none applies.

        See :mod:`skloss._newton`: binary losses with a second derivative,
        no L1 part, data of ordinary magnitude (NumPy, SciPy or Dask), small
        ``d``. ``gradient``: the smooth cost's gradient at ``theta``, if
        known (it is then not computed again).
        """
        if not self._newton_applies():
            return None
        weights = self.sw if self.sw is not None else self._scale
        return newton_direction(self, theta, weights, gradient)

    def inverse_hessian(self, theta):
        """The inverse Hessian of the cost at ``theta`` as an operator, or None.

        Where :meth:`newton_direction` applies, and for multiclass losses
        with a Hessian (softmax cross-entropy) of at most 1,024
        coefficients; see :func:`skloss._newton.inverse_hessian`.
        """
        if not self._newton_applies(coupled=True):
            return None
        weights = self.sw if self.sw is not None else self._scale
        return inverse_hessian(self, theta, weights)

    def coordinate_scale(self):
        """1 / weighted root-mean-square of each centred feature, per coordinate.

        Of the features the solver sees (after the implicit rescaling of
        extreme columns, if any), in the shape of ``theta``: one on the
        intercept row and on constant columns. Adam's "auto" step.
        """
        inv = self._stats.inverse_rms(self.mean, self.inv_scale, self._variances)
        scale = self.xp.ones_like(self.zeros())
        scale[:-1, :] = to_device(inv, self.xp, self._device(), self.dtype)[:, None]
        return scale
