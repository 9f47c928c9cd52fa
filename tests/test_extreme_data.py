"""Extreme but finite data: the model of the same data rescaled (issue 12)."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from skloss import GDLogisticClassifier


def _noisy(rng, n):
    X = rng.uniform(-1.0, 1.0, (n, 3))
    y = (X[:, 0] + X[:, 1] + 0.5 * rng.standard_normal(n) > 0).astype(int)
    X[0] = 1.0  # every column reaches magnitude one
    return X, y


@pytest.mark.parametrize("n, scale", [(20_000, 1e305), (200, 1e307)])
@pytest.mark.parametrize("solver", ["gd", "nesterov", "sgd"])
@pytest.mark.parametrize("sparse", [False, True])
def test_features_near_the_float_limit(n, scale, solver, sparse, rng):
    # X.T @ g of 20,000 rows at 1e305 overflows unless the weights (1/n)
    # are applied before the sum; the model must be that of X / scale.
    X, y = _noisy(rng, n)
    params = dict(solver=solver, penalty=None, tol=1e-9, max_iter=3000,
                  random_state=0)
    plain = GDLogisticClassifier(**params).fit(X, y)
    big = X * scale
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no overflow escapes
        warnings.simplefilter("ignore", UserWarning)
        model = GDLogisticClassifier(**params).fit(
            sp.csr_matrix(big) if sparse else big, y
        )
    assert np.all(np.isfinite(model.coef_))
    # (sgd's mini-batch noise differs between the two coordinates: without
    # a penalty it stops on its plateau at points 0.23 apart at 20,000 rows,
    # each within 0.25 of the optimum, 3.46.)
    atol = 0.3 if solver == "sgd" else 1e-3
    np.testing.assert_allclose(model.coef_ * scale, plain.coef_, rtol=1e-4, atol=atol)
    np.testing.assert_allclose(model.intercept_, plain.intercept_, rtol=1e-4,
                               atol=atol)
    assert model.score(big, y) == pytest.approx(plain.score(X, y), abs=2e-3)


@pytest.mark.parametrize("solver", ["gd", "nesterov", "sgd", "adam"])
def test_subnormal_features_without_penalty_are_a_clear_error(solver, rng):
    # Features of magnitude 1e-310 would need coefficients near 1e310 to
    # move the decision values: not representable in float64.
    X, y = _noisy(rng, 200)
    est = GDLogisticClassifier(solver=solver, penalty=None, max_iter=5).fit(X, y)
    coef = est.coef_.copy()
    with pytest.raises(ValueError, match=r"column\(s\) \[0, 1, 2\] have magnitudes "
                       r"around 1e-310.*Multiply X by a constant"):
        est.fit(X * 1e-310, y)
    np.testing.assert_array_equal(est.coef_, coef)  # the model is kept
    # With an L2 penalty the optimum is representable (about zero): it fits.
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("ignore", UserWarning)
        penalised = GDLogisticClassifier(solver=solver, max_iter=5).fit(X * 1e-310, y)
    assert np.all(np.isfinite(penalised.coef_))


@pytest.mark.parametrize("solver", ["gd", "nesterov", "sgd", "adam"])
def test_a_huge_step_is_divergence_not_a_warning(solver, rng):
    from skloss import DivergenceError

    X, y = _noisy(rng, 200)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(DivergenceError, match="epoch 1"):
            GDLogisticClassifier(solver=solver, learning_rate=1e308).fit(X, y)


@pytest.mark.parametrize("solver", ["gd", "nesterov", "sgd", "adam"])
def test_fits_under_errstate_raise_wherever_they_fit_by_default(solver, rng):
    # Two columns at 1e300: the rescaling's log-sums underflow, benignly.
    X, y = _noisy(rng, 200)
    X[:, :2] *= 1e300
    params = dict(solver=solver, max_iter=50, tol=None, random_state=0)
    default = GDLogisticClassifier(**params).fit(X, y)
    with np.errstate(all="raise"):
        strict = GDLogisticClassifier(**params).fit(X, y)
    np.testing.assert_array_equal(strict.coef_, default.coef_)


@pytest.mark.parametrize("sparse", [False, True])
def test_adam_feature_scale_of_huge_features_has_no_overflow(sparse, rng):
    # Adam's "auto" step divides by each feature's rms; at |x| >= 1e160,
    # X * X overflows: the scale comes from the rescaled moments instead.
    X, y = _noisy(rng, 300)
    big = X * 1e200
    params = dict(solver="adam", penalty=None, max_iter=200, tol=None, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("ignore", UserWarning)
        model = GDLogisticClassifier(**params).fit(sp.csr_matrix(big) if sparse else big, y)
    plain = GDLogisticClassifier(**params).fit(X, y)
    assert model.score(big, y) == pytest.approx(plain.score(X, y), abs=0.02)
    np.testing.assert_allclose(model.coef_ * 1e200, plain.coef_, rtol=0.05, atol=0.05)


def test_coordinate_scale_is_the_inverse_feature_rms(rng):
    from skloss._objective import LinearObjective
    from skloss.losses import LogLoss

    X = rng.standard_normal((200, 3)) * [1.0, 4.0, 0.0] + [1.0, -2.0, 3.0]
    sw = rng.uniform(0.5, 2.0, 200)
    y = (rng.random(200) < 0.5).astype(float)
    obj = LinearObjective(LogLoss(), X, y, sample_weight=sw)
    s = sw / sw.sum()
    mean = s @ X
    rms = np.sqrt(s @ (X - mean) ** 2)
    expected = np.where(rms > 1e-12, 1.0 / np.where(rms > 1e-12, rms, 1.0), 1.0)
    scale = obj.coordinate_scale()
    np.testing.assert_allclose(scale[:-1, 0], expected, rtol=1e-10)
    assert scale[-1, 0] == 1.0
    # Extreme columns: the scale of the features the solver sees (~1).
    huge = LinearObjective(LogLoss(), X[:, :2] * 1e200, y, sample_weight=sw)
    assert huge.inv_scale is not None
    np.testing.assert_allclose(
        huge.coordinate_scale()[:-1, 0] * huge.inv_scale, expected[:2] * 1e-200,
        rtol=1e-10,
    )


def test_huge_float_labels_are_a_clear_error_without_warnings(rng):
    # Labels of +-1e20 are floats scikit-learn cannot tell from a regression
    # target (casting them to int overflows): its clear error, and the
    # cast's "invalid value" RuntimeWarning does not escape.
    X = rng.standard_normal((40, 2))
    y = np.where(X[:, 0] > 0, 1e20, -1e20)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="Unknown label type: continuous"):
            GDLogisticClassifier(max_iter=5).fit(X, y)
