"""The solver contract: minimise a LinearObjective, reporting every epoch."""

import copy
import math
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar, NamedTuple

from .._exceptions import DivergenceError
from ._divergence import DivergenceChecks
from ._parameters import vdot


@dataclass
class SolverState:
    """The state a solver continues from: the part every solver shares.

    A solver's state is one of these dataclasses (each family extends it
    with its own fields), returned in :attr:`OptimizeResult.state` and
    passed back as ``minimize(..., state=state)`` to continue, as
    ``partial_fit`` does. Nothing of it is kept on the solver: a solver is
    only its parameters.

    Attributes
    ----------
    epoch : int
        Epochs run so far, over every call: the schedule's clock.
    schedule : Schedule or None
        The schedule in use, with its own state (the factor of
        :class:`~skloss.optim.AdaptiveSchedule`): a copy of the solver's
        ``schedule`` made by the first call, so that training never
        changes the solver's parameter.

    Examples
    --------
    >>> from skloss.optim import SolverState
    >>> SolverState()
    SolverState(epoch=0, schedule=None)
    """

    #: Fields that are displacements of theta (velocities): between calls
    #: they are kept in model coordinates, so that the centring of the next
    #: call's data applies to them.
    directions: ClassVar[tuple] = ()

    epoch: int = 0
    schedule: object = None


class Epoch(NamedTuple):
    """What a solver's :meth:`Solver._run` yields after each epoch.

    Attributes
    ----------
    theta : array
        The parameters, in the coordinates of ``frame``.
    cost : float
        The cost after the epoch.
    step : float
        The step size used.
    grad_map : float
        The largest entry of the gradient map ``|theta_new - theta| /
        step`` (the stopping test of the full-batch solvers), inf where
        not measured.
    frame : object or None
        The objective whose coordinates ``theta`` is in, when it is not
        the objective passed to ``minimize`` (gd's preconditioning).
    finite_gradient : bool
        False when a gradient the epoch computed is not finite: divergence,
        even where the cost is still finite (a line search would otherwise
        halve its step forever).
    settled : bool
        True when the solver's own stopping rule is met where the gradient
        map says nothing (gd's smoothing continuation: its last stage has
        stopped improving the cost); a convergence, as ``grad_map <= tol``.
    """

    theta: object
    cost: float
    step: float
    grad_map: float = math.inf
    frame: object = None
    finite_gradient: bool = True
    settled: bool = False


@dataclass
class OptimizeResult:
    """What a solver returns.

    Attributes
    ----------
    theta : array of shape (n_features + 1, n_outputs)
        The final parameters (the best epoch's under early stopping).
    n_iter : int
        Epochs run.
    loss_curve : list of float
        The cost after each epoch.
    step_sizes : list of float
        The step size used in each epoch.
    converged : bool
        Whether a stopping criterion was met before ``max_iter``.
    stopped_by_callback : bool
        Whether a callback asked to stop.
    validation_scores : list of float
        The early-stopping score after each epoch (empty without it).
    best_epoch : int or None
        The epoch whose weights ``theta`` holds under early stopping.
    state : SolverState
        The solver state to continue from (``partial_fit``): the epoch
        count, the schedule and the family's own fields (momentum, Adam's
        moments, ...); see each solver's ``State``.

    Examples
    --------
    >>> import numpy as np
    >>> from skloss._objective import LinearObjective
    >>> from skloss.losses import LogLoss
    >>> from skloss.optim import GradientDescent
    >>> obj = LinearObjective(LogLoss(), np.array([[1.0], [-1.0]]),
    ...                       np.array([1.0, 0.0]))
    >>> res = GradientDescent(learning_rate=0.5, max_iter=3, tol=None).minimize(
    ...     obj, obj.zeros())
    >>> res.n_iter, res.step_sizes, res.state.epoch
    (3, [0.5, 0.5, 0.5], 3)
    """

    theta: object
    n_iter: int = 0
    loss_curve: list = field(default_factory=list)
    step_sizes: list = field(default_factory=list)
    converged: bool = False
    stopped_by_callback: bool = False
    validation_scores: list = field(default_factory=list)
    best_epoch: object = None
    state: SolverState = field(default_factory=SolverState)


