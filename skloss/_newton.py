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

import math

import numpy as np
import scipy.sparse as sp
from scipy.linalg.lapack import dpocon as _pocon
from scipy.linalg.lapack import dpotrf as _potrf
from scipy.linalg.lapack import dpotrs as _potrs

from ._kernels import decision_values
from .losses._base import has_hessian

#: The most coefficients per output (features + 1) a Newton step is formed
#: for: its Hessian costs ``n (d + 1)^2`` multiply-adds, a few epochs' worth.
MAX_COEFFICIENTS = 256
#: The most coefficients in all (``(d + 1) K``) the coupled Hessian of a
#: multiclass loss is formed for (:func:`inverse_hessian` only).
MAX_COUPLED_COEFFICIENTS = 1024
# Rows per block of the Hessian's product (bounds the float64 copy), and
# bytes per block of the multiclass system's rows (_diagonal_minus_outer_system).
_BLOCK_ROWS = 4096
_OUTER_BLOCK_BYTES = 16 * 2**20
# The least reciprocal condition number solved: machine precision, below
# which scipy.linalg.solve warns the result is inaccurate (scipy 1.17).
_RCOND_MIN = float(np.finfo(np.float64).eps)


def newton_capable(loss, penalty, X, ordinary, blocks=False, n_outputs=1,
                   coupled=False):
    """Whether :func:`newton_direction` (or, ``coupled``,
    :func:`inverse_hessian`) applies.

    A binary ``loss`` with a second derivative, a smooth ``penalty`` (no
    L1: the step is unconstrained), NumPy or SciPy data ``X`` or ``blocks``
    whose route sums the system over them (Dask, on the workers) of
    ``ordinary`` magnitude (a callable; the Hessian of extreme features
    would overflow) and at most :data:`MAX_COEFFICIENTS` coefficients per
    output. With ``coupled``, also a multiclass loss with a Hessian and at
    most :data:`MAX_COUPLED_COEFFICIENTS` coefficients for its
    ``n_outputs`` outputs together.
    """
    size_ok = (
        (X.shape[1] + 1) * n_outputs <= MAX_COUPLED_COEFFICIENTS
        if loss.multiclass else X.shape[1] + 1 <= MAX_COEFFICIENTS
    )
    return (
        has_hessian(loss)
        and (coupled or not loss.multiclass)
        and not penalty.has_l1
        and (type(X) is np.ndarray or sp.issparse(X) or blocks)
        and size_ok
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


def newton_system(X, y, weights, loss, W, b, gradient=True):
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
    gradient : bool, default=True
        Whether to compute the gradient (the Hessian alone, for
        :func:`inverse_hessian`, takes no pass for it).

    Returns
    -------
    grad : ndarray of shape (n_features + 1, n_outputs) or None
        The weighted gradient sums, the intercept's last; None without
        ``gradient``.
    hess : ndarray of shape (n_outputs, n_features + 1, n_features + 1)
        The weighted Hessian sums per output, the intercept's last; for a
        multiclass loss, whose outputs are coupled, one system of shape
        (1, (n_features + 1) K, (n_features + 1) K), coefficient ``j`` of
        output ``k`` at ``k (n_features + 1) + j``.

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
    grad = None
    if gradient:
        g_raw = np.asarray(loss.gradient(y, raw), dtype=np.float64).reshape(n, K)
        g_raw = g_raw * weights
        grad = np.empty((d + 1, K))
        for k in range(K):
            grad[:d, k] = np.asarray(X.T @ g_raw[:, k]).ravel()
            grad[d, k] = g_raw[:, k].sum()
    if loss.multiclass:
        # The sample's K x K blocks couple the outputs: one system of size
        # (d + 1) K, output-major (coefficient j of output k at k (d+1) + j).
        parts = _hessian_parts(loss, X, y, raw, weights)
        if parts is not None:
            return grad, _diagonal_minus_outer_system(X, weights, *parts)[None]
        h_raw = np.asarray(loss.hessian(y, raw), dtype=np.float64)
        h_raw = h_raw * weights[:, :, None]
        D = d + 1
        hess = np.empty((1, K * D, K * D))
        for k in range(K):
            for j in range(k, K):
                block = _augmented_gram(X, h_raw[:, k, j])
                hess[0, k * D:(k + 1) * D, j * D:(j + 1) * D] = block
                hess[0, j * D:(j + 1) * D, k * D:(k + 1) * D] = block.T
        return grad, hess
    h_raw = np.asarray(loss.hessian(y, raw), dtype=np.float64).reshape(n, K)
    h_raw = h_raw * weights
    hess = np.empty((K, d + 1, d + 1))
    for k in range(K):
        hess[k] = _augmented_gram(X, h_raw[:, k])
    return grad, hess


def _hessian_parts(loss, X, y, raw, weights):
    """``(a, q)`` of a multiclass loss whose Hessian blocks are
    ``diag(a_i) - q_i q_i'`` (``hessian_parts``, softmax cross-entropy's),
    or None.

    Only where the class that defines the ``hessian`` in use also defines
    ``hessian_parts`` (a subclass that overrides ``hessian`` alone has
    other blocks), for dense X and weights that are not negative (their
    square roots weigh the rows).
    """
    owner = next((c for c in type(loss).__mro__ if "hessian" in vars(c)), None)
    if (
        owner is None or "hessian_parts" not in vars(owner)
        or type(X) is not np.ndarray or np.any(weights < 0)
    ):
        return None
    a, q = loss.hessian_parts(y, raw)
    return np.asarray(a, dtype=np.float64), np.asarray(q, dtype=np.float64)


def _diagonal_minus_outer_system(X, weights, a, q):
    """The Hessian sums of blocks ``diag(a_i) - q_i q_i'``, output-major.

    The system the per-pair route sums with one weighted Gram per pair of
    outputs, from far fewer, larger products: with ``x~_i = [x_i, 1]`` and
    ``M`` the rows ``sqrt(w_i) q_i (x) x~_i``, the off-diagonal block
    ``(k, j)`` is ``-(M' M)_kj``, all of them from one symmetric product a
    block of rows at a time; each diagonal block is the Gram of
    ``w (a_k - q_k^2)``, as the per-pair route computes it (no difference
    of two large sums where ``p_k`` is near 1). Covertype-like subsample,
    6,250 x 54, 7 classes, one thread: 53 -> 34 ms.
    """
    n, d = X.shape
    K, D = a.shape[1], d + 1
    scaled = np.sqrt(weights) * q  # weights of shape (n, 1) or (1, 1)
    hess = np.zeros((K * D, K * D))
    rows = max(1, _OUTER_BLOCK_BYTES // (K * D * 8))
    M = np.empty((min(rows, n), K, D))
    for start in range(0, n, rows):
        Xb, qb = X[start:start + rows], scaled[start:start + rows]
        Mb = M[: Xb.shape[0]]
        np.multiply(qb[:, :, None], Xb[:, None, :], out=Mb[:, :, :d])
        Mb[:, :, d] = qb
        flat = Mb.reshape(Xb.shape[0], K * D)
        hess -= flat.T @ flat  # NumPy's symmetric product (syrk) for A' A
    diagonal = weights * (a - q * q)
    for k in range(K):
        hess[k * D:(k + 1) * D, k * D:(k + 1) * D] = _augmented_gram(X, diagonal[:, k])
    return hess


def _augmented_gram(X, h):
    """``[X 1].T @ diag(h) @ [X 1]``: the Hessian sums, the intercept's last."""
    d = X.shape[1]
    out = np.empty((d + 1, d + 1))
    out[:d, :d] = _gram(X, h)
    out[:d, d] = out[d, :d] = np.asarray(X.T @ h).ravel()
    out[d, d] = h.sum()
    return out


def _penalised_system(objective, theta, weights, gradient=True):
    """``(W, grad, hess, m)``: the cost's gradient (None without
    ``gradient``) and Hessian in the model's coordinates at ``theta``, the
    L2 penalty added; ``m`` of the ``n_features + 1`` coefficients are free
    (without an intercept, b stays 0)."""
    model = np.asarray(objective.to_model(theta), dtype=np.float64)
    W, b = model[:-1], model[-1]
    if hasattr(objective.route, "newton_system"):  # Dask: summed over blocks
        grad, hess = objective.route.newton_system(objective.loss, W, b, weights,
                                                   gradient=gradient)
    else:
        grad, hess = newton_system(objective.X, objective.y, weights,
                                   objective.loss, W, b, gradient=gradient)
    l2 = objective.penalty.l2
    d = W.shape[0]
    if grad is not None:
        grad[:d] += l2 * W
    if objective.loss.multiclass:  # one coupled system, output-major
        for k in range(W.shape[1]):
            block = slice(k * (d + 1), k * (d + 1) + d)
            hess[0, block, block] += l2 * np.eye(d)
    else:
        hess[:, :d, :d] += l2 * np.eye(d)
    return W, grad, hess, d + 1 if objective.fit_intercept else d


def _coupled_inverse(hess, d, K, m):
    """The inverse of a multiclass loss's coupled system on its free
    coefficients (``m`` of each output's ``d + 1``), or None.

    A softmax cost is flat along a shift of all the intercepts (it adds
    the same to every output's decision value) and no penalty curves it
    there: the system is singular along that direction, which no gradient
    has a component in. Adding the direction's outer product (scaled to
    the system's mean curvature) makes the system definite and leaves its
    inverse on the gradients unchanged.
    """
    free = np.concatenate([k * (d + 1) + np.arange(m) for k in range(K)])
    system = hess[0][np.ix_(free, free)]
    if m == d + 1:
        shift = np.zeros(len(free))
        shift[m - 1::m] = 1.0 / math.sqrt(K)
        curvature = np.trace(system) / len(free)
        system = system + curvature * np.outer(shift, shift)
    inverse = _inverse(system)
    return None if inverse is None else (free, inverse)


def _solve(hess, rhs):
    """``hess^{-1} rhs`` for a symmetric positive definite ``hess``; None
    where it is singular, not finite, or too ill-conditioned to solve in
    floating point (reciprocal condition number below machine precision,
    where :func:`scipy.linalg.solve` warns: a constant column without L2,
    a huge offset).

    LAPACK's Cholesky routines directly (potrf, pocon, potrs), which
    ``scipy.linalg.solve(assume_a="pos")`` calls too: its checks, dispatch
    and warning filter made it 35-38 us on the 31 x 31 system of a
    breast-cancer Newton step, against 16-23 us here.
    """
    hess = np.asarray(hess, dtype=np.float64)
    if not np.isfinite(hess).all():
        return None
    factor, info = _potrf(hess, lower=False, clean=False)
    if info != 0:
        return None
    rcond, info = _pocon(factor, np.abs(hess).sum(axis=0).max())
    if info != 0 or not rcond >= _RCOND_MIN:
        return None
    rhs = np.asarray(rhs, dtype=np.float64)
    solved, info = _potrs(factor, rhs.reshape(rhs.shape[0], -1), lower=False)
    return solved.reshape(rhs.shape) if info == 0 else None


def _inverse(system):
    """The inverse of a symmetric positive definite ``system``, or None
    where :func:`_solve` gives none or it is not finite."""
    inverse = _solve(system, np.eye(system.shape[0]))
    if inverse is None or not np.all(np.isfinite(inverse)):
        return None
    return inverse


def newton_direction(objective, theta, weights, gradient=None):
    """The Newton step ``-H^{-1} g`` of ``objective``'s cost at ``theta``.

    Parameters
    ----------
    objective : LinearObjective
        A cost for which :func:`newton_capable` holds.
    theta : array of shape (n_features + 1, n_outputs)
        Solver parameters of ``objective``.
    weights : array of shape (n_samples,) or float
        The rows' weights in the cost (normalised to sum to one).
    gradient : array of the shape of ``theta``, optional
        The cost's gradient at ``theta`` in ``objective``'s coordinates, if
        the caller has it (gd does, from its last epoch): mapped to the
        model's by :meth:`~skloss._objective.LinearObjective.model_gradient`
        instead of computed again, which saves a loss gradient and a
        product with ``X``.

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
    W, grad, hess, m = _penalised_system(objective, theta, weights,
                                         gradient=gradient is None)
    if gradient is not None:
        grad = np.asarray(objective.model_gradient(gradient), dtype=np.float64)
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
    W, _, hess, m = _penalised_system(objective, theta, weights, gradient=False)
    (d, K), xp, dtype = W.shape, objective.xp, theta.dtype
    if objective.loss.multiclass:
        coupled = _coupled_inverse(hess, d, K, m)
        if coupled is None:
            return None
        free, inverse = coupled

        def solve(g):
            out = np.zeros((d + 1) * K)
            out[free] = inverse @ g.T.ravel()[free]  # output-major
            return out.reshape(K, d + 1).T
    else:
        inverses = [_inverse(hess[k, :m, :m]) for k in range(K)]
        if any(inverse is None for inverse in inverses):
            return None

        def solve(g):
            out = np.zeros((d + 1, K))
            for k, inverse in enumerate(inverses):
                out[:m, k] = inverse @ g[:m, k]
            return out

    def apply(v):
        # In the model's coordinates (W, b) = M theta, the gradient is
        # M^{-T} v and the step maps back by from_model = M^{-1}.
        g = np.asarray(objective.model_gradient(v), dtype=np.float64)
        return xp.asarray(objective.from_model(solve(g)), dtype=dtype)

    return apply
