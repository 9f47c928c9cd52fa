"""The solver contract: minimise a LinearObjective, reporting every epoch."""

import math
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import numpy as np

from .._exceptions import DivergenceError

# A cost this many times the initial cost (plus one) counts as divergence.
_RUNAWAY_FACTOR = 1e4


def vdot(xp, a, b):
    """The inner product of two parameter arrays, as a Python float.

    Examples
    --------
    >>> import numpy as np
    >>> from skloss.optim._base import vdot
    >>> vdot(np, np.ones((2, 1)), np.full((2, 1), 3.0))
    6.0
    """
    if isinstance(a, np.ndarray):
        # One BLAS call instead of a product array and a reduction.
        return float(np.dot(a.ravel(), b.ravel()))
    return float(xp.sum(a * b))


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
    state : dict
        The solver state to continue from (``partial_fit``): the epoch
        count, the schedule, momentum buffers.

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
    >>> res.n_iter, res.step_sizes, res.state["epoch"]
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
    state: dict = field(default_factory=dict)


class Solver(ABC):
    """Base class of solvers.

    A solver lists the objective methods it needs in ``requires``; a
    missing one is a readable error. Subclasses implement :meth:`_run`, a
    generator yielding ``(theta, cost, step)`` once per epoch; the base class
    owns stopping, early stopping, divergence detection, verbosity and
    callbacks, so every solver behaves alike.

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
        :mod:`skloss.optim`); its state carries over in ``state``.

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

    requires = ("smooth_value_gradient", "value")
    # Whether "no improvement for n_iter_no_change epochs" ends training;
    # non-monotone methods (Barzilai-Borwein) rely on their own test instead.
    stop_on_plateau = True
    # Whether a plateau above the starting cost counts as divergence; only
    # sound for deterministic methods (mini-batch noise can sit above it).
    plateau_is_divergence = True
    # State entries that are displacements of theta (velocities): they are
    # kept in model coordinates between calls, so that the centring of the
    # next call's data applies to them.
    _direction_state = ()

    def __init__(
        self, *, max_iter=1000, tol=1e-6, n_iter_no_change=5, verbose=0,
        schedule=None,
    ):
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.verbose = verbose
        self.schedule = schedule

    def _check_objective(self, objective):
        missing = [m for m in self.requires if not hasattr(objective, m)]
        if missing:
            raise TypeError(
                f"{type(self).__name__} needs the objective methods {missing}, "
                f"which {type(objective).__name__} lacks."
            )

    @abstractmethod
    def _run(self, objective, theta, state):
        """Yield ``(theta, cost, step)`` once per epoch."""

    def _factor(self, state):
        """The schedule's factor for the current epoch (1 without one)."""
        if self.schedule is None:
            return 1.0
        return float(self.schedule(state["epoch"]))

    def _converged(self, objective, theta, cost, step):
        """Solver-specific convergence test (e.g. a small gradient)."""
        return False

    def safe_step(self, objective):
        """A step size for which this solver cannot diverge on ``objective``."""
        return objective.safe_step()

    def _caller_theta(self, theta):
        """``theta`` as yielded by :meth:`_run`, in the caller's coordinates.

        The identity; a solver that iterates in other coordinates (gd's
        preconditioning) maps back here, so the conversion runs only when
        someone looks at the parameters (callbacks, early stopping, the
        result), not at every epoch.
        """
        return theta

    def _initial_cost(self, objective, theta0):
        """The cost at the start: the reference of divergence detection.

        Solvers whose first epoch evaluates the cost and gradient at
        ``theta0`` anyway override this to share that evaluation.
        """
        return objective.value(theta0)

    def minimize(
        self, objective, theta0, *, callback=None, on_epoch_begin=None,
        early_stopping=None, state=None,
    ):
        """Minimise ``objective`` from ``theta0``.

        Parameters
        ----------
        objective : LinearObjective
            The cost to minimise.
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
        state : dict, default=None
            The ``state`` of an earlier result to continue from (used by
            ``partial_fit``); it is updated in place. None starts afresh.

        Returns
        -------
        OptimizeResult

        Raises
        ------
        DivergenceError
            When the cost becomes non-finite or grows without bound.
        """
        self._check_objective(objective)
        state = {} if state is None else state
        state.setdefault("epoch", 0)
        for key in self._direction_state:
            if state.get(key) is not None:
                state[key] = objective.from_model(state[key])
        result = OptimizeResult(theta=theta0, state=state)
        cost0 = self._initial_cost(objective, theta0)
        if not math.isfinite(cost0):
            raise DivergenceError(
                f"The initial cost is {cost0}: the loss is not finite at the "
                "starting weights. Check the data for huge values and the "
                "loss for overflow.",
                epoch=0,
            )
        schedule = self.schedule
        # tol=None: run every epoch; no stopping test of any kind ends it.
        stopping = self.tol is not None
        plateau = (
            stopping
            and self.stop_on_plateau
            and early_stopping is None
            and not getattr(schedule, "handles_plateau", False)
        )
        best = cost0
        no_improve = 0
        start = time.perf_counter()
        steps = self._run(objective, theta0, state)
        for epoch in range(1, self.max_iter + 1):
            if on_epoch_begin is not None:
                on_epoch_begin(epoch)
            theta, cost, step = next(steps)
            state["epoch"] += 1
            self._check_divergence(objective, state["epoch"], cost, cost0, step)
            result.theta = theta
            result.n_iter = epoch
            result.loss_curve.append(cost)
            result.step_sizes.append(step)
            stop = False
            if early_stopping is not None or callback is not None:
                theta = self._caller_theta(theta)
            if early_stopping is not None and early_stopping.update(epoch, theta):
                stop = result.converged = stopping
            if self.verbose:
                score = (
                    f", validation score: {early_stopping.scores_[-1]:.6g}"
                    if early_stopping is not None else ""
                )
                print(
                    f"-- Epoch {state['epoch']}, cost: {cost:.8g}, "
                    f"step: {step:.4g}{score}, "
                    f"time: {time.perf_counter() - start:.3f}s"
                )
            if schedule is not None and schedule.observe(cost):
                stop = result.converged = stopping
            if callback is not None and callback(epoch, theta, cost, step):
                stop = result.stopped_by_callback = True
            if stop:
                break
            if stopping and self._converged(objective, theta, cost, step):
                result.converged = True
                break
            if plateau:
                if cost > best - self.tol:
                    no_improve += 1
                else:
                    no_improve = 0
                if no_improve >= self.n_iter_no_change:
                    if cost > cost0 > 0 and self.plateau_is_divergence:
                        # A plateau above the starting cost is oscillation:
                        # the step is too large for this data. Growth from
                        # a zero starting cost (the perceptron at W = 0,
                        # its trivial minimum) is learning, not divergence.
                        self._raise_divergence(
                            objective, state["epoch"], cost, cost0, step
                        )
                    result.converged = True
                    break
            best = min(best, cost)
        steps.close()
        if result.theta is not theta0:
            result.theta = self._caller_theta(result.theta)
        if early_stopping is not None:
            result.validation_scores = list(early_stopping.scores_)
            result.best_epoch = early_stopping.best_epoch_
            if early_stopping.best_theta_ is not None:
                result.theta = early_stopping.best_theta_
        for key in self._direction_state:
            if state.get(key) is not None:
                state[key] = objective.to_model(state[key])
        return result

    def _check_divergence(self, objective, epoch, cost, cost0, step):
        if math.isfinite(cost) and cost <= _RUNAWAY_FACTOR * (abs(cost0) + 1.0):
            return
        self._raise_divergence(objective, epoch, cost, cost0, step)

    def _raise_divergence(self, objective, epoch, cost, cost0, step):
        safe = self.safe_step(objective)
        advice = (
            f"A step size of at most {safe:.3g} is safe for this data, or use "
            "learning_rate='auto'."
            if safe is not None
            else "Lower the learning rate, or use learning_rate='auto'."
        )
        if not math.isfinite(cost):
            what = "is not finite"
        elif cost <= _RUNAWAY_FACTOR * (abs(cost0) + 1.0):
            what = "rose above its starting value and stopped improving"
        else:
            what = "grew without bound"
        raise DivergenceError(
            f"Training diverged at epoch {epoch}: the cost {what} "
            f"({cost:.4g}, from {cost0:.4g} at the start) with learning rate "
            f"{step:.4g}. {advice} The model was left as it was before fit.",
            epoch=epoch,
            learning_rate=step,
            safe_learning_rate=safe,
        )
