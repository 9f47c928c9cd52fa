"""Learning-rate schedules: plain callables ``epoch -> factor``.

A schedule multiplies the base step size (``learning_rate``) at each epoch;
``epoch`` counts from 0 and keeps counting across ``partial_fit`` calls, so
a schedule picks up where the previous call left it. The adaptive schedule
also watches the training cost (:meth:`Schedule.observe`) and holds that
state between calls.
"""

import math
from abc import ABC, abstractmethod
from numbers import Real


class Schedule(ABC):
    """Base class of learning-rate schedules.

    A schedule is called as ``schedule(epoch) -> factor``; the step size of
    epoch ``epoch`` (0-based) is ``learning_rate * factor``. Solvers call
    :meth:`observe` with the cost after each epoch; only stateful schedules
    (:class:`AdaptiveSchedule`) use it.

    Examples
    --------
    >>> from skloss.optim import ConstantSchedule
    >>> ConstantSchedule()(7)
    1.0
    """

    #: Whether the schedule replaces the solver's "no improvement" stopping
    #: rule with its own (it reacts to a plateau by lowering the step).
    handles_plateau = False

    @abstractmethod
    def __call__(self, epoch):
        """The factor of the base step size at ``epoch`` (0-based)."""

    def observe(self, cost):
        """Record the cost after an epoch; True asks the solver to stop.

        Parameters
        ----------
        cost : float
            The training cost after the epoch.

        Returns
        -------
        stop : bool
        """
        return False

    def __repr__(self):
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items()
                           if not k.startswith("_"))
        return f"{type(self).__name__}({params})"


class ConstantSchedule(Schedule):
    """The same step size at every epoch: factor 1.

    Examples
    --------
    >>> from skloss.optim import ConstantSchedule
    >>> [ConstantSchedule()(t) for t in range(3)]
    [1.0, 1.0, 1.0]
    """

    def __call__(self, epoch):
        return 1.0


class InvScalingSchedule(Schedule):
    """Inverse scaling, as SGDClassifier's "invscaling".

    .. math:: \\text{factor}(t) = (t + 1)^{-p}

    Parameters
    ----------
    power_t : float, default=0.5
        The exponent :math:`p`.

    Examples
    --------
    >>> from skloss.optim import InvScalingSchedule
    >>> [InvScalingSchedule(power_t=1.0)(t) for t in range(3)]
    [1.0, 0.5, 0.3333333333333333]
    """

    def __init__(self, power_t=0.5):
        self.power_t = power_t

    def __call__(self, epoch):
        return 1.0 / (epoch + 1.0) ** self.power_t


class ExponentialSchedule(Schedule):
    """Exponential decay.

    .. math:: \\text{factor}(t) = \\gamma^t

    Parameters
    ----------
    gamma : float, default=0.99
        The decay per epoch, in (0, 1].

    Examples
    --------
    >>> from skloss.optim import ExponentialSchedule
    >>> [ExponentialSchedule(gamma=0.5)(t) for t in range(3)]
    [1.0, 0.5, 0.25]
    """

    def __init__(self, gamma=0.99):
        self.gamma = gamma

    def __call__(self, epoch):
        return float(self.gamma) ** epoch


class CosineSchedule(Schedule):
    """Cosine annealing from 1 to ``min_factor`` over ``period`` epochs.

    .. math::
        \\text{factor}(t) = m + \\frac{1 - m}{2}
        \\left(1 + \\cos\\frac{\\pi \\min(t, T)}{T}\\right)

    After ``period`` epochs the factor stays at ``min_factor``.

    Parameters
    ----------
    period : int, default=100
        The number of epochs :math:`T` of the decay. The estimator's
        ``schedule="cosine"`` uses ``max_iter``.
    min_factor : float, default=0.0
        The final factor :math:`m`.

    Examples
    --------
    >>> from skloss.optim import CosineSchedule
    >>> [CosineSchedule(period=2)(t) for t in range(4)]
    [1.0, 0.5, 0.0, 0.0]
    """

    def __init__(self, period=100, min_factor=0.0):
        self.period = period
        self.min_factor = min_factor

    def __call__(self, epoch):
        t = min(epoch, self.period) / self.period
        # Round away the cosine's last-bit noise so the ends are exact.
        cos = round(math.cos(math.pi * t), 15)
        return self.min_factor + (1.0 - self.min_factor) * 0.5 * (1.0 + cos)


