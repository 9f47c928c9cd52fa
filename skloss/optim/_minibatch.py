"""Mini-batch solvers: the epoch loop, and SGD with momentum (Adam: _adam).

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

import dataclasses
import math
from abc import abstractmethod
from contextlib import nullcontext
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .._array_api import namespace_and_device, to_device
from .._parallel import _BLOCK_BYTES, one_blas_thread
from ._base import Epoch, Solver, SolverState
from ._divergence import _RUNAWAY_FACTOR


class _Overshoot(Exception):
    """A bold "auto" epoch's batch cost ran away (caught in _run)."""


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
    updates : int
        Mini-batch updates made so far, over every call (the clock of
        "sgd"'s decaying "auto" step).
    bold : bool
        Whether ``auto_step`` may overshoot ("sgd"'s ``4 / L``): each epoch
        is then guarded, and one whose batch cost runs away is redone from
        its start with the safe step, which replaces it for good.

    Examples
    --------
    >>> from skloss.optim import MiniBatchState
    >>> MiniBatchState().auto_step is None
    True
    """

    auto_step: object = None
    updates: int = 0
    bold: bool = False


@dataclass
class MomentumState(MiniBatchState):
    """The state of :class:`StochasticGradient`.

    Attributes
    ----------
    epoch, schedule, auto_step, updates, bold
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
    batch_size : int or None, default=None
        The most samples per mini-batch. An epoch is cut into
        ``ceil(n_samples / batch_size)`` batches of equal size, within one
        sample (569 samples at 256 give 190, 190 and 189), so that no short
        last batch takes a full step on a noisier gradient. None: 256
        samples, or on large data as many as fill 1 MiB (the rows a batch
        gathers), but no more than ``n_samples / 64`` (at least 64 steps
        an epoch); see :meth:`default_batch_size`.
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
    optional = ("batch_evaluator", "row_bytes")
    State = MiniBatchState
    # The default batch: at least this many samples, ...
    MIN_BATCH = 256
    # ... raised to fill this many bytes of rows: each step has a fixed
    # cost (about 20 microseconds of Python and ufunc dispatch), a third
    # of a 256 x 100 float64 step. Measured on 150,000 x 100 (20 epochs):
    # 0.85 s at 256 rows, 0.63 s at 1,024 (800 KiB), 0.63 s at 2,048, with
    # the same held-out accuracy and a lower final cost (benchmarks P3).
    BATCH_BYTES = 2**20
    # ... but no fewer than this many steps an epoch.
    MIN_STEPS = 64
    # Whether NumPy and CSR data take LinearObjective.batch_evaluator's
    # lean path (the same results as the generic one, about 3x cheaper per
    # step); the tests switch it off to compare the two.
    fast_batches = True

    def __init__(
        self, learning_rate="auto", *, batch_size=None, shuffle=True,
        random_state=None, **kwargs,
    ):
        super().__init__(**kwargs)
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.random_state = random_state

    def default_batch_size(self, objective, capabilities=frozenset()):
        """The batch size ``batch_size=None`` takes on this objective.

        ``MIN_BATCH`` samples, or as many rows as fill ``BATCH_BYTES``
        where that is more, capped at ``n_samples / MIN_STEPS`` (and never
        below ``MIN_BATCH``). Row sizes are the objective's ``row_bytes``
        (stored entries for sparse data), else ``n_features * itemsize``.

        Examples
        --------
        >>> import numpy as np
        >>> from skloss._objective import LinearObjective
        >>> from skloss.losses import LogLoss
        >>> from skloss.optim import StochasticGradient
        >>> X = np.zeros((150_000, 100))
        >>> obj = LinearObjective(LogLoss(), X, np.zeros(150_000))
        >>> StochasticGradient().default_batch_size(obj, {"row_bytes"})
        1310
        >>> small = LinearObjective(LogLoss(), X[:569], np.zeros(569))
        >>> StochasticGradient().default_batch_size(small, {"row_bytes"})
        256
        """
        if "row_bytes" in capabilities:
            row_bytes = objective.row_bytes
        else:
            row_bytes = objective.n_features * objective.itemsize
        rows = self.BATCH_BYTES // max(int(row_bytes), 1)
        return max(self.MIN_BATCH, min(rows, objective.n_samples // self.MIN_STEPS))

    @abstractmethod
    def _auto_step(self, objective):
        """The step size of ``learning_rate="auto"`` for this objective."""

    @abstractmethod
    def _update(self, objective, theta, grad, step, state):
        """One parameter update from a mini-batch gradient."""

    def _decay(self, objective, state, base):
        """The factor of the "auto" step before the next epoch (1: none)."""
        return 1.0

    def _base_step(self, objective, state):
        if self.learning_rate != "auto":
            return float(self.learning_rate)
        if state.auto_step is None:
            state.auto_step = self._auto_step(objective)
            state.bold = self._bold(objective)
        return state.auto_step

    def _coordinates(self, objective, theta, state, capabilities):
        """The objective an epoch iterates on, and ``theta`` in its
        coordinates (the identity; see StochasticGradient)."""
        return objective, theta

    def _run(self, objective, theta, state, capabilities):
        cost0 = objective.value(theta)
        yield cost0
        outer = objective
        objective, theta = self._coordinates(outer, theta, state, capabilities)
        frame = None if objective is outer else objective
        n = objective.n_samples
        batch_size = self.batch_size
        if batch_size is None:
            batch_size = self.default_batch_size(objective, capabilities)
        batch_size = min(int(batch_size), n)
        # Batches of equal size (within one sample), as np.array_split
        # cuts them: a short last batch (57 of 569 samples at 256) would
        # take a full step on a gradient several times noisier than the
        # others', which is what kept sgd and adam off the optimum.
        n_batches = -(-n // batch_size)
        q, r = divmod(n, n_batches)
        edges = [i * q + min(i, r) for i in range(n_batches + 1)]
        batch_size = edges[1] - edges[0]
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
        auto = self.learning_rate == "auto"
        # A batch cost this high ends a bold "auto" epoch (see _safe_auto_step).
        limit = _RUNAWAY_FACTOR * (abs(cost0) + 1.0)

        def run_epoch(theta, step, guard):
            """One pass of mini-batch updates: ``(theta, cost)``."""
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
                for start, stop in zip(edges[:-1], edges[1:]):
                    idx = order[start:stop]
                    if batch_size == n:  # one full batch: its cost comes below
                        _, grad = objective.smooth_value_gradient(theta)
                        theta = self._update(objective, theta, grad, step, state)
                        state.updates += 1
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
                    if guard and not value <= limit:
                        raise _Overshoot
                    if has_l1:
                        value += objective.nonsmooth_value(theta)
                    total += weight * value
                    total_weight += weight
                    theta = self._update(objective, theta, grad, step, state)
                    state.updates += 1
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
            if guard and not cost <= limit:
                raise _Overshoot
            return theta, cost

        while True:
            if frame is not None:
                self._directions_to(state, outer, objective)
            guard = auto and state.bold
            saved = (theta, dataclasses.replace(state)) if guard else None
            while True:
                step = base * self._factor(state)
                if auto:
                    step *= self._decay(objective, state, base)
                try:
                    theta, cost = run_epoch(theta, step, guard)
                except _Overshoot:
                    # The bold step overshoots on this cost: redo the epoch
                    # from its start with the safe step, for good.
                    theta = saved[0]
                    for f in dataclasses.fields(state):
                        setattr(state, f.name, getattr(saved[1], f.name))
                    base = state.auto_step = self._safe_auto_step(objective)
                    state.bold = guard = False
                    continue
                break
            if frame is not None:
                # Between epochs the state is in the caller's coordinates.
                self._directions_to(state, objective, outer)
            yield Epoch(theta, cost, step, frame=frame)

    def _bold(self, objective):
        """Whether the "auto" step may overshoot (then it is guarded)."""
        return False

    def _safe_auto_step(self, objective):
        """The "auto" step that replaces a bold one that overshot."""
        return self.safe_step(objective)

    @staticmethod
    def _directions_to(state, source, target):
        """Map the state's displacements from ``source``'s coordinates to
        ``target``'s (both maps are linear, so displacements map as points)."""
        for key in state.directions:
            value = getattr(state, key)
            if value is not None:
                setattr(state, key, target.from_model(source.to_model(value)))


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
        The step size :math:`s` before the schedule. "auto", for a loss
        with a curvature bound, iterates in standardized coordinates (the
        diagonal preconditioner of gd's "auto"; the optimum is the same)
        and decays Bottou's way, as SGDClassifier's "optimal":
        :math:`s_t = s_0 / (1 + \\lambda s_0 t / (1 - \\mu))` after
        :math:`t` updates, :math:`\\lambda` the L2 strength, from
        :math:`s_0 = (1 - \\mu) \\min(4 / L, 1 / \\lambda)`, ``L`` the
        cost's mean smoothness bound, :math:`\\mu` the momentum
        (``1 / sqrt(1 + epoch / 10)`` without an L2 part).
        ``4 / L`` is bolder than the descent-step bound ``2 / L``, which a
        loss's curvature bound reaches only at the decision boundary: on
        standardized breast cancer with ``alpha=1e-2`` it ends 4e-4 above
        the optimum in 200 epochs, whatever the seed, where the constant ``1 / L_max`` ended
        0.36 above. Each such epoch is guarded: if a batch cost runs away
        (10^4 times the starting cost) the epoch is redone from its start
        with the safe ``1 / L_max`` (``L_max`` the largest per-sample
        smoothness: every mini-batch step is then a descent step), which
        stays. A loss without a curvature bound (hinge, exponential) takes
        the constant ``1 / L_max`` in the data's own coordinates.
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

    requires = MiniBatchSolver.requires + (
        "loss", "max_sq_norm", "smoothness", "mean_sq_norm",
    )
    optional = MiniBatchSolver.optional + ("preconditioned",)
    State = MomentumState
    # The "auto" base step in units of 1 / L (L the mean smoothness bound).
    AUTO_FACTOR = 4.0

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

    def _coordinates(self, objective, theta, state, capabilities):
        # "auto" iterates in standardized coordinates, as gd's "auto" does
        # (a diagonal preconditioner; the optimum is the same): its bold
        # first step is then one scale for every feature.
        if (
            self.learning_rate != "auto"
            or "preconditioned" not in capabilities
            or objective.smoothness() is None  # then the safe 1 / L_max
        ):
            return objective, theta
        inner = objective.preconditioned()
        if inner is not objective:
            theta = inner.from_model(objective.to_model(theta))
        return inner, theta

    def _auto_step(self, objective):
        L = objective.smoothness()
        if L is None or not L > 0:
            # No curvature bound (hinge, exponential): 1 / L_max, with
            # which no mini-batch step can overshoot, constant.
            return 1.0 / self._l_max(objective)
        # AUTO_FACTOR / L: the loss's curvature bound is reached only at
        # the decision boundary, and the decay below tames the noise.
        step = self.AUTO_FACTOR / max(L, 1e-12)
        lam = objective.penalty.l2
        if lam > 0:
            step = min(step, 1.0 / lam)
        # Momentum multiplies the effective step by 1 / (1 - momentum).
        return (1.0 - self.momentum) * step

    def _bold(self, objective):
        # AUTO_FACTOR / L, above the safe 1 / L_max (see _auto_step).
        return objective.smoothness() is not None

    def _decay(self, objective, state, base):
        # Bottou's 1 / (lam (t + t0)) in updates t, t0 = 1 / (lam * s0),
        # lam the L2 strength and s0 the effective step (SGDClassifier's
        # "optimal" schedule).
        if objective.smoothness() is None:
            return 1.0
        lam = objective.penalty.l2
        if lam > 0:
            s0 = base / (1.0 - self.momentum)
            return 1.0 / (1.0 + lam * s0 * state.updates)
        # No L2 part: 1 / sqrt(t) in epochs (halving by epoch 30), the rate
        # for convex costs without strong convexity.
        return 1.0 / math.sqrt(1.0 + state.epoch / 10.0)

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
