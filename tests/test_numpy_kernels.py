"""The in-place NumPy loss kernels equal the readable formulas."""

import numpy as np
import pytest
from scipy.special import expit, log_softmax, softmax

from skloss.losses import LogLoss, SoftmaxCrossEntropy
from skloss.losses._links import log_softmax as readable_log_softmax
from skloss.losses._links import sigmoid_parts
from skloss.losses._numpy_kernels import (
    applies,
    log_loss_gradient,
    softmax_cross_entropy_gradient,
)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_log_loss_kernel_matches_scipy_and_the_formula(dtype, rng):
    raw = np.concatenate([rng.normal(scale=5.0, size=500), [0.0, -800.0, 800.0]])
    raw = raw.astype(dtype)
    t = (rng.random(raw.shape) < 0.5).astype(dtype)
    loss, grad = log_loss_gradient(t, raw.copy())
    assert loss.dtype == grad.dtype == dtype
    tol = 1e-5 if dtype == np.float32 else 1e-12
    r = raw.astype(np.float64)
    np.testing.assert_allclose(loss, np.logaddexp(0.0, r) - t * r, rtol=tol, atol=tol)
    np.testing.assert_allclose(grad, expit(r) - t, rtol=tol, atol=tol)
    # The array-API formula of LogLoss (taken for non-NumPy arrays).
    e, proba, _ = sigmoid_parts(raw, np)
    formula = np.log1p(e) + np.clip(raw, 0, None) - t * raw
    np.testing.assert_allclose(loss, formula, rtol=tol, atol=tol)
    np.testing.assert_allclose(grad, proba - t, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_softmax_kernel_matches_scipy(dtype, rng):
    raw = rng.normal(scale=3.0, size=(300, 4)).astype(dtype)
    t = np.eye(4, dtype=dtype)[rng.integers(0, 4, 300)]
    loss, grad = softmax_cross_entropy_gradient(t, raw.copy())
    tol = 1e-5 if dtype == np.float32 else 1e-12
    r = raw.astype(np.float64)
    np.testing.assert_allclose(loss, -np.sum(t * log_softmax(r, axis=1), axis=1),
                               rtol=tol, atol=tol)
    np.testing.assert_allclose(grad, softmax(r, axis=1) - t, rtol=tol, atol=tol)
    np.testing.assert_allclose(readable_log_softmax(raw, np), log_softmax(r, axis=1),
                               rtol=tol, atol=tol)


def test_softmax_kernel_declines_where_the_shift_is_needed():
    raw = np.array([[1000.0, 0.0], [0.0, 1.0]])
    t = np.eye(2)
    assert softmax_cross_entropy_gradient(t, raw.copy()) is None
    # The loss then takes the shifted formula: finite and right.
    loss, grad = SoftmaxCrossEntropy().loss_gradient(t, raw)
    np.testing.assert_allclose(loss, -np.sum(t * log_softmax(raw, axis=1), axis=1))
    np.testing.assert_allclose(grad, softmax(raw, axis=1) - t)


def test_kernels_apply_to_numpy_floating_arrays_only():
    assert applies(np.zeros(3), np.zeros(3))
    assert not applies(np.zeros(3, dtype=int), np.zeros(3))
    assert not applies(np.zeros(3), np.zeros(2))
    assert not applies(np.zeros(3).view(np.matrix), np.zeros(3))
    # LogLoss with a pos_weight takes the formula, still right.
    raw, t = np.array([-2.0, 0.5]), np.array([1.0, 0.0])
    loss, _ = LogLoss(pos_weight=2.0).loss_gradient(t, raw)
    np.testing.assert_allclose(loss, [2 * np.logaddexp(0, 2.0), np.logaddexp(0, 0.5)])
