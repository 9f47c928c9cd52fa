"""Property-based tests (hypothesis) on small random problems.

Each property holds for every dataset hypothesis draws: small (6 to 30
samples, 1 to 4 features), bounded features, two to four classes. Fits use
a strongly convex cost (``alpha=1e-2``) and a tight ``tol`` so that the
optimum is unique and reached; comparisons then allow only rounding-level
differences.
"""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.exceptions import ConvergenceWarning

from skloss import GDLogisticClassifier, available_losses

SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
ATOL = 1e-6


@st.composite
def problems(draw, max_classes=4):
    """(X, y) with 6-30 samples, 1-4 features and 2..max_classes classes."""
    n = draw(st.integers(6, 30))
    d = draw(st.integers(1, 4))
    X = draw(
        arrays(
            np.float64, (n, d),
            elements=st.floats(-5, 5, allow_nan=False, width=64),
        )
    )
    k = draw(st.integers(2, max_classes))
    y = draw(arrays(np.int64, n, elements=st.integers(0, k - 1)))
    assume(np.unique(y).shape[0] >= 2)
    return X, y


def _fit(X, y, sample_weight=None, **params):
    params = {"alpha": 1e-2, "tol": 1e-10, "max_iter": 5000, **params}
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        return GDLogisticClassifier(**params).fit(X, y, sample_weight=sample_weight)


def _aligned_decision(est, X):
    """Decision values as a (n, n_classes) array, columns in classes_ order."""
    dec = est.decision_function(X)
    if dec.ndim == 1:  # binary: the score of classes_[1] against classes_[0]
        dec = np.column_stack([-dec / 2, dec / 2])
    return dec


@SETTINGS
@given(problem=problems(), seed=st.integers(0, 2**32 - 1),
       multi_class=st.sampled_from(["auto", "ovr"]))
def test_full_batch_fit_does_not_depend_on_sample_order(problem, seed, multi_class):
    X, y = problem
    perm = np.random.default_rng(seed).permutation(X.shape[0])
    a = _fit(X, y, multi_class=multi_class)
    b = _fit(X[perm], y[perm], multi_class=multi_class)
    np.testing.assert_allclose(a.coef_, b.coef_, atol=ATOL)
    np.testing.assert_allclose(a.intercept_, b.intercept_, atol=ATOL)
    np.testing.assert_allclose(
        a.decision_function(X), b.decision_function(X), atol=ATOL
    )


@SETTINGS
@given(problem=problems(), seed=st.integers(0, 2**32 - 1),
       kind=st.sampled_from(["strings", "permuted integers"]))
def test_relabeling_classes_gives_the_same_decision_function(problem, seed, kind):
    X, y = problem
    labels = np.unique(y)
    rng = np.random.default_rng(seed)
    if kind == "strings":
        new = np.array([f"class-{chr(ord('z') - i)}" for i in range(labels.size)])
    else:
        new = rng.permutation(np.arange(10, 10 + labels.size)) * 7
    mapping = dict(zip(labels.tolist(), new.tolist(), strict=True))
    y_new = np.array([mapping[v] for v in y.tolist()])
    a = _fit(X, y)
    b = _fit(X, y_new)
    # The same model, class by class, whatever the labels and their order.
    order = [list(b.classes_).index(mapping[c]) for c in a.classes_]
    np.testing.assert_allclose(
        _aligned_decision(a, X), _aligned_decision(b, X)[:, order], atol=ATOL
    )
    np.testing.assert_allclose(
        a.predict_proba(X), b.predict_proba(X)[:, order], atol=ATOL
    )
    # Predictions agree wherever the decision is not a tie: at a tie (all
    # features 0 and balanced classes: decision values of +-1e-17) the
    # class depends on rounding.
    decision = _aligned_decision(a, X)
    top2 = np.sort(decision, axis=1)[:, -2:]
    clear = top2[:, 1] - top2[:, 0] > ATOL
    np.testing.assert_array_equal(
        np.array([mapping[v] for v in a.predict(X).tolist()])[clear],
        b.predict(X)[clear],
    )


