"""check_loss: every built-in passes; each broken contract is named."""

import numpy as np
import pytest

from skloss import Loss, LossContractError, available_losses, check_loss, get_loss
from skloss.losses import (
    Brier,
    Hinge,
    LogLoss,
    SoftmaxCrossEntropy,
    SquaredHinge,
)
from skloss.losses._registry import is_builtin

BUILTIN = [n for n, i in available_losses().items() if is_builtin(i["class"])]


@pytest.mark.parametrize("name", BUILTIN)
def test_every_builtin_loss_passes(name):
    assert check_loss(get_loss(name)) is not None


@pytest.mark.parametrize("name, params", [
    ("log_loss", {"label_smoothing": 0.1, "pos_weight": 3.0}),
    ("focal", {"gamma": 0.5, "alpha": 0.25}),
    ("focal", {"gamma": 0.0}),
    ("softmax_cross_entropy", {"label_smoothing": 0.2}),
    ("multiclass_focal", {"gamma": 0.5}),
])
def test_builtin_variants_pass(name, params):
    check_loss(get_loss(name, **params), n_classes=4, random_state=1)


# -- broken losses, one property each ---------------------------------------


class HalfGradient(Loss):
    smoothness = 2.0

    def loss(self, y, raw):
        return (raw - y) ** 2

    def gradient(self, y, raw):
        return raw - y


class Float64Out(LogLoss):
    def loss(self, y, raw):
        return np.asarray(super().loss(y, raw), dtype=np.float64)


class IntegerOut(LogLoss):
    def loss(self, y, raw):
        return np.round(super().loss(y, raw)).astype(np.int64)


class NaiveLogLoss(Loss):
    smoothness = 0.25

    def loss(self, y, raw):
        return np.log(1 + np.exp(raw)) - y * raw

    def gradient(self, y, raw):
        return 1 / (1 + np.exp(-raw)) - y


class ScalarLoss(Loss):
    def loss(self, y, raw):
        return np.sum(raw)

    def gradient(self, y, raw):
        return np.ones_like(raw)


class FusedDisagrees(Loss):
    smoothness = 2.0

    def loss(self, y, raw):
        return (raw - y) ** 2

    def gradient(self, y, raw):
        return 2 * (raw - y)

    def loss_gradient(self, y, raw):
        return self.loss(y, raw), raw - y


class ClaimsConvex(Brier):
    is_convex = True


class ClaimsTooSmooth(LogLoss):
    smoothness = 0.1


class ProbaOutOfRange(LogLoss):
    def predict_proba(self, raw):
        return raw


class RowsDoNotSumToOne(SoftmaxCrossEntropy):
    def predict_proba(self, raw):
        return super().predict_proba(raw) * 0.5


class FlagNotBool(LogLoss):
    has_proba = "yes"


class UnknownMultinomial(Loss):
    multinomial = "no_such_multiclass_loss"

    def loss(self, y, raw):
        return raw * 0

    def gradient(self, y, raw):
        return raw * 0


class ChangesItsParams(LogLoss):
    def __init__(self, label_smoothing=0.0, pos_weight=1.0):
        self.label_smoothing = label_smoothing * 2 + 0.1
        self.pos_weight = pos_weight


class NotImplemented_(Loss):
    pass


class Staircase(Loss):
    def loss(self, y, raw):
        return np.floor(raw * 1e5) / 1e5

    def gradient(self, y, raw):
        return np.zeros_like(raw)


class ClaimsHomogeneous(Hinge):
    # The hinge's margin at 1 makes it not homogeneous (max(0, 1 - z)).
    positively_homogeneous = True


class HalfHessian(SquaredHinge):
    def hessian(self, y, raw):
        return 0.5 * super().hessian(y, raw)


