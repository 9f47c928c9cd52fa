"""Newton steps on the cost of a binary loss that has a second derivative.

Gradient steps approach the optimum of a piecewise-quadratic cost (modified
Huber, squared hinge) only linearly, and slowly where few samples sit on
the curved pieces and a small ``alpha`` is all the curvature left: on
scikit-learn's sample-weight check (15 x 30, ``alpha=1e-4``) gd needs about
2,200 epochs for 5e-9. Once the pieces each sample sits on are settled, one
Newton step solves that quadratic exactly. ``solver="gd"`` with
``learning_rate="auto"`` finishes with such steps where the loss gives its
second derivative (:meth:`skloss.Loss.hessian`) and the Hessian is small
enough to form, ``(d + 1)^2`` per output.

The step is computed in the model's coordinates (W, b): Newton's step is
invariant under the objective's linear reparametrisations (centring,
preconditioning), so it maps to the solver's coordinates by the linear
``from_model``. :func:`inverse_hessian` gives the same system as an
operator, formed once and applied to other gradients (gd's subsampled
Newton steps on large data).
"""

import warnings

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from ._kernels import decision_values
from .losses._base import has_hessian

#: The most coefficients per output (features + 1) a Newton step is formed
#: for: its Hessian costs ``n (d + 1)^2`` multiply-adds, a few epochs' worth.
MAX_COEFFICIENTS = 256
# Rows per block of the Hessian's product (bounds the float64 copy).
_BLOCK_ROWS = 4096


def newton_capable(loss, penalty, X, ordinary, blocks=False):
    """Whether :func:`newton_direction` applies.

    A binary ``loss`` with a second derivative, a smooth ``penalty`` (no
    L1: the step is unconstrained), NumPy or SciPy data ``X`` or ``blocks``
    whose route sums the system over them (Dask, on the workers) of
    ``ordinary`` magnitude (a callable; the Hessian of extreme features
    would overflow) and at most :data:`MAX_COEFFICIENTS` coefficients per
    output.
    """
    return (
        has_hessian(loss)
        and not penalty.has_l1
        and (type(X) is np.ndarray or sp.issparse(X) or blocks)
        and X.shape[1] + 1 <= MAX_COEFFICIENTS
        and ordinary()
    )


def _gram(X, h):
    """``X.T @ diag(h) @ X`` in float64, by blocks of rows for dense X."""
    if sp.issparse(X):
        return np.asarray((X.T @ X.multiply(h[:, None]).tocsr()).toarray(),
                          dtype=np.float64)
    d = X.shape[1]
    out = np.zeros((d, d))
    for start in range(0, X.shape[0], _BLOCK_ROWS):
        block = np.asarray(X[start:start + _BLOCK_ROWS], dtype=np.float64)
        out += block.T @ (block * h[start:start + _BLOCK_ROWS, None])
    return out


def newton_system(X, y, weights, loss, W, b):
    """The data part of the cost's gradient and Hessian at ``(W, b)``.

    Sums over the rows of ``X`` (a whole data set or one block of it), so
    that blocks of a Dask array add up to the whole; the penalty is added
    by :func:`newton_direction`.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
    y : ndarray
        Targets in the loss's encoding.
    weights : array of shape (n_samples,) or float
        The rows' weights in the cost.
    loss : Loss
        A loss with :meth:`~skloss.Loss.hessian`.
    W : ndarray of shape (n_features, n_outputs)
    b : ndarray of shape (n_outputs,)

    Returns
    -------
    grad : ndarray of shape (n_features + 1, n_outputs)
        The weighted gradient sums, the intercept's last.
    hess : ndarray of shape (n_outputs, n_features + 1, n_features + 1)
        The weighted Hessian sums per output, the intercept's last.

    Examples
    --------
    >>> import numpy as np
    >>> from skloss.losses import SquaredHinge
    >>> X = np.array([[0.1], [-0.2]])
    >>> grad, hess = newton_system(X, np.array([1.0, 0.0]), 0.5,
    ...                            SquaredHinge(), np.zeros((1, 1)), np.zeros(1))
    >>> grad.shape, hess.shape
    ((2, 1), (1, 2, 2))
    """
    raw = decision_values(X, W, b)
    n, d = X.shape
    K = W.shape[1]
    weights = np.asarray(weights, dtype=np.float64).reshape(-1, 1)
    g_raw = np.asarray(loss.gradient(y, raw), dtype=np.float64).reshape(n, K)
    h_raw = np.asarray(loss.hessian(y, raw), dtype=np.float64).reshape(n, K)
    g_raw, h_raw = g_raw * weights, h_raw * weights
    grad = np.empty((d + 1, K))
    hess = np.empty((K, d + 1, d + 1))
    for k in range(K):
        g_k, h_k = g_raw[:, k], h_raw[:, k]
        grad[:d, k] = np.asarray(X.T @ g_k).ravel()
        grad[d, k] = g_k.sum()
        hess[k, :d, :d] = _gram(X, h_k)
        hess[k, :d, d] = hess[k, d, :d] = np.asarray(X.T @ h_k).ravel()
        hess[k, d, d] = h_k.sum()
    return grad, hess


