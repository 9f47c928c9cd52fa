"""skloss: a gradient-descent linear classifier with a registry of losses."""

from ._classifier import GDLogisticClassifier
from ._exceptions import DivergenceError
from .losses import Loss, available_losses, get_loss, register_loss, unregister_loss

__version__ = "0.1.0"

__all__ = [
    "DivergenceError",
    "GDLogisticClassifier",
    "Loss",
    "available_losses",
    "get_loss",
    "register_loss",
    "unregister_loss",
    "__version__",
]