class SoftmaxHessianTransposedCross(SoftmaxCrossEntropy):
    # diag(p) + p p^T: the cross terms' sign flipped.
    def hessian(self, y, raw):
        p = self.predict_proba(raw)
        return p[:, :, None] * np.eye(raw.shape[1]) + p[:, :, None] * p[:, None, :]


class SoftmaxHessianPerClass(SoftmaxCrossEntropy):
    # The binary shape: one value per class, not a matrix per sample.
    def hessian(self, y, raw):
        p = self.predict_proba(raw)
        return p * (1 - p)


class GradientWrongShape(LogLoss):
    def gradient(self, y, raw):
        return super().gradient(y, raw)[:-1]


@pytest.mark.parametrize("loss, prop, message", [
    (HalfGradient(), "gradient", "finite differences"),
    (IntegerOut(), "dtype", "int64 for float64 input; return floating"),
    (NaiveLogLoss(), "finite", r"overflow.*\|raw\| = "),
    (ScalarLoss(), "shape", r"shape \(\), expected \(64,\)"),
    (FusedDisagrees(), "loss_gradient", "loss_gradient"),
    (ClaimsConvex(), "convexity", "below its tangent"),
    (ClaimsTooSmooth(), "smoothness", "smoothness=0.1"),
    (ProbaOutOfRange(), "proba", r"outside \[0, 1\]"),
    (RowsDoNotSumToOne(), "proba", "sum to"),
    (FlagNotBool(), "flags", "has_proba must be a bool"),
    (UnknownMultinomial(), "flags", "no_such_multiclass_loss"),
    (ChangesItsParams(), "hyperparameters", "clone"),
    (NotImplemented_(), "shape", "NotImplementedError"),
    (GradientWrongShape(), "shape", "gradient has shape"),
    (HalfHessian(), "hessian", "finite differences of the gradient"),
    (SoftmaxHessianTransposedCross(), "hessian",
     "finite differences of the gradient"),
    (SoftmaxHessianPerClass(), "hessian", r"\(n_samples, n_classes, n_classes\)"),
    (ClaimsHomogeneous(), "homogeneity", r"loss\(y, 0.5 raw\) differs"),
    (Staircase(), "gradient", "not differentiable"),
], ids=lambda v: type(v).__name__ if isinstance(v, Loss) else None)
def test_each_broken_property_is_named(loss, prop, message):
    with pytest.raises(LossContractError, match=message) as exc:
        check_loss(loss)
    assert exc.value.property == prop
    assert f"fails the '{prop}' check" in str(exc.value)


def test_float64_output_for_float32_input_warns_but_passes():
    # Fits cast it (issue 11, item 8): slower, not wrong.
    with pytest.warns(UserWarning, match="loss is float64 for float32 input; "
                      "fits cast it to the input dtype"):
        check_loss(Float64Out())


def test_the_worst_point_is_reported():
    with pytest.raises(LossContractError) as exc:
        check_loss(HalfGradient())
    point = exc.value.point
    assert {"y", "raw", "gradient", "finite_difference"} <= set(point)
    # The reported point is a real failure: gradient is half the truth.
    assert point["gradient"] == pytest.approx(point["finite_difference"] / 2,
                                              rel=1e-4)
    assert "Worst point: y=" in str(exc.value)


def test_not_a_loss():
    with pytest.raises(LossContractError, match="subclass of skloss.Loss"):
        check_loss(object())


def test_linear_losses_are_probed_at_1e300_superlinear_ones_are_not():
    class OverflowsFar(LogLoss):
        # Linear growth, but overflows for huge raw values.
        def loss(self, y, raw):
            out = super().loss(y, raw)
            if raw.dtype == np.float64 and np.abs(raw).max() > 1e200:
                return raw * raw
            return out

    with pytest.raises(LossContractError, match=r"1e\+300|1e\+100"):
        check_loss(OverflowsFar())
    # The squared hinge grows quadratically: only |raw| <= 1e4 is probed.
    check_loss(get_loss("squared_hinge"))