def _penalised_system(objective, theta, weights):
    """``(W, grad, hess, m)``: the cost's gradient and Hessian in the model's
    coordinates at ``theta``, the L2 penalty added; ``m`` of the
    ``n_features + 1`` coefficients are free (without an intercept, b stays
    0)."""
    model = np.asarray(objective.to_model(theta), dtype=np.float64)
    W, b = model[:-1], model[-1]
    if hasattr(objective.route, "newton_system"):  # Dask: summed over blocks
        grad, hess = objective.route.newton_system(objective.loss, W, b, weights)
    else:
        grad, hess = newton_system(objective.X, objective.y, weights,
                                   objective.loss, W, b)
    l2 = objective.penalty.l2
    d = W.shape[0]
    grad[:d] += l2 * W
    hess[:, :d, :d] += l2 * np.eye(d)
    return W, grad, hess, d + 1 if objective.fit_intercept else d


def _solve(hess, rhs):
    """``hess^{-1} rhs`` for a symmetric positive definite ``hess``; None
    where it is singular or too ill-conditioned to solve in floating point
    (rcond below machine precision: a constant column without L2, a huge
    offset)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", scipy.linalg.LinAlgWarning)
            return scipy.linalg.solve(hess, rhs, assume_a="pos")
    except (np.linalg.LinAlgError, ValueError, scipy.linalg.LinAlgWarning):
        return None


def newton_direction(objective, theta, weights):
    """The Newton step ``-H^{-1} g`` of ``objective``'s cost at ``theta``.

    Parameters
    ----------
    objective : LinearObjective
        A cost for which :func:`newton_capable` holds.
    theta : array of shape (n_features + 1, n_outputs)
        Solver parameters of ``objective``.
    weights : array of shape (n_samples,) or float
        The rows' weights in the cost (normalised to sum to one).

    Returns
    -------
    array of the shape of ``theta``, or None
        The step in ``objective``'s coordinates; None where the Hessian is
        singular (no curvature in some direction: no L2 and no sample on a
        curved piece), too ill-conditioned to solve in floating point, or
        the step is not finite.

    Examples
    --------
    On a quadratic cost (every sample on the curved piece) one step lands on
    the optimum, where the gradient vanishes:

    >>> import numpy as np
    >>> from skloss._objective import LinearObjective
    >>> from skloss._penalties import make_penalty
    >>> from skloss.losses import SquaredHinge
    >>> X = np.array([[0.1], [-0.2], [0.3], [0.05]])
    >>> obj = LinearObjective(SquaredHinge(), X, np.array([1.0, 0.0, 1.0, 0.0]),
    ...                       penalty=make_penalty("l2", 1.0))
    >>> theta = obj.zeros() + obj.newton_direction(obj.zeros())
    >>> bool(np.abs(obj.smooth_value_gradient(theta)[1]).max() < 1e-12)
    True
    """
    W, grad, hess, m = _penalised_system(objective, theta, weights)
    step = np.zeros((W.shape[0] + 1, W.shape[1]))
    for k in range(step.shape[1]):
        solved = _solve(hess[k, :m, :m], grad[:m, k])
        if solved is None:
            return None
        step[:m, k] = -solved
    if not np.all(np.isfinite(step)):
        return None
    return objective.xp.asarray(objective.from_model(step), dtype=theta.dtype)


def inverse_hessian(objective, theta, weights):
    """The inverse of the cost's Hessian at ``theta``, as an operator.

    Formed once, it applies to any vector in ``objective``'s coordinates,
    and to those of every copy of ``objective`` that shares them (the
    strided and batch views): "auto" gradient descent forms it on the warm
    start's subsample, where it costs ``1 / 16`` of the Hessian of all the
    data, and uses it as the initial matrix of its limited-memory BFGS
    directions on all of it (see :class:`skloss.optim.GradientDescent`).

    Parameters
    ----------
    objective, theta, weights
        As for :func:`newton_direction`.

    Returns
    -------
    callable or None
        ``apply(v)``: ``H^{-1} v`` for ``v`` of the shape of ``theta``, a
        gradient in ``objective``'s coordinates (so ``-apply(g)`` is the
        Newton step); None where the Hessian is singular, too
        ill-conditioned or not finite.

    Examples
    --------
    Applied to the gradient, it gives the Newton step:

    >>> import numpy as np
    >>> from skloss._objective import LinearObjective
    >>> from skloss._penalties import make_penalty
    >>> from skloss.losses import LogLoss
    >>> X = np.array([[0.1, 1.0], [-0.2, 0.5], [0.3, 2.0], [0.05, 1.5]])
    >>> obj = LinearObjective(LogLoss(), X, np.array([1.0, 0.0, 1.0, 0.0]),
    ...                       penalty=make_penalty("l2", 0.1))
    >>> theta = obj.zeros()
    >>> apply = obj.inverse_hessian(theta)
    >>> g = obj.smooth_value_gradient(theta)[1]
    >>> bool(np.allclose(-apply(g), obj.newton_direction(theta)))
    True
    """
    _, _, hess, m = _penalised_system(objective, theta, weights)
    n_coef = hess.shape[1]
    inverses = []
    for k in range(hess.shape[0]):
        inverse = _solve(hess[k, :m, :m], np.eye(m))
        if inverse is None or not np.all(np.isfinite(inverse)):
            return None
        inverses.append(inverse)
    xp, dtype = objective.xp, theta.dtype

    def apply(v):
        # In the model's coordinates (W, b) = M theta, the gradient is
        # M^{-T} v and the step maps back by from_model = M^{-1}.
        g = np.asarray(objective.model_gradient(v), dtype=np.float64)
        out = np.zeros((n_coef, g.shape[1]))
        for k, inverse in enumerate(inverses):
            out[:m, k] = inverse @ g[:m, k]
        return xp.asarray(objective.from_model(out), dtype=dtype)

    return apply
