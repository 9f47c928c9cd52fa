"""Mini-batch solvers: stochastic gradient descent (with momentum) and Adam.

An epoch is one pass over the data in mini-batches, shuffled with the
solver's random state. The cost reported for the epoch (``loss_curve``) is
the mean of its mini-batch costs, each at the weights the batch was
evaluated at (weighted by the batches' sample weights, penalty included),
as scikit-learn's ``SGDClassifier`` and ``MLPClassifier`` report it: it
comes free with the gradients, where the full cost at the end of the epoch
would take one more pass over the data. Weights that become non-finite
report an infinite cost, so divergence in the last batch of an epoch is
still caught. With a single batch per epoch (``batch_size >= n_samples``)
the cost is the full cost at the end of the epoch, as for gradient
descent. The L1 part of a penalty is applied by a proximal step after
every update (soft thresholding), so coefficients reach exact zeros.
"""

import math
from abc import abstractmethod
from contextlib import nullcontext
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .._array_api import namespace_and_device, to_device
from .._parallel import _BLOCK_BYTES, one_blas_thread
from ._base import Epoch, Solver, SolverState


@dataclass
class MiniBatchState(SolverState):
    """The state of a mini-batch solver, carried across calls.

    Attributes
    ----------
    epoch, schedule
        See :class:`~skloss.optim.SolverState`.
    auto_step : float or None
        The base step of ``learning_rate="auto"``, measured on the first
        call's data and kept, so that later calls continue with the same
        step; None until then.

    Examples
    --------
    >>> from skloss.optim import MiniBatchState
    >>> MiniBatchState().auto_step is None
    True
    """

    auto_step: object = None


@dataclass
class MomentumState(MiniBatchState):
    """The state of :class:`StochasticGradient`.

    Attributes
    ----------
    epoch, schedule, auto_step
        See :class:`MiniBatchState`.
    velocity : array or None
        The momentum buffer (model coordinates between calls); None
        without momentum or before the first update.

    Examples
    --------
    >>> from skloss.optim import MomentumState
    >>> MomentumState().velocity is None
    True
    """

    directions: ClassVar[tuple] = ("velocity",)

    velocity: object = None


@dataclass
class AdamState(MiniBatchState):
    """The state of :class:`Adam`, as optax's ``ScaleByAdamState``.

    Attributes
    ----------
    epoch, schedule, auto_step
        See :class:`MiniBatchState`.
    count : int
        Updates made so far (the bias correction's :math:`t`).
    mu : array or None
        The first moment estimate :math:`m`.
    nu : array or None
        The second moment estimate :math:`v`.
    feature_scale : array or None
        The per-coordinate factor of ``learning_rate="auto"`` (see
        :class:`Adam`), measured on the first call's data and kept.

    Examples
    --------
    >>> from skloss.optim import AdamState
    >>> AdamState().count
    0
    """

    count: int = 0
    mu: object = None
    nu: object = None
    feature_scale: object = None


