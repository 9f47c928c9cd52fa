"""skloss: a gradient-descent linear classifier with a registry of losses."""

from ._classifier import GDLogisticClassifier
from ._exceptions import DivergenceError
from ._persistence import SklossVersionWarning
from ._skops import skops_trusted_types
from ._version import __version__
from .losses import (
    Loss,
    LossContractError,
    available_losses,
    check_loss,
    get_loss,
    register_loss,
    unregister_loss,
)
from .losses._pickling import LossNotFoundError

__all__ = [
    "DivergenceError",
    "GDLogisticClassifier",
    "Loss",
    "LossContractError",
    "LossNotFoundError",
    "SklossVersionWarning",
    "available_losses",
    "check_loss",
    "get_loss",
    "register_loss",
    "skops_trusted_types",
    "unregister_loss",
    "__version__",
]
