"""The types skops may build when it loads a skloss model."""

import inspect

from ._classifier import GDLogisticClassifier
from .losses import _registry
from .losses._pickling import SavedLoss
from .optim import SOLVERS, _schedules


def skops_trusted_types():
    """The skloss types to trust when loading a model with ``skops.io``.

    The estimator, every built-in loss class, the record of a loss whose
    class skops cannot import (``skloss.losses._pickling.SavedLoss``, for a
    class defined in ``__main__``: rebuilt from a class the loading process
    already has, never imported), and the learning-rate schedule classes
    and solver state classes that a fitted model keeps for ``partial_fit``
    (``skloss.optim``). A model trained with a user loss or a
    user schedule from an importable module needs that class trusted as
    well.

    Returns
    -------
    types : list of str
        Fully qualified type names, for ``skops.io.load(..., trusted=...)``.

    Examples
    --------
    >>> from skloss import skops_trusted_types
    >>> "skloss._classifier.GDLogisticClassifier" in skops_trusted_types()
    True
    """
    classes = [GDLogisticClassifier, SavedLoss]
    for solver in SOLVERS.values():
        # The solver's state dataclass and those it derives from.
        classes.extend(c for c in solver.State.__mro__ if c is not object)
    for info in _registry.available_losses().values():
        if _registry.is_builtin(info["class"]):
            classes.append(info["class"])
    for _, cls in inspect.getmembers(_schedules, inspect.isclass):
        if cls.__module__ == _schedules.__name__ and issubclass(
            cls, _schedules.Schedule
        ):
            classes.append(cls)
    return sorted({f"{c.__module__}.{c.__qualname__}" for c in classes})
