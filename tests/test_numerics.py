"""Numerical edge cases: extreme scales, degenerate columns, separable data.

Every test runs under ``np.errstate(all="raise", under="ignore")``: an
overflow, a division by zero or an invalid operation anywhere in fit or
predict is an error. Underflow is left alone: it is the expected, harmless
outcome of the numerically stable losses (``exp(-|r|)`` for large ``|r|``)
and NumPy ignores it by default.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning

from skloss import DivergenceError, GDLogisticClassifier

X, Y = make_classification(
    n_samples=200, n_features=5, n_informative=3, n_redundant=0, flip_y=0.2,
    random_state=0,
)
# Perfectly separable: the label is the sign of the first feature.
Y_SEP = (X[:, 0] > 0).astype(int)


@pytest.fixture(autouse=True)
def _raise_on_floating_point_errors():
    with np.errstate(all="raise", under="ignore"):
        yield


def _fit(X_, y_=Y, **params):
    """Fit with no warning allowed (a ConvergenceWarning fails the test)."""
    params.setdefault("tol", 1e-10)
    params.setdefault("max_iter", 5000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return GDLogisticClassifier(**params).fit(X_, y_)


@pytest.fixture(scope="module")
def reference():
    """The unpenalised fit on data of ordinary scale."""
    with np.errstate(all="raise", under="ignore"):
        return _fit(X, penalty=None)


@pytest.mark.parametrize("scale", [1e150, 1e-150, 1e300, 1e-300])
@pytest.mark.parametrize("sparse", [False, True])
def test_scaled_features_give_the_same_model(scale, sparse, reference):
    Xs = X * scale
    est = _fit(sp.csr_matrix(Xs) if sparse else Xs, penalty=None)
    # Without a penalty the optimum is scale-equivariant: same decisions.
    np.testing.assert_allclose(
        est.decision_function(Xs), reference.decision_function(X),
        rtol=1e-6, atol=1e-6,
    )
    np.testing.assert_allclose(est.coef_ * scale, reference.coef_, rtol=1e-5)
    assert np.all(np.isfinite(est.predict_proba(Xs)))


def test_scaled_features_with_blocked_epochs(monkeypatch):
    # Epochs over large dense data run block by block (cache blocking); small
    # blocks make 20,000 rows large enough, and the same implicit rescaling
    # must hold there.
    import skloss._kernels as kernels_module

    monkeypatch.setattr(kernels_module, "_BLOCK_BYTES", 2**15)
    calls = []
    blocked = kernels_module.BlockedRoute.loss_gradient

    def spy(self, *args, **kwargs):
        calls.append(1)
        return blocked(self, *args, **kwargs)

    monkeypatch.setattr(kernels_module.BlockedRoute, "loss_gradient", spy)
    Xl, yl = make_classification(
        n_samples=20_000, n_features=4, n_informative=3, n_redundant=0,
        flip_y=0.2, random_state=0,
    )
    plain = _fit(Xl, yl, penalty=None, tol=1e-6)
    scaled = _fit(Xl * 1e150, yl, penalty=None, tol=1e-6)
    assert calls  # the blocked path ran
    np.testing.assert_allclose(
        scaled.decision_function(Xl * 1e150), plain.decision_function(Xl),
        atol=1e-4,
    )


@pytest.mark.parametrize("scale", [1e150, 1e-150])
@pytest.mark.parametrize("solver", ["nesterov", "sgd", "adam"])
def test_scaled_features_every_solver(solver, scale):
    params = {"solver": solver, "penalty": None, "random_state": 0, "tol": 1e-6}
    plain = GDLogisticClassifier(**params).fit(X, Y)
    scaled = GDLogisticClassifier(**params).fit(X * scale, Y)
    # Mini-batch solvers stop on a noisy plateau: a looser tolerance.
    atol = 0.1 if solver == "sgd" else 1e-3
    np.testing.assert_allclose(
        scaled.decision_function(X * scale), plain.decision_function(X),
        atol=atol,
    )
    assert np.mean(scaled.predict(X * scale) == plain.predict(X)) >= 0.97


@pytest.mark.parametrize("scale", [1e150, 1e-150])
def test_scaled_features_with_l2(scale, reference):
    Xs = X * scale
    est = _fit(Xs)  # alpha=1e-4 on the coefficients
    assert np.all(np.isfinite(est.coef_)) and np.isfinite(est.intercept_).all()
    if scale > 1:
        # The penalty on weights of order 1e-150 is negligible: the
        # unpenalised optimum.
        np.testing.assert_allclose(
            est.decision_function(Xs), reference.decision_function(X),
            rtol=1e-5, atol=1e-5,
        )
    else:
        # Weights of order 1e150 would be needed to matter: the penalty wins
        # and the model is (almost) the intercept alone.
        dec = est.decision_function(Xs)
        assert np.ptp(dec) < 1e-6
        np.testing.assert_allclose(dec[0], np.log(Y.mean() / (1 - Y.mean())),
                                   atol=1e-6)


def test_columns_of_mixed_extreme_scales(reference):
    factors = np.array([1e150, 1e-150, 1.0, 1e10, 1e-10])
    Xs = X * factors
    est = _fit(Xs, penalty=None)
    np.testing.assert_allclose(
        est.decision_function(Xs), reference.decision_function(X),
        rtol=1e-6, atol=1e-6,
    )
    np.testing.assert_allclose(est.coef_ * factors, reference.coef_, rtol=1e-5)


@pytest.mark.parametrize("offset", [1e4, 1e8, -1e9])
def test_large_offset_is_absorbed_by_the_intercept(offset, reference):
    # Centring is implicit (X is not copied), so the gradient carries a
    # rounding error of about eps * offset / spread: the default tol=1e-6
    # is reachable up to offsets of ~1e9 times the spread of the data.
    est = _fit(X + offset, penalty=None, tol=1e-6)
    np.testing.assert_allclose(
        est.decision_function(X + offset), reference.decision_function(X),
        atol=1e-4,
    )


@pytest.mark.parametrize("value", [7.0, 1e150, -1e-150])
def test_constant_column(value, reference):
    Xc = np.column_stack([X, np.full(X.shape[0], value)])
    est = _fit(Xc, penalty=None)
    # A constant column carries no information: its weight stays at zero
    # and the rest of the model is unchanged.
    assert abs(est.coef_[0, -1] * value) < 1e-8
    np.testing.assert_allclose(est.coef_[:, :-1], reference.coef_, rtol=1e-5)
    np.testing.assert_allclose(
        est.decision_function(Xc), reference.decision_function(X), atol=1e-6
    )


def test_duplicated_columns(reference):
    est = _fit(np.column_stack([X, X]), penalty=None)
    d = X.shape[1]
    # Gradient descent from zero splits the weight evenly between copies,
    # and the decision function is that of the original data.
    np.testing.assert_allclose(est.coef_[:, :d], est.coef_[:, d:], rtol=1e-10)
    np.testing.assert_allclose(
        est.coef_[:, :d] + est.coef_[:, d:], reference.coef_, rtol=1e-5
    )


def test_duplicated_columns_l2():
    single = _fit(X, alpha=0.1)
    double = _fit(np.column_stack([X, X]), alpha=0.1)
    d = X.shape[1]
    # With L2 the two copies share the weight equally, and the optimum is
    # that of the single copy with the penalty halved: w = 2 * w_dup.
    np.testing.assert_allclose(double.coef_[:, :d], double.coef_[:, d:],
                               rtol=1e-8)
    half = _fit(X, alpha=0.05)
    np.testing.assert_allclose(2 * double.coef_[:, :d], half.coef_, rtol=1e-5)
    assert not np.allclose(single.coef_, half.coef_)


@pytest.mark.parametrize(
    "params",
    [
        {"penalty": None},
        {"penalty": "l2", "alpha": 0.0},
        {"penalty": None, "multi_class": "multinomial", "three": True},
    ],
    ids=["binary", "alpha=0", "multinomial"],
)
def test_separable_without_penalty_stops_with_a_warning(params):
    params = dict(params)
    y = np.digitize(X[:, 0], [-0.5, 0.5]) if params.pop("three", False) else Y_SEP
    with pytest.warns(ConvergenceWarning, match="perfectly separable.*penalty='l2'"):
        est = GDLogisticClassifier(**params).fit(X, y)
    assert est.n_iter_ < est.max_iter  # a clean stop, not a timeout
    assert np.all(np.isfinite(est.coef_)) and np.all(np.isfinite(est.intercept_))
    assert est.score(X, y) == 1.0
    proba = est.predict_proba(X)
    assert np.all(np.isfinite(proba)) and np.all((proba >= 0) & (proba <= 1))
    assert np.all(np.isfinite(est.loss_curve_))


def test_separable_with_penalty_has_no_warning():
    est = _fit(X, Y_SEP, alpha=1e-3)  # _fit turns any warning into an error
    assert est.score(X, Y_SEP) > 0.95
    assert np.abs(est.coef_).max() < 100


@pytest.mark.parametrize("alpha", [1e2, 1e5])
@pytest.mark.parametrize("penalty", ["l2", "l1", "elasticnet"])
def test_huge_alpha(alpha, penalty):
    est = _fit(X, alpha=alpha, penalty=penalty)
    assert np.all(np.isfinite(est.coef_))
    if penalty == "l2":
        # At the optimum alpha * w = -grad of the mean loss, bounded by the
        # largest column mean of |x| / 2 for log loss.
        bound = np.abs(X).mean(axis=0).max() / alpha
        assert np.abs(est.coef_).max() <= bound
        assert np.abs(est.coef_).max() > 0
    else:
        # The L1 part zeroes every coefficient exactly.
        assert np.all(est.coef_ == 0.0)
    # The intercept (never penalised) matches the class balance.
    np.testing.assert_allclose(
        est.intercept_[0], np.log(Y.mean() / (1 - Y.mean())), atol=1e-3
    )


def test_huge_alpha_fixed_step_diverges_clearly_then_safe_step_works():
    with pytest.raises(DivergenceError, match="step size of at most") as exc:
        GDLogisticClassifier(alpha=1e5, learning_rate=0.1).fit(X, Y)
    safe = exc.value.safe_learning_rate
    assert safe is not None and 0 < safe < 0.1
    # The advertised step is safe: fixed steps of that size only go down.
    est = GDLogisticClassifier(
        alpha=1e5, learning_rate=safe, tol=None, max_iter=50
    ).fit(X, Y)
    assert np.all(np.diff(est.loss_curve_) <= 1e-12)
    assert np.all(np.isfinite(est.coef_))


@pytest.mark.parametrize("scale", [1e30, 1e-30, 1e36])
def test_float32_near_its_limits(scale):
    X32 = (X * scale).astype(np.float32)
    est = _fit(X32, penalty=None, tol=1e-6)
    assert est.coef_.dtype == np.float32
    assert np.all(np.isfinite(est.coef_)) and np.all(np.isfinite(est.intercept_))
    ref = _fit(X.astype(np.float32), penalty=None, tol=1e-6)
    np.testing.assert_allclose(
        est.decision_function(X32), ref.decision_function(X.astype(np.float32)),
        rtol=1e-3, atol=1e-3,
    )
    proba = est.predict_proba(X32)
    assert proba.dtype == np.float32 and np.all(np.isfinite(proba))


def test_float32_largest_values():
    X32 = X.astype(np.float32)
    X32[0, 0] = np.finfo(np.float32).max / 2
    est = GDLogisticClassifier(max_iter=200, tol=None).fit(X32, Y)
    assert np.all(np.isfinite(est.coef_))
    assert np.all(np.isfinite(est.decision_function(X32)))


def test_predict_proba_at_huge_decision_values():
    est = _fit(X)
    big = X * 1e200
    proba = est.predict_proba(big)
    assert np.all(np.isfinite(proba))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert set(np.unique(proba)) <= {0.0, 1.0}
    log_proba = est.predict_log_proba(big)
    assert not np.any(np.isnan(log_proba))


@pytest.mark.parametrize("w", [1e-200, 1e200, 1e307, np.finfo(np.float64).max])
@pytest.mark.parametrize("class_weight", [None, "balanced"])
def test_uniform_sample_weight_of_extreme_size(w, class_weight):
    plain = _fit(X, class_weight=class_weight)
    weighted = GDLogisticClassifier(
        tol=1e-10, max_iter=5000, class_weight=class_weight
    ).fit(X, Y, sample_weight=np.full(X.shape[0], w))
    # Weights are normalised: a common factor changes nothing, even one
    # whose sum overflows.
    np.testing.assert_allclose(weighted.coef_, plain.coef_, rtol=1e-8)


def test_float32_sample_weight_near_its_largest():
    X32 = X.astype(np.float32)
    plain = GDLogisticClassifier(class_weight="balanced").fit(X32, Y)
    weighted = GDLogisticClassifier(class_weight="balanced").fit(
        X32, Y, sample_weight=np.full(X.shape[0], 3e38, dtype=np.float32)
    )
    np.testing.assert_allclose(weighted.coef_, plain.coef_, rtol=1e-4)


def test_more_features_than_samples():
    rng = np.random.default_rng(0)
    Xw = rng.normal(size=(12, 400))
    y = np.arange(12) % 2
    est = GDLogisticClassifier(alpha=1e-2).fit(Xw, y)
    assert np.all(np.isfinite(est.coef_))
    assert est.score(Xw, y) == 1.0


def test_two_samples():
    est = GDLogisticClassifier().fit([[0.0], [1.0]], [0, 1])
    np.testing.assert_array_equal(est.predict([[0.0], [1.0]]), [0, 1])


def test_max_iter_one_warns_and_is_finite():
    with pytest.warns(ConvergenceWarning, match="did not converge in max_iter=1"):
        est = GDLogisticClassifier(max_iter=1).fit(X, Y)
    assert est.n_iter_ == 1 and np.all(np.isfinite(est.coef_))
