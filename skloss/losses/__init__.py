"""Training losses: the contract, the registry, the built-in losses, a checker."""

from ._base import Loss
from ._binary import (
    Brier,
    Exponential,
    Focal,
    Hinge,
    LogLoss,
    ModifiedHuber,
    Perceptron,
    SmoothedHinge,
    SquaredHinge,
)
from ._check import LossContractError, check_loss
from ._multiclass import MulticlassFocal, MulticlassHinge, SoftmaxCrossEntropy
from ._registry import (
    available_losses,
    canonical_name,
    get_loss,
    get_loss_class,
    register_loss,
    unregister_loss,
)

__all__ = [
    "Brier",
    "Exponential",
    "Focal",
    "Hinge",
    "LogLoss",
    "Loss",
    "LossContractError",
    "ModifiedHuber",
    "MulticlassFocal",
    "MulticlassHinge",
    "Perceptron",
    "SmoothedHinge",
    "SoftmaxCrossEntropy",
    "SquaredHinge",
    "available_losses",
    "canonical_name",
    "check_loss",
    "get_loss",
    "get_loss_class",
    "register_loss",
    "unregister_loss",
]