class MiniBatchSolver(Solver):
    """Base class of mini-batch solvers.

    The cost yielded for each epoch is the weighted mean of its mini-batch
    costs, each at the weights its batch saw (the full cost after the epoch
    when there is a single batch); see the module docstring. On NumPy and
    CSR data the batches are evaluated by
    ``LinearObjective.batch_evaluator``, bit for bit as the generic
    ``objective.batch(idx)`` views would (``fast_batches = False`` on the
    class or an instance forces the generic path).

    Parameters
    ----------
    learning_rate : float or "auto"
        The base step size, multiplied by the schedule's factor at each
        epoch. "auto" is solver-specific (see the subclasses).
    batch_size : int, default=256
        Samples per mini-batch (the last batch of an epoch may be smaller).
    shuffle : bool, default=True
        Whether to visit the samples in a new random order each epoch.
    random_state : numpy.random.RandomState, default=None
        The source of the shuffling order; it advances, so a solver
        continued in a later call (``partial_fit``) draws new orders.
    **kwargs
        Passed to :class:`~skloss.optim.Solver` (max_iter, tol, schedule,
        ...).

    Examples
    --------
    >>> from skloss.optim import Adam, MiniBatchSolver, StochasticGradient
    >>> issubclass(StochasticGradient, MiniBatchSolver)
    True
    >>> Adam(batch_size=32).batch_size
    32
    """

    # Mini-batch noise can keep the cost above its start on data with no
    # signal: that is not divergence.
    plateau_is_divergence = False
    requires = Solver.requires + (
        "value", "smooth_value_gradient", "nonsmooth_value", "prox", "batch",
        "batch_weight", "n_samples", "n_features", "itemsize",
    )
    optional = ("batch_evaluator",)
    State = MiniBatchState
    # Whether NumPy and CSR data take LinearObjective.batch_evaluator's
    # lean path (the same results as the generic one, about 3x cheaper per
    # step); the tests switch it off to compare the two.
    fast_batches = True

    def __init__(
        self, learning_rate="auto", *, batch_size=256, shuffle=True,
        random_state=None, **kwargs,
    ):
        super().__init__(**kwargs)
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.random_state = random_state

    @abstractmethod
    def _auto_step(self, objective):
        """The step size of ``learning_rate="auto"`` for this objective."""

    @abstractmethod
    def _update(self, objective, theta, grad, step, state):
        """One parameter update from a mini-batch gradient."""

    def _base_step(self, objective, state):
        if self.learning_rate != "auto":
            return float(self.learning_rate)
        if state.auto_step is None:
            state.auto_step = self._auto_step(objective)
        return state.auto_step

    def _run(self, objective, theta, state, capabilities):
        yield objective.value(theta)
        n = objective.n_samples
        batch_size = min(int(self.batch_size), n)
        rng = self.random_state
        if rng is None:
            rng = np.random.RandomState(0)
        base = self._base_step(objective, state)
        xp, device = namespace_and_device(theta)
        evaluate = None
        if (
            self.fast_batches and batch_size < n
            and "batch_evaluator" in capabilities
        ):
            evaluate = objective.batch_evaluator(batch_size)
        has_l1 = objective.penalty.has_l1
        small_batches = evaluate is not None and (
            batch_size * objective.n_features * objective.itemsize
            <= _BLOCK_BYTES
        )
        while True:
            step = base * self._factor(state)
            order = rng.permutation(n) if self.shuffle else np.arange(n)
            # Drawn on the host (the same order for every array library),
            # sent to the data's device once per epoch.
            order = to_device(order, xp, device)
            # The epoch's cost: the weighted mean of its batch costs, each
            # at the weights the batch saw (no extra pass over the data).
            total, total_weight = 0.0, 0.0
            # Small batches run BLAS on this thread alone: waking BLAS
            # threads for each small product costs more than it gains.
            with one_blas_thread() if small_batches else nullcontext():
                for start in range(0, n, batch_size):
                    idx = order[start:min(start + batch_size, n)]
                    if batch_size == n:  # one full batch: its cost comes below
                        _, grad = objective.smooth_value_gradient(theta)
                        theta = self._update(objective, theta, grad, step, state)
                        continue
                    if evaluate is not None:
                        out = evaluate(idx, theta)
                        if out is None:  # all weights zero in this batch
                            continue
                        value, grad, weight = out
                    else:
                        sub = objective.batch(idx)
                        if sub is None:
                            continue
                        value, grad = sub.smooth_value_gradient(theta)
                        weight = objective.batch_weight(idx)
                    if has_l1:
                        value += objective.nonsmooth_value(theta)
                    total += weight * value
                    total_weight += weight
                    theta = self._update(objective, theta, grad, step, state)
            if not total_weight > 0:
                # One step per epoch: its batch cost would be that of the
                # starting weights, so report the cost after it, as gradient
                # descent does (a single diverging step must show).
                cost = objective.value(theta)
            else:
                cost = total / total_weight
            if not bool(xp.all(xp.isfinite(theta))):
                # Diverged in the last batches: the costs they saw may
                # still have been finite.
                cost = math.inf
            yield Epoch(theta, cost, step)


