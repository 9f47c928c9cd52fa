"""A user loss's mistakes are named at fit time (skloss.losses._guard)."""

import numpy as np
import pytest
from scipy.special import expit

from skloss import GDLogisticClassifier, Loss, check_loss
from skloss.losses import LogLoss

_LOG = LogLoss()


class _NoneGradient(Loss):
    smoothness = 0.25

    def loss(self, y, raw):
        return _LOG.loss(y, raw)

    def gradient(self, y, raw):
        return None


class _NoneFused(Loss):
    smoothness = 0.25

    def loss_gradient(self, y, raw):
        return None


class _ObjectLoss(Loss):
    smoothness = 0.25

    def loss(self, y, raw):
        return _LOG.loss(y, raw).astype(object)

    def gradient(self, y, raw):
        return _LOG.gradient(y, raw)


# The classifier clones its loss: the call count lives here.
_CALLS = {"n": 0}


class _ShapeLater(Loss):
    """Right until its fourth gradient, then one value short."""

    smoothness = 0.25

    def loss(self, y, raw):
        return _LOG.loss(y, raw)

    def gradient(self, y, raw):
        _CALLS["n"] += 1
        g = _LOG.gradient(y, raw)
        return g[:-1] if _CALLS["n"] >= 4 else g


class _InfSmooth(Loss):
    smoothness = float("inf")

    def loss(self, y, raw):
        return _LOG.loss(y, raw)

    def gradient(self, y, raw):
        return _LOG.gradient(y, raw)


@pytest.mark.parametrize(
    "loss, match",
    [
        (_NoneGradient(), r"_NoneGradient breaks the loss contract: gradient\(y, raw\) "
         r"returned None; expected an array"),
        (_NoneFused(), r"_NoneFused breaks the loss contract: loss_gradient\(y, raw\) "
         r"returned NoneType; expected a pair \(loss, gradient\)"),
        (_ObjectLoss(), r"_ObjectLoss breaks the loss contract: loss\(y, raw\) "
         r"returned an array of dtype object, expected floating values"),
        (_ShapeLater(), r"_ShapeLater breaks the loss contract: gradient\(y, raw\) "
         r"returned shape \(39,\), expected the shape of raw \(40,\)"),
        (_InfSmooth(), r"_InfSmooth breaks the loss contract: its smoothness is inf, "
         r"expected None \(not smooth\) or a positive finite bound"),
    ],
)
def test_broken_user_loss_is_named_at_fit(loss, match, rng):
    _CALLS["n"] = 0
    X = rng.standard_normal((40, 3))
    y = (X[:, 0] > 0).astype(int)
    est = GDLogisticClassifier(max_iter=5, tol=None).fit(X, y)
    coef = est.coef_.copy()
    with pytest.raises(ValueError, match=match):
        est.set_params(loss=loss).fit(X, y)
    np.testing.assert_array_equal(est.coef_, coef)  # the fitted model is kept


class _Float64Loss(Loss):
    """Written the natural NumPy way: ``np.log(2.0)`` is a float64 scalar,
    so under NumPy 2's promotion the loss of float32 data is float64."""

    smoothness = 0.25

    def loss(self, y, raw):
        m = (2 * y - 1) * raw
        return np.logaddexp(0.0, -m) - np.log(2.0) + np.log(np.float64(2.0))

    def gradient(self, y, raw):
        s = 2 * y - 1
        return (-s * expit(-s * raw)).astype(np.float64)


def test_float64_output_for_float32_data_is_cast(rng):
    X = rng.standard_normal((200, 3)).astype(np.float32)
    y = (X[:, 0] + 0.5 * rng.standard_normal(200) > 0).astype(int)
    loss = _Float64Loss()
    assert loss.loss(np.ones(2, np.float32), np.zeros(2, np.float32)).dtype == np.float64
    est = GDLogisticClassifier(loss=loss, max_iter=50, tol=None).fit(X, y)
    ref = GDLogisticClassifier(max_iter=50, tol=None).fit(X, y)
    assert est.coef_.dtype == np.float32
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-4, atol=1e-5)
    # check_loss may warn about the dtype but does not fail the loss.
    check_loss(loss)
