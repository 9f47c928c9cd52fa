"""Solvers: one module per family behind the contract of ``Solver``.

- "gd": full-batch proximal gradient descent (:class:`GradientDescent`);
- "nesterov": accelerated proximal gradient, FISTA with adaptive restart
  (:class:`NesterovGradient`);
- "sgd": mini-batch proximal SGD with (Nesterov) momentum
  (:class:`StochasticGradient`);
- "adam": mini-batch Adam with a proximal L1 step (:class:`Adam`).

Schedules (:func:`make_schedule`) multiply the step size per epoch;
:class:`EarlyStopping` scores each epoch and keeps the best weights.
"""

from ._base import Epoch, OptimizeResult, Solver, SolverState
from ._early_stopping import EarlyStopping
from ._gd import GradientDescent, GradientDescentState
from ._adam import Adam, AdamState
from ._minibatch import (
    MiniBatchSolver,
    MiniBatchState,
    MomentumState,
    StochasticGradient,
)
from ._nesterov import NesterovGradient, NesterovState
from ._schedules import (
    SCHEDULES,
    AdaptiveSchedule,
    ConstantSchedule,
    CosineSchedule,
    ExponentialSchedule,
    FunctionSchedule,
    InvScalingSchedule,
    Schedule,
    make_schedule,
)

SOLVERS = {
    "gd": GradientDescent,
    "nesterov": NesterovGradient,
    "sgd": StochasticGradient,
    "adam": Adam,
}

#: Solvers that visit the data in mini-batches.
MINIBATCH_SOLVERS = frozenset(
    name for name, cls in SOLVERS.items() if issubclass(cls, MiniBatchSolver)
)


def make_solver(name, **params):
    """The solver registered under ``name``, built with ``params``.

    Parameters
    ----------
    name : str
        A key of ``SOLVERS``.
    **params : dict
        Constructor arguments of the solver.

    Returns
    -------
    Solver

    Examples
    --------
    >>> from skloss.optim import make_solver
    >>> make_solver("gd", learning_rate=0.1).learning_rate
    0.1
    """
    try:
        cls = SOLVERS[name]
    except KeyError:
        raise ValueError(
            f"Unknown solver {name!r}; available solvers: {sorted(SOLVERS)}."
        ) from None
    return cls(**params)


__all__ = [
    "Adam",
    "AdamState",
    "AdaptiveSchedule",
    "ConstantSchedule",
    "CosineSchedule",
    "EarlyStopping",
    "Epoch",
    "ExponentialSchedule",
    "FunctionSchedule",
    "GradientDescent",
    "GradientDescentState",
    "InvScalingSchedule",
    "MINIBATCH_SOLVERS",
    "MiniBatchSolver",
    "MiniBatchState",
    "MomentumState",
    "NesterovGradient",
    "NesterovState",
    "OptimizeResult",
    "SCHEDULES",
    "SOLVERS",
    "Schedule",
    "Solver",
    "SolverState",
    "StochasticGradient",
    "make_schedule",
    "make_solver",
]
