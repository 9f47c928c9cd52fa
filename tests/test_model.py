"""skloss._model: theta <-> coef_ / intercept_, and where training starts."""

import numpy as np
import pytest
from sklearn.datasets import load_iris

from skloss import GDLogisticClassifier
from skloss._model import model_attributes


@pytest.fixture
def binary(rng):
    X = rng.standard_normal((120, 3))
    y = (X @ [1.0, -1.0, 0.5] + 0.3 * rng.standard_normal(120) > 0).astype(int)
    return X, y


def _one_textbook_step(X, y, coef, intercept, lr):
    # One gradient step of the mean log loss from (coef, intercept),
    # written out (no penalty): the independent reference.
    z = X @ coef + intercept
    g = 1.0 / (1.0 + np.exp(-z)) - y
    return coef - lr * X.T @ g / len(y), intercept - lr * g.mean()


def test_coef_is_not_a_view_of_the_training_parameters(binary):
    X, y = binary
    est = GDLogisticClassifier(max_iter=5, tol=None).fit(X, y)
    assert not np.shares_memory(est.coef_, est._theta)
    assert not np.shares_memory(est.intercept_, est._theta)


@pytest.mark.parametrize("how", ["assign", "in place"])
def test_partial_fit_continues_from_the_public_parameters(binary, how):
    X, y = binary
    est = GDLogisticClassifier(
        solver="gd", learning_rate=0.5, penalty=None, max_iter=3, tol=None
    ).fit(X, y)
    coef, intercept = np.array([0.3, -0.2, 0.1]), 0.25
    if how == "assign":
        est.coef_ = coef[None, :].copy()
        est.intercept_ = np.array([intercept])
    else:
        est.coef_[0] = coef
        est.intercept_[0] = intercept
    # A fixed learning rate is textbook descent: from the edited model.
    est.partial_fit(X, y)
    ref = GDLogisticClassifier(
        solver="gd", learning_rate=0.5, penalty=None, max_iter=1, tol=None,
        warm_start=True,
    ).fit(X, y)
    ref.coef_, ref.intercept_ = coef[None, :].copy(), np.array([intercept])
    ref.fit(X, y)
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-12)
    np.testing.assert_allclose(est.intercept_, ref.intercept_, rtol=1e-12)
    # One step from the edited model, not from the fitted one.
    step_coef, _ = _one_textbook_step(X, y, coef, intercept, 0.5)
    assert np.linalg.norm(est.coef_[0] - step_coef) < 0.05


def test_warm_start_continues_from_an_assigned_model(binary):
    X, y = binary
    est = GDLogisticClassifier(max_iter=200, tol=None).fit(X, y)
    optimum = est.coef_.copy()
    est.set_params(warm_start=True, max_iter=1, solver="gd", learning_rate=0.1,
                   penalty=None)
    est.coef_ = np.zeros_like(optimum)
    est.intercept_ = np.zeros(1)
    est.fit(X, y)
    # One step from zero, not from the optimum.
    assert np.linalg.norm(est.coef_) < 0.5 * np.linalg.norm(optimum)


def test_unchanged_model_continues_bit_for_bit(binary):
    # The stored parameters are used while coef_/intercept_ are unchanged
    # (a two-class multinomial model keeps both its columns).
    X, y = binary
    for kwargs in ({}, {"loss": "softmax_cross_entropy"}):
        a = GDLogisticClassifier(max_iter=4, tol=None, **kwargs).fit(X, y)
        b = GDLogisticClassifier(max_iter=4, tol=None, **kwargs).fit(X, y)
        theta = a._theta.copy()
        a.partial_fit(X, y)
        b._theta = theta  # the same, by value
        b.partial_fit(X, y)
        np.testing.assert_array_equal(a.coef_, b.coef_)


def test_edited_two_class_multinomial_model(binary):
    X, y = binary
    est = GDLogisticClassifier(loss="softmax_cross_entropy", max_iter=3,
                               tol=None).fit(X, y)
    est.coef_ = np.array([[1.0, -1.0, 0.5]])
    est.intercept_ = np.array([0.2])
    est.set_params(learning_rate=1e-12, solver="gd")
    est.partial_fit(X, y)  # a negligible step: the edited model
    np.testing.assert_allclose(est.coef_, [[1.0, -1.0, 0.5]], atol=1e-9)
    np.testing.assert_allclose(est.intercept_, [0.2], atol=1e-9)


def test_wrong_shape_names_the_attribute(binary):
    X, y = binary
    est = GDLogisticClassifier(max_iter=3, tol=None).fit(X, y)
    before = est._theta.copy()
    est.coef_ = np.zeros((2, 3))
    with pytest.raises(ValueError, match=r"coef_ has shape \(2, 3\); this model "
                       r"needs \(1, 3\)"):
        est.partial_fit(X, y)
    np.testing.assert_array_equal(est._theta, before)


def test_multiclass_attributes_round_trip():
    X, y = load_iris(return_X_y=True)
    est = GDLogisticClassifier(max_iter=5, tol=None).fit(X, y)
    attrs = model_attributes(est._theta, est.classes_, est.loss_, est._mode)
    np.testing.assert_array_equal(attrs["coef_"], est._theta[:-1].T)
    np.testing.assert_array_equal(attrs["intercept_"], est._theta[-1])