class StochasticGradient(MiniBatchSolver):
    """Mini-batch (proximal) stochastic gradient descent with momentum.

    With momentum :math:`\\mu` and step :math:`s`, each mini-batch gradient
    :math:`g` moves the weights by the heavy-ball rule
    :math:`\\theta \\leftarrow \\operatorname{prox}(\\theta + \\mu v - s g)`,
    :math:`v` the previous displacement; with ``nesterov=True`` the
    gradient is looked ahead (Sutskever et al., 2013):
    :math:`v \\leftarrow \\mu v - s g`,
    :math:`\\theta \\leftarrow \\operatorname{prox}(\\theta + \\mu v - s g)`.

    Parameters
    ----------
    learning_rate : float or "auto"
        The step size :math:`s` before the schedule. "auto" is
        ``1 / L_max``, with ``L_max`` the largest per-sample smoothness
        (loss curvature bound times the largest squared row norm of the
        centred data, plus the L2 strength): every mini-batch step is then
        a descent step, whatever the batch, and heavy-ball or Nesterov
        momentum below 1 stays stable (they need ``s L < 2``), so training
        cannot diverge even on unscaled data.
    momentum : float, default=0.0
        The momentum :math:`\\mu`, in [0, 1).
    nesterov : bool, default=False
        Whether to use Nesterov's look-ahead momentum.
    **kwargs
        Passed to :class:`MiniBatchSolver` (batch_size, shuffle,
        random_state, schedule, max_iter, tol, ...).

    Examples
    --------
    >>> import numpy as np
    >>> from skloss._objective import LinearObjective
    >>> from skloss.losses import LogLoss
    >>> from skloss.optim import StochasticGradient
    >>> X = np.array([[1.0], [-1.0], [2.0], [-0.5]])
    >>> y = np.array([1.0, 0.0, 1.0, 0.0])
    >>> obj = LinearObjective(LogLoss(), X, y)
    >>> solver = StochasticGradient(batch_size=2, max_iter=5,
    ...                             random_state=np.random.RandomState(0))
    >>> res = solver.minimize(obj, obj.zeros())
    >>> res.loss_curve[-1] < res.loss_curve[0]
    True
    """

    requires = MiniBatchSolver.requires + ("loss", "max_sq_norm")
    State = MomentumState

    def __init__(self, learning_rate="auto", *, momentum=0.0, nesterov=False,
                 **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.momentum = momentum
        self.nesterov = nesterov

    def _l_max(self, objective):
        smooth = objective.loss.smoothness
        sq = objective.max_sq_norm()
        L = (1.0 if smooth is None else float(smooth)) * sq + objective.penalty.l2
        return max(L, 1e-12)

    def _auto_step(self, objective):
        return 1.0 / self._l_max(objective)

    def safe_step(self, objective):
        return 1.0 / self._l_max(objective)

    def _update(self, objective, theta, grad, step, state):
        mu = self.momentum
        if not mu:
            return objective.prox(theta - step * grad, step)
        v = state.velocity
        if v is None:
            v = objective.xp.zeros_like(theta)
        if self.nesterov:
            v = mu * v - step * grad
            theta_new = objective.prox(theta + mu * v - step * grad, step)
        else:
            theta_new = objective.prox(theta + mu * v - step * grad, step)
            v = theta_new - theta
        state.velocity = v
        return theta_new


class Adam(MiniBatchSolver):
    """Adam (Kingma & Ba, 2015) on mini-batches, with a proximal L1 step.

    .. math::
        m \\leftarrow \\beta_1 m + (1 - \\beta_1) g, \\quad
        v \\leftarrow \\beta_2 v + (1 - \\beta_2) g^2, \\quad
        \\theta \\leftarrow \\operatorname{prox}_{D}\\left(\\theta - s
        \\frac{\\hat m}{\\sqrt{\\hat v} + \\epsilon}\\right)

    with bias-corrected moments :math:`\\hat m, \\hat v`; the L1 part is
    soft-thresholded coordinate-wise with the same per-coordinate step
    :math:`D = s / (\\sqrt{\\hat v} + \\epsilon)`.

    Parameters
    ----------
    learning_rate : float or "auto"
        The step :math:`s` before the schedule. Adam's update is invariant
        to the scale of the gradient, so each weight moves by about ``s``
        per step, and the decision values by ``s`` times the feature's
        scale. "auto" therefore divides a base step of 0.01 by each
        feature's root-mean-square (after centring): every feature then
        moves the decision values by about 0.01 per step, whatever the
        scaling of the data (the intercept takes 0.01). 0.01 is small
        enough to settle near the optimum and large enough to reach it in
        a few hundred updates on standardized data.
    beta1, beta2 : float, default=0.9, 0.999
        Decay rates of the moment estimates.
    epsilon : float, default=1e-8
        Guards the division.
    **kwargs
        Passed to :class:`MiniBatchSolver`.

    Examples
    --------
    >>> import numpy as np
    >>> from skloss._objective import LinearObjective
    >>> from skloss.losses import LogLoss
    >>> from skloss.optim import Adam
    >>> X = np.array([[1.0], [-1.0], [2.0], [-0.5]])
    >>> y = np.array([1.0, 0.0, 1.0, 0.0])
    >>> obj = LinearObjective(LogLoss(), X, y)
    >>> res = Adam(max_iter=20, random_state=np.random.RandomState(0)).minimize(
    ...     obj, obj.zeros())
    >>> res.loss_curve[-1] < res.loss_curve[0]
    True
    """

    AUTO_STEP = 0.01
    requires = MiniBatchSolver.requires + ("coordinate_scale",)
    State = AdamState

    def __init__(self, learning_rate="auto", *, beta1=0.9, beta2=0.999,
                 epsilon=1e-8, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon

    def _auto_step(self, objective):
        return self.AUTO_STEP

    def _update(self, objective, theta, grad, step, state):
        xp = objective.xp
        m, v = state.mu, state.nu
        if self.learning_rate == "auto":
            if state.feature_scale is None:
                state.feature_scale = objective.coordinate_scale()
            step = step * state.feature_scale
        if m is None:
            m = xp.zeros_like(theta)
            v = xp.zeros_like(theta)
        t = state.count + 1
        b1, b2 = self.beta1, self.beta2
        m = b1 * m + (1.0 - b1) * grad
        v = b2 * v + (1.0 - b2) * (grad * grad)
        m_hat = m / (1.0 - b1**t)
        v_hat = v / (1.0 - b2**t)
        scaled = step / (xp.sqrt(v_hat) + self.epsilon)
        theta = theta - scaled * m_hat
        # The objective's prox: its per-feature thresholds (features it
        # rescaled) included, so Adam minimises the same cost as the others.
        theta = objective.prox(theta, scaled)
        state.mu, state.nu, state.count = m, v, t
        return theta
