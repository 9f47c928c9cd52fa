"""Solvers: one module per family behind the contract of ``Solver``."""

from ._base import OptimizeResult, Solver
from ._gd import GradientDescent

SOLVERS = {"gd": GradientDescent}


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


__all__ = ["GradientDescent", "OptimizeResult", "SOLVERS", "Solver", "make_solver"]
