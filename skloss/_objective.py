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
"""

import math

import numpy as np
import scipy.sparse as sp
from sklearn.utils._array_api import get_namespace

from ._penalties import Penalty


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
    penalty : Penalty, default=Penalty()
        The penalty on the coefficients.
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
        penalty=Penalty(),
        fit_intercept=True,
    ):
        self.loss = loss
        self.X = X
        self.y = y
        self.penalty = penalty
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
        if fit_intercept:
            self.mean = self._weighted_mean(X)

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
        if self.mean is None:
            return theta
        out = self.xp.asarray(theta, copy=True)
        out[-1, :] = theta[-1, :] - self.mean @ theta[:-1, :]
        return out

    def from_model(self, theta):
        """Solver parameters (W, c) of model parameters (W, b): c = b + mu.W."""
        if self.mean is None:
            return theta
        out = self.xp.asarray(theta, copy=True)
        out[-1, :] = theta[-1, :] + self.mean @ theta[:-1, :]
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

    # -- forward ----------------------------------------------------------
    def raw(self, theta, X=None):
        """Decision values ``(X - mu) @ W + c``, shape (n,) when n_outputs is 1."""
        X = self.X if X is None else X
        W, b = self.split(theta)
        if self.mean is not None:
            b = b - self.mean @ W
        if self.n_outputs == 1:
            return X @ W[:, 0] + b[0]
        return X @ W + b

    def _weighted(self, values):
        """Weighted sum over samples of per-sample values (n,) or (n, K)."""
        xp = self.xp
        if values.ndim == 2:
            values = xp.sum(values, axis=1)
        if self.sw is None:
            return float(xp.sum(values)) * self._scale
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
        W, _ = self.split(theta)
        return self._weighted(self.loss.loss(self.y, self.raw(theta))) + (
            self.penalty.smooth_value(W)
        )

    def value(self, theta):
        """The full cost, L1 part included."""
        W, _ = self.split(theta)
        return self.smooth_value(theta) + self.penalty.l1_value(W)

    def smooth_value_gradient(self, theta):
        """Smooth cost and its gradient with respect to ``theta``.

        The gradient has the shape of ``theta``; its intercept row is zero
        when ``fit_intercept`` is False.
        """
        xp = self.xp
        W, _ = self.split(theta)
        loss, g = self.loss.loss_gradient(self.y, self.raw(theta))
        value = self._weighted(loss) + self.penalty.smooth_value(W)
        g = self._weight_gradient(g)
        grad = xp.empty_like(theta)
        if self.n_outputs == 1:
            grad[:-1, 0] = self.X.T @ g
            grad[-1, 0] = xp.sum(g) if self.fit_intercept else 0.0
        else:
            grad[:-1, :] = self.X.T @ g
            grad[-1, :] = xp.sum(g, axis=0) if self.fit_intercept else 0.0
        if self.mean is not None:
            # d/dW of (X - mu) @ W: subtract mu times the summed gradient.
            grad[:-1, :] -= self.mean[:, None] * grad[-1, :][None, :]
        self.penalty.add_smooth_gradient(W, grad[:-1, :])
        return value, grad

    def nonsmooth_value(self, theta):
        """The L1 part of the penalty (zero without one)."""
        return self.penalty.l1_value(self.split(theta)[0])

    def prox(self, theta, step):
        """Proximal step on the L1 part; the intercept is left alone."""
        if not self.penalty.has_l1:
            return theta
        out = self.xp.asarray(theta, copy=True)
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
                self.penalty.l2
            )
        return self._L

    def mean_sq_norm(self):
        """Weighted mean of ``||x_i - mu||^2`` (+1 for the intercept column)."""
        xp = self.xp
        X = self.X
        if self.sparse:
            sq = np.asarray(X.multiply(X).sum(axis=1)).ravel()
        else:
            sq = xp.vecdot(X, X)  # row norms without a copy of X
        if self.sw is None:
            total = float(xp.sum(sq)) * self._scale
        else:
            total = float(xp.vecdot(self.sw, xp.asarray(sq, dtype=self.sw.dtype)))
        if self.fit_intercept:
            # Centring removes ||mu||^2; the intercept column adds 1.
            total = max(total - float(xp.vecdot(self.mean, self.mean)), 0.0) + 1.0
        return total

    def safe_step(self):
        """A step size for which plain gradient descent cannot diverge."""
        L = self.smoothness()
        if L is None or not math.isfinite(L) or L <= 0:
            return None
        return 1.0 / L
