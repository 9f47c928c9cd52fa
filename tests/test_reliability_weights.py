"""Weights of any size and the messages about bad weights.

Reliability items 12.4 (only ratios of weights matter, whatever their size
and the dtype of X) and 12.16 (messages about class weights name the
class, the value and the fix).
"""

import numpy as np
import pytest

from skloss import GDLogisticClassifier


def _data(n=80, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 3)
    y = (X[:, 0] + 0.5 * rng.randn(n) > 0).astype(int)
    return X, y


def _fit(X, y, sample_weight=None, **params):
    return GDLogisticClassifier(tol=1e-10, max_iter=3000, **params).fit(
        X, y, sample_weight=sample_weight
    )


@pytest.mark.parametrize(
    "huge, ratio",
    [
        ({0: 1e308, 1: 1e308}, {0: 1.0, 1: 1.0}),
        ({0: 1.5e308, 1: 5e307}, {0: 3.0, 1: 1.0}),
        ({0: 1e-320, 1: 3e-320}, {0: 1.0, 1: 3.0}),
    ],
)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_class_weights_of_extreme_size_count_by_their_ratio(huge, ratio, dtype):
    X, y = _data()
    X = X.astype(dtype)
    rtol = 1e-6 if dtype == np.float64 else 1e-3
    expected = _fit(X, y, class_weight=ratio)
    fitted = _fit(X, y, class_weight=huge)
    assert np.all(fitted.coef_ != 0)
    np.testing.assert_allclose(fitted.coef_, expected.coef_, rtol=rtol)
    np.testing.assert_allclose(fitted.intercept_, expected.intercept_, rtol=rtol)


@pytest.mark.parametrize("scale", [1e300, 1e-300, 1e200])
def test_float64_weights_outside_float32_on_float32_data(scale):
    X, y = _data()
    X = X.astype(np.float32)
    w = np.random.RandomState(1).randint(1, 4, size=y.shape[0]).astype(float)
    expected = _fit(X, y, sample_weight=w)
    fitted = _fit(X, y, sample_weight=w * scale)
    assert fitted.coef_.dtype == np.float32
    np.testing.assert_allclose(fitted.coef_, expected.coef_, rtol=1e-3, atol=1e-4)
    # A scalar weight is a uniform one.
    plain = _fit(X, y)
    np.testing.assert_allclose(
        _fit(X, y, sample_weight=scale).coef_, plain.coef_, rtol=1e-3, atol=1e-4
    )


def test_huge_sample_weights_times_huge_class_weights():
    X, y = _data()
    expected = _fit(X, y, class_weight={0: 2.0, 1: 1.0})
    fitted = _fit(
        X, y, sample_weight=np.full(y.shape[0], 1e300),
        class_weight={0: 2e300, 1: 1e300},
    )
    np.testing.assert_allclose(fitted.coef_, expected.coef_, rtol=1e-6)


def test_partial_fit_with_huge_class_weights():
    X, y = _data()
    expected = GDLogisticClassifier(solver="sgd", random_state=0,
                                    class_weight={0: 2.0, 1: 1.0})
    fitted = GDLogisticClassifier(solver="sgd", random_state=0,
                                  class_weight={0: 1e308, 1: 5e307})
    for _ in range(3):
        expected.partial_fit(X, y, classes=[0, 1])
        fitted.partial_fit(X, y, classes=[0, 1])
    assert np.all(fitted.coef_ != 0)
    np.testing.assert_allclose(fitted.coef_, expected.coef_, rtol=1e-10)