class AdaptiveSchedule(Schedule):
    """Divide the step by ``divisor`` after a plateau, as SGDClassifier does.

    The factor starts at 1. After ``n_iter_no_change`` consecutive epochs in
    which the cost did not fall below ``best - tol`` (``best`` the lowest
    cost seen), the factor is divided by ``divisor`` and the count restarts.
    Once the factor is below ``min_factor``, a further plateau stops
    training.

    Parameters
    ----------
    n_iter_no_change : int, default=5
        Epochs without improvement that trigger a decrease.
    tol : float, default=1e-6
        The improvement that counts.
    divisor : float, default=5.0
        The decrease.
    min_factor : float, default=1e-6
        Below this factor a plateau ends training.

    Examples
    --------
    >>> from skloss.optim import AdaptiveSchedule
    >>> sched = AdaptiveSchedule(n_iter_no_change=2)
    >>> factors = []
    >>> for epoch, cost in enumerate([1.0, 1.0, 1.0, 0.5]):
    ...     factors.append(sched(epoch))
    ...     _ = sched.observe(cost)
    >>> factors
    [1.0, 1.0, 1.0, 0.2]
    """

    handles_plateau = True

    def __init__(self, n_iter_no_change=5, tol=1e-6, divisor=5.0, min_factor=1e-6):
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.divisor = divisor
        self.min_factor = min_factor
        self.factor_ = 1.0
        self._best = math.inf
        self._no_improve = 0

    def __call__(self, epoch):
        return self.factor_

    def observe(self, cost):
        tol = 0.0 if self.tol is None else self.tol
        if cost > self._best - tol:
            self._no_improve += 1
        else:
            self._no_improve = 0
        self._best = min(self._best, cost)
        if self._no_improve >= self.n_iter_no_change:
            if self.factor_ < self.min_factor:
                return True
            self.factor_ /= self.divisor
            self._no_improve = 0
        return False


class FunctionSchedule(Schedule):
    """A user function ``epoch -> factor`` as a schedule.

    Parameters
    ----------
    func : callable
        Called with the 0-based epoch; returns a positive finite factor.

    Examples
    --------
    >>> from skloss.optim import FunctionSchedule
    >>> FunctionSchedule(lambda t: 1 / (1 + t))(3)
    0.25
    """

    def __init__(self, func):
        self.func = func

    def __call__(self, epoch):
        factor = self.func(epoch)
        if not isinstance(factor, Real) or not (
            math.isfinite(factor) and factor > 0
        ):
            raise ValueError(
                f"The schedule {self.func!r} returned {factor!r} at epoch "
                f"{epoch}; a schedule must return a positive finite number."
            )
        return float(factor)


SCHEDULES = ("constant", "invscaling", "exponential", "cosine", "adaptive")


def make_schedule(schedule, *, max_iter=100, n_iter_no_change=5, tol=1e-6):
    """The :class:`Schedule` for an estimator's ``schedule`` parameter.

    Parameters
    ----------
    schedule : str, Schedule or callable
        One of "constant", "invscaling" (power 0.5), "exponential"
        (gamma 0.99), "cosine" (over ``max_iter`` epochs, down to 0) and
        "adaptive"; a :class:`Schedule` (used as given); or a callable
        ``epoch -> factor``.
    max_iter : int, default=100
        The period of "cosine".
    n_iter_no_change, tol : int, float
        The plateau rule of "adaptive".

    Returns
    -------
    Schedule

    Examples
    --------
    >>> from skloss.optim import make_schedule
    >>> make_schedule("exponential")(2)
    0.9801
    """
    if isinstance(schedule, Schedule):
        return schedule
    if callable(schedule):
        return FunctionSchedule(schedule)
    if schedule == "constant":
        return ConstantSchedule()
    if schedule == "invscaling":
        return InvScalingSchedule()
    if schedule == "exponential":
        return ExponentialSchedule()
    if schedule == "cosine":
        return CosineSchedule(period=max_iter)
    if schedule == "adaptive":
        return AdaptiveSchedule(n_iter_no_change=n_iter_no_change, tol=tol)
    raise ValueError(
        f"Unknown schedule {schedule!r}; use one of {list(SCHEDULES)} or a "
        "callable epoch -> factor."
    )