@SETTINGS
@given(problem=problems(max_classes=3),
       counts=st.lists(st.integers(0, 3), min_size=30, max_size=30),
       class_weight=st.sampled_from([None, "balanced"]))
def test_integer_sample_weight_equals_repeating_samples(problem, counts,
                                                        class_weight):
    X, y = problem
    counts = np.asarray(counts[: X.shape[0]])
    assume(np.unique(y[counts > 0]).shape[0] == np.unique(y).shape[0])
    weighted = _fit(X, y, sample_weight=counts.astype(float),
                    class_weight=class_weight)
    repeated = _fit(np.repeat(X, counts, axis=0), np.repeat(y, counts),
                    class_weight=class_weight)
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, atol=ATOL)
    np.testing.assert_allclose(weighted.intercept_, repeated.intercept_,
                               atol=ATOL)


@SETTINGS
@given(problem=problems(), zeros=st.floats(0.0, 0.8))
def test_sparse_and_dense_input_give_the_same_model(problem, zeros):
    import scipy.sparse as sp

    X, y = problem
    X = np.where(np.abs(X) < 5 * zeros, 0.0, X)  # some structural zeros
    dense = _fit(X, y)
    sparse = _fit(sp.csr_matrix(X), y)
    np.testing.assert_allclose(dense.coef_, sparse.coef_, atol=ATOL)
    np.testing.assert_allclose(dense.intercept_, sparse.intercept_, atol=ATOL)


@SETTINGS
@given(problem=problems(),
       weights=st.lists(st.floats(0.1, 10.0), min_size=30, max_size=30),
       factor=st.sampled_from([1e-6, 0.5, 3.0, 1e6]))
def test_a_common_factor_on_sample_weight_changes_nothing(problem, weights,
                                                          factor):
    X, y = problem
    weights = np.asarray(weights[: X.shape[0]])
    a = _fit(X, y, sample_weight=weights)
    b = _fit(X, y, sample_weight=factor * weights)
    np.testing.assert_allclose(a.coef_, b.coef_, atol=ATOL)
    np.testing.assert_allclose(a.intercept_, b.intercept_, atol=ATOL)


PROBABILISTIC = sorted(
    name for name, info in available_losses().items() if info["probabilistic"]
)
ALL_LOSSES = sorted(available_losses())


@pytest.mark.parametrize("loss", PROBABILISTIC)
@settings(max_examples=15, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow,
                                 HealthCheck.function_scoped_fixture])
@given(problem=problems(), scale=st.sampled_from([1.0, 1e3, 1e150]))
def test_predict_proba_is_a_distribution(loss, problem, scale):
    X, y = problem
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = GDLogisticClassifier(loss=loss, max_iter=200).fit(X, y)
    # Also far outside the training range: huge decision values.
    with np.errstate(all="raise", under="ignore"):
        proba = est.predict_proba(X * scale)
    assert proba.shape == (X.shape[0], est.classes_.shape[0])
    assert np.all(np.isfinite(proba))
    assert np.all((proba >= 0) & (proba <= 1))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("loss", ALL_LOSSES)
@settings(max_examples=15, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow,
                                 HealthCheck.function_scoped_fixture])
@given(problem=problems(), multi_class=st.sampled_from(["auto", "ovr"]))
def test_predict_agrees_with_decision_function(loss, problem, multi_class):
    X, y = problem
    if available_losses()[loss]["multiclass"]:
        multi_class = "auto"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = GDLogisticClassifier(
            loss=loss, max_iter=200, multi_class=multi_class
        ).fit(X, y)
    dec = est.decision_function(X)
    if dec.ndim == 1:
        expected = est.classes_[(dec > 0).astype(int)]
    else:
        expected = est.classes_[np.argmax(dec, axis=1)]
    np.testing.assert_array_equal(est.predict(X), expected)
    if hasattr(est, "predict_proba"):
        # The most probable class is the predicted one, up to exact ties.
        proba = est.predict_proba(X)
        top = proba.max(axis=1)
        chosen = proba[np.arange(X.shape[0]),
                       np.searchsorted(est.classes_, est.predict(X))]
        np.testing.assert_allclose(chosen, top, rtol=1e-12, atol=1e-15)
