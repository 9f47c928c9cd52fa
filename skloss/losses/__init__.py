"""Training losses: the contract, the registry and the built-in losses."""

from ._base import Loss
from ._binary import LogLoss
from ._multiclass import SoftmaxCrossEntropy
from ._registry import (
    available_losses,
    canonical_name,
    get_loss,
    get_loss_class,
    register_loss,
    unregister_loss,
)

__all__ = [
    "Loss",
    "LogLoss",
    "SoftmaxCrossEntropy",
    "available_losses",
    "canonical_name",
    "get_loss",
    "get_loss_class",
    "register_loss",
    "unregister_loss",
]