class Solver(DivergenceChecks, ABC):
    """Base class of solvers.

    The contract with the objective is declared: ``requires`` names every
    method and attribute of the objective the solver uses, ``optional`` the
    capabilities it uses where the objective has them (a faster path, a
    better first step). :meth:`minimize` checks both before it runs; a
    missing requirement is a ``TypeError`` naming the solver and the
    method. Subclasses implement :meth:`_run`, a generator yielding the
    initial cost and then one :class:`Epoch` per epoch; the base class
    owns stopping, early stopping, divergence detection, verbosity and
    callbacks, so every solver behaves alike. A solver's state lives in
    its ``State`` dataclass (a :class:`SolverState`), never on the solver.

    Parameters
    ----------
    max_iter : int
        Maximum number of epochs.
    tol : float or None
        Stop when the cost has not improved by ``tol`` for
        ``n_iter_no_change`` consecutive epochs. None disables every
        stopping test, as in SGDClassifier: the plateau rule, the solver's
        own test, a stateful schedule's end and early stopping (which still
        scores every epoch and keeps the best weights); only a callback can
        end training before ``max_iter``.
    n_iter_no_change : int
        See ``tol``.
    verbose : int
        Print one line per epoch when positive.
    schedule : Schedule or None
        Multiplies the base step size at each epoch (see
        :mod:`skloss.optim`); a copy of it, with its state, carries over in
        ``state``.
    pocket : bool
        Run as Gallant's pocket algorithm, for a cost that is positively
        homogeneous in the parameters (the perceptron criterion:
        ``cost(c theta) = c cost(theta)``, nearly so with a small penalty),
        whose fixed-step method is no descent method: epochs are compared
        by their cost per unit norm of the parameters (the plateau rule
        included), and the best epoch's parameters are returned instead of
        the last (without early stopping, which keeps its own best epoch).
        ``state`` still continues from the last epoch.

    Examples
    --------
    A solver continues from the ``state`` of an earlier result, here with a
    schedule that counts its epochs across the two calls:

    >>> import numpy as np
    >>> from skloss._objective import LinearObjective
    >>> from skloss.losses import LogLoss
    >>> from skloss.optim import GradientDescent, ExponentialSchedule
    >>> obj = LinearObjective(LogLoss(), np.array([[1.0], [-1.0]]),
    ...                       np.array([1.0, 0.0]))
    >>> solver = GradientDescent(learning_rate=1.0, max_iter=2, tol=None,
    ...                          schedule=ExponentialSchedule(gamma=0.5))
    >>> first = solver.minimize(obj, obj.zeros())
    >>> second = solver.minimize(obj, first.theta, state=first.state)
    >>> first.step_sizes + second.step_sizes
    [1.0, 0.5, 0.25, 0.125]
    """

    #: Objective methods and attributes every solver uses (conversions
    #: between coordinates, the safe step of divergence messages).
    requires = ("xp", "penalty", "to_model", "from_model", "safe_step")
    #: Objective capabilities a solver uses where present.
    optional = ()
    #: The dataclass of this solver's state.
    State = SolverState
    # Whether "no improvement for n_iter_no_change epochs" ends training;
    # non-monotone methods (Barzilai-Borwein) rely on their own test instead.
    stop_on_plateau = True
    # Whether a plateau above the starting cost counts as divergence; only
    # sound for deterministic methods (mini-batch noise can sit above it).
    plateau_is_divergence = True

    def __init__(
        self, *, max_iter=1000, tol=1e-6, n_iter_no_change=5, verbose=0,
        schedule=None, pocket=False,
    ):
        self.pocket = pocket
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.verbose = verbose
        self.schedule = schedule

    def check_objective(self, objective):
        """Check the contract with ``objective``; return what it offers.

        Parameters
        ----------
        objective : object
            The cost to minimise (a ``LinearObjective`` or any object with
            the names in ``requires``).

        Returns
        -------
        capabilities : frozenset of str
            The names of ``optional`` the objective has.

        Raises
        ------
        TypeError
            When the objective lacks a name of ``requires``.

        Examples
        --------
        >>> from skloss.optim import NesterovGradient
        >>> NesterovGradient().check_objective(object())
        Traceback (most recent call last):
        ...
        TypeError: NesterovGradient needs the objective methods or attributes ...
        """
        missing = [m for m in self.requires if not hasattr(objective, m)]
        if missing:
            raise TypeError(
                f"{type(self).__name__} needs the objective methods or "
                f"attributes {missing}, which {type(objective).__name__} "
                f"lacks. An objective for this solver provides every name "
                f"in {type(self).__name__}.requires (LinearObjective does)."
            )
        return frozenset(m for m in self.optional if hasattr(objective, m))

    @abstractmethod
    def _run(self, objective, theta, state, capabilities):
        """Yield the cost at ``theta``, then one :class:`Epoch` per epoch.

        ``capabilities``: the names of ``optional`` the objective has.
        """

    def _factor(self, state):
        """The schedule's factor for the current epoch (1 without one)."""
        if state.schedule is None:
            return 1.0
        return float(state.schedule(state.epoch))

    def _converged(self, epoch):
        """Solver-specific convergence test on an :class:`Epoch`."""
        return False

    def _plateau_rules(self, objective):
        """``(stop_on_plateau, plateau_is_divergence)`` on ``objective``."""
        return self.stop_on_plateau, self.plateau_is_divergence

    def safe_step(self, objective):
        """A step size for which this solver cannot diverge on ``objective``."""
        return objective.safe_step()

    @staticmethod
    def _caller_theta(objective, epoch):
        """The parameters of ``epoch`` in the caller's coordinates.

        A solver that iterates in other coordinates (gd's preconditioning)
        says so in ``epoch.frame``; the conversion runs only when someone
        looks at the parameters (callbacks, early stopping, the result),
        not at every epoch.
        """
        if epoch.frame is None or epoch.frame is objective:
            return epoch.theta
        return objective.from_model(epoch.frame.to_model(epoch.theta))

    def _start_state(self, state):
        """``state`` as this solver's ``State``; a fresh one for None.

        A state of another solver family (the solver was changed between
        ``partial_fit`` calls) keeps its epoch count and schedule only.
        """
        if isinstance(state, self.State):
            return state
        if state is None:
            state = SolverState()
        elif isinstance(state, dict):  # a model pickled by an older skloss
            state = SolverState(epoch=state.get("epoch", 0),
                                schedule=state.get("schedule"))
        return self.State(epoch=state.epoch, schedule=state.schedule)

    def minimize(
        self, objective, theta0, *, callback=None, on_epoch_begin=None,
        early_stopping=None, state=None,
    ):
        """Minimise ``objective`` from ``theta0``.

        Parameters
        ----------
        objective : LinearObjective
            The cost to minimise (any object with the names in
            ``requires``).
        theta0 : array of shape (n_features + 1, n_outputs)
            The starting point (not modified).
        callback : callable, default=None
            Called as ``callback(epoch, theta, cost, step)`` after each
            epoch; returning True stops training.
        on_epoch_begin : callable, default=None
            Called as ``on_epoch_begin(epoch)`` before each epoch.
        early_stopping : EarlyStopping, default=None
            Scores each epoch; training stops when it says so and the best
            epoch's weights are returned. It replaces the plateau rule on
            the training cost.
        state : SolverState, default=None
            The ``state`` of an earlier result to continue from (used by
            ``partial_fit``); it is updated in place and returned in the
            result. None starts afresh.

        Returns
        -------
        OptimizeResult

        Raises
        ------
        TypeError
            When the objective lacks a method the solver requires.
        DivergenceError
            When the cost or the gradient becomes non-finite, or the cost
            grows without bound.
        """
        capabilities = self.check_objective(objective)
        state = self._start_state(state)
        if state.schedule is None and self.schedule is not None:
            # Training advances the schedule's state (AdaptiveSchedule's
            # factor) in this copy, never in the solver's parameter.
            state.schedule = copy.deepcopy(self.schedule)
        for key in state.directions:
            if getattr(state, key) is not None:
                setattr(state, key, objective.from_model(getattr(state, key)))
        result = OptimizeResult(theta=theta0, state=state)
        steps = self._run(objective, theta0, state, capabilities)
        cost0 = next(steps)
        if not math.isfinite(cost0):
            raise DivergenceError(
                f"The initial cost is {cost0}: the loss is not finite at the "
                "starting weights. Check the data for huge values and the "
                "loss for overflow.",
                epoch=0,
            )
        schedule = state.schedule
        # tol=None: run every epoch; no stopping test of any kind ends it.
        stopping = self.tol is not None
        stop_on_plateau, plateau_is_divergence = self._plateau_rules(objective)
        plateau = (
            stopping
            and stop_on_plateau
            and early_stopping is None
            and not getattr(schedule, "handles_plateau", False)
        )
        # As in SGDClassifier, the plateau rule compares epochs with the best
        # epoch so far, not with the start: a start at the cost's trivial
        # minimum (the perceptron's zero model, cost 0) is not the reference
        # learning has to beat.
        best = math.inf
        best_theta = None
        no_improve = 0
        last = None
        start = time.perf_counter()
        for epoch in range(1, self.max_iter + 1):
            if on_epoch_begin is not None:
                on_epoch_begin(epoch)
            last = next(steps)
            theta, cost, step = last.theta, last.cost, last.step
            state.epoch += 1
            if not last.finite_gradient:
                self._raise_divergence(objective, state.epoch, cost, cost0,
                                       step, what="gradient")
            self._check_divergence(objective, state.epoch, cost, cost0, step)
            result.n_iter = epoch
            result.loss_curve.append(cost)
            result.step_sizes.append(step)
            stop = False
            # What the plateau rule and the pocket compare.
            progress = (
                self._per_unit_norm(objective.xp, last) if self.pocket else cost
            )
            if early_stopping is not None or callback is not None:
                theta = self._caller_theta(objective, last)
            if early_stopping is not None and early_stopping.update(epoch, theta):
                stop = result.converged = stopping
            if self.verbose:
                score = (
                    f", validation score: {early_stopping.scores_[-1]:.6g}"
                    if early_stopping is not None else ""
                )
                print(
                    f"-- Epoch {state.epoch}, cost: {cost:.8g}, "
                    f"step: {step:.4g}{score}, "
                    f"time: {time.perf_counter() - start:.3f}s"
                )
            if schedule is not None and schedule.observe(cost):
                stop = result.converged = stopping
            if callback is not None and callback(epoch, theta, cost, step):
                stop = result.stopped_by_callback = True
            if stop:
                break
            if stopping and self._converged(last):
                result.converged = True
                break
            if plateau:
                if progress > best - self.tol:
                    no_improve += 1
                else:
                    no_improve = 0
                if no_improve >= self.n_iter_no_change:
                    if cost > cost0 > 0 and plateau_is_divergence:
                        # A plateau above the starting cost is oscillation:
                        # the step is too large for this data. Growth from
                        # a zero starting cost (the perceptron at W = 0,
                        # its trivial minimum) is learning, not divergence.
                        self._raise_divergence(
                            objective, state.epoch, cost, cost0, step
                        )
                    result.converged = True
                    break
            if self.pocket and early_stopping is None and progress < best:
                best_theta = objective.xp.asarray(
                    self._caller_theta(objective, last), copy=True
                )
            best = min(best, progress)
        steps.close()
        if last is not None:
            result.theta = self._caller_theta(objective, last)
            if best_theta is not None and best < progress:
                result.theta = best_theta
        if early_stopping is not None:
            result.validation_scores = list(early_stopping.scores_)
            result.best_epoch = early_stopping.best_epoch_
            if early_stopping.best_theta_ is not None:
                result.theta = early_stopping.best_theta_
        for key in state.directions:
            if getattr(state, key) is not None:
                setattr(state, key, objective.to_model(getattr(state, key)))
        return result

    @staticmethod
    def _per_unit_norm(xp, epoch):
        """The cost of ``epoch`` divided by the norm of its parameters.

        For a positively homogeneous cost, the cost of the parameters'
        direction: weights that only grew (Adam's steps, a growing
        perceptron) are not worse for it.
        """
        norm = math.sqrt(vdot(xp, epoch.theta, epoch.theta))
        # The zero model has no direction: never the pocket's choice.
        return epoch.cost / norm if norm > 0 else math.inf
