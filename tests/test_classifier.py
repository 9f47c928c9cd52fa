"""GDLogisticClassifier: the scikit-learn contract in use."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from skloss import GDLogisticClassifier, get_loss


@pytest.mark.parametrize(
    "y, y_hat, expected",
    [(0.0, 0.0, 0.0), (1.0, 0.1, 2.302585), (0.0, 0.5, 0.693147), (0.0, 0.9, 2.302585)],
)
def test_binary_cross_entropy_textbook_values(y, y_hat, expected):
    # The loss takes the logit; y_hat = sigmoid(raw). y_hat = 0 is raw -> -inf,
    # approached with a very negative (still finite) logit.
    raw = -800.0 if y_hat == 0.0 else np.log(y_hat) - np.log1p(-y_hat)
    loss = get_loss("binary_cross_entropy").loss(np.array([y]), np.array([raw]))
    textbook = -(y * np.log(y_hat) if y else 0.0) - (
        (1 - y) * np.log1p(-y_hat) if y != 1 else 0.0
    )
    np.testing.assert_allclose(loss, [expected], atol=1e-6)
    np.testing.assert_allclose(loss, [textbook], atol=1e-12)


@pytest.mark.parametrize("alias", ["log_loss", "binary_cross_entropy", "bce"])
def test_log_loss_aliases(alias):
    assert type(get_loss(alias)).__name__ == "LogLoss"


def test_unknown_loss_lists_available_names(cancer):
    X, y = cancer
    with pytest.raises(ValueError, match="Unknown loss 'nope'.*log_loss"):
        GDLogisticClassifier(loss="nope").fit(X, y)


def test_loss_instance_is_not_modified(cancer):
    X, y = cancer
    loss = get_loss("log_loss")
    clf = GDLogisticClassifier(loss=loss).fit(X, y)
    assert clf.loss is loss
    assert clf.loss_ is not loss


@pytest.mark.parametrize("dataset, n_coef", [("cancer", 1), ("iris", 3)])
def test_fitted_attributes(dataset, n_coef, request):
    X, y = request.getfixturevalue(dataset)
    clf = GDLogisticClassifier().fit(X, y)
    np.testing.assert_array_equal(clf.classes_, np.unique(y))
    assert clf.coef_.shape == (n_coef, X.shape[1])
    assert clf.intercept_.shape == (n_coef,)
    assert clf.n_features_in_ == X.shape[1]
    assert len(clf.loss_curve_) == clf.n_iter_ > 0
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]
    proba = clf.predict_proba(X)
    assert proba.shape == (X.shape[0], np.unique(y).size)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    # From the decision values (log_expit), not log(proba): equal where
    # proba does not round to 0 or 1 (tests/test_defaults.py).
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), proba, atol=1e-15)
    np.testing.assert_array_equal(
        clf.predict(X), clf.classes_[np.argmax(proba, axis=1)]
    )
    assert clf.score(X, y) > 0.9


def test_multinomial_and_ovr_match_logistic_regression(iris):
    X, y = iris
    n = X.shape[0]
    multi = GDLogisticClassifier(alpha=1 / n, tol=1e-10, max_iter=5000).fit(X, y)
    assert multi.loss_.__class__.__name__ == "SoftmaxCrossEntropy"
    ref = LogisticRegression(C=1.0, tol=1e-12, max_iter=5000).fit(X, y)
    np.testing.assert_allclose(multi.predict_proba(X), ref.predict_proba(X),
                               atol=1e-5)
    # One-vs-rest: each column is the binary problem of its class.
    ovr = GDLogisticClassifier(alpha=1 / n, tol=1e-10, max_iter=5000,
                               multi_class="ovr").fit(X, y)
    for k in range(3):
        ref_k = LogisticRegression(C=1.0, tol=1e-12, max_iter=5000).fit(X, y == k)
        np.testing.assert_allclose(ovr.coef_[k], ref_k.coef_[0], rtol=1e-4,
                                   atol=1e-5)
    raw = ovr.decision_function(X)
    p = 1 / (1 + np.exp(-raw))
    np.testing.assert_allclose(ovr.predict_proba(X), p / p.sum(1, keepdims=True))


def test_multi_class_multinomial_needs_a_multinomial_loss(iris):
    from skloss import Loss, register_loss, unregister_loss

    class Square(Loss):
        smoothness = 2.0

        def loss(self, y, raw):
            return (raw - y) ** 2

        def gradient(self, y, raw):
            return 2 * (raw - y)

    register_loss("_test_square", Square, overwrite=True)
    try:
        X, y = iris
        with pytest.raises(ValueError, match="no multinomial form"):
            GDLogisticClassifier("_test_square", multi_class="multinomial").fit(X, y)
        clf = GDLogisticClassifier("_test_square").fit(X, y)
        assert clf.coef_.shape == (3, 4) and not hasattr(clf, "predict_proba")
    finally:
        unregister_loss("_test_square")


def test_float_learning_rate_is_plain_gradient_descent(cancer):
    """Two epochs of fixed-step descent, reproduced by hand."""
    X, y = cancer
    lr, alpha = 0.3, 0.01
    clf = GDLogisticClassifier(learning_rate=lr, alpha=alpha, max_iter=2, tol=None)
    clf.fit(X, y)
    W, b = np.zeros(X.shape[1]), 0.0
    costs = []
    for _ in range(2):
        p = 1 / (1 + np.exp(-(X @ W + b)))
        gW = X.T @ (p - y) / len(y) + alpha * W
        gb = np.mean(p - y)
        W, b = W - lr * gW, b - lr * gb
        p = 1 / (1 + np.exp(-(X @ W + b)))
        costs.append(
            -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)) + alpha / 2 * W @ W
        )
    # X is standardized, so the centring reparametrisation is the identity.
    np.testing.assert_allclose(clf.coef_[0], W, rtol=1e-10)
    np.testing.assert_allclose(clf.intercept_[0], b, atol=1e-12)
    np.testing.assert_allclose(clf.loss_curve_, costs, rtol=1e-10)


def test_convergence_warning_at_max_iter(cancer):
    X, y = cancer
    with pytest.warns(ConvergenceWarning, match="max_iter=3"):
        GDLogisticClassifier(learning_rate=0.01, max_iter=3).fit(X, y)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("container", ["dense", "csr", "dataframe"])
def test_input_types_and_dtypes(dtype, container, cancer):
    X, y = cancer
    X = X.astype(dtype)
    # alpha=1e-2 keeps the problem well conditioned, so tol pins the optimum.
    ref = GDLogisticClassifier(alpha=1e-2, tol=1e-8).fit(X, y)
    if container == "csr":
        Xc = sp.csr_matrix(X)
    elif container == "dataframe":
        Xc = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    else:
        Xc = X
    clf = GDLogisticClassifier(alpha=1e-2, tol=1e-8).fit(Xc, y)
    assert clf.coef_.dtype == dtype and clf.intercept_.dtype == dtype
    rtol = 1e-3 if dtype == np.float32 else 1e-7
    np.testing.assert_allclose(clf.coef_, ref.coef_, rtol=rtol, atol=rtol)
    if container == "dataframe":
        np.testing.assert_array_equal(clf.feature_names_in_, Xc.columns)
    np.testing.assert_array_equal(clf.predict(Xc), ref.predict(X))


def test_sparse_input_is_not_densified(cancer, monkeypatch):
    X, y = cancer
    Xs = sp.csr_matrix(X)

    def forbid(*args, **kwargs):
        raise AssertionError("X was densified")

    monkeypatch.setattr(sp.csr_matrix, "toarray", forbid)
    monkeypatch.setattr(sp.csr_matrix, "todense", forbid)
    GDLogisticClassifier().fit(Xs, y).predict(Xs)


def test_sample_weight_matches_repetition(cancer):
    X, y = cancer
    rng = np.random.default_rng(0)
    sw = rng.integers(0, 3, size=len(y))
    weighted = GDLogisticClassifier(tol=1e-10).fit(X, y, sample_weight=sw)
    repeated = GDLogisticClassifier(tol=1e-10).fit(
        np.repeat(X, sw, axis=0), np.repeat(y, sw)
    )
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("class_weight", ["balanced", {0: 3.0, 1: 0.5}])
def test_class_weight_equals_sample_weight(class_weight, cancer):
    X, y = cancer
    from sklearn.utils import compute_class_weight

    cw = compute_class_weight(class_weight, classes=np.array([0, 1]), y=y)
    by_class = GDLogisticClassifier(class_weight=class_weight).fit(X, y)
    by_sample = GDLogisticClassifier().fit(X, y, sample_weight=cw[y])
    np.testing.assert_allclose(by_class.coef_, by_sample.coef_, rtol=1e-10)


def test_class_weight_matches_logistic_regression(cancer):
    X, y = cancer
    cw = {0: 2.0, 1: 0.5}
    sw_sum = np.sum(np.where(y == 0, 2.0, 0.5))
    ref = LogisticRegression(C=1.0, class_weight=cw, tol=1e-12, max_iter=10_000)
    ref.fit(X, y)
    clf = GDLogisticClassifier(alpha=1 / sw_sum, class_weight=cw, tol=1e-10,
                               max_iter=10_000).fit(X, y)
    np.testing.assert_allclose(clf.coef_, ref.coef_, rtol=1e-4, atol=1e-5)


def test_init_random_is_seeded(cancer):
    X, y = cancer
    a = GDLogisticClassifier(init="random", random_state=0, max_iter=3,
                             learning_rate=0.01)
    b = clone(a)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a.fit(X, y)
        b.fit(X, y)
        c = GDLogisticClassifier(max_iter=3, learning_rate=0.01).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    assert not np.allclose(a.coef_, c.coef_)
    # Random and zero starts reach the same optimum.
    d = GDLogisticClassifier(init="random", random_state=1, tol=1e-10).fit(X, y)
    e = GDLogisticClassifier(tol=1e-10).fit(X, y)
    np.testing.assert_allclose(d.coef_, e.coef_, rtol=1e-4, atol=1e-4)


def test_warm_start_continues_from_previous_solution(cancer):
    X, y = cancer
    cold = GDLogisticClassifier(tol=1e-10).fit(X, y)
    warm = GDLogisticClassifier(warm_start=True, tol=1e-10).fit(X, y)
    first = warm.n_iter_
    warm.fit(X, y)
    assert warm.n_iter_ < first
    np.testing.assert_allclose(warm.coef_, cold.coef_, rtol=1e-6, atol=1e-8)


def test_warm_start_with_other_classes_raises_and_keeps_model(cancer, iris):
    X, y = cancer
    clf = GDLogisticClassifier(warm_start=True).fit(X, y)
    coef = clf.coef_.copy()
    with pytest.raises(ValueError, match="same classes"):
        clf.fit(X, np.where(y == 1, 5, 0))
    np.testing.assert_array_equal(clf.coef_, coef)


def test_pipeline_cross_validate(cancer):
    X, y = cancer
    pipe = Pipeline([("scale", StandardScaler()), ("clf", GDLogisticClassifier())])
    scores = cross_validate(pipe, X, y, cv=3)["test_score"]
    assert scores.mean() > 0.95


def test_grid_search_learning_rate_in_parallel(cancer):
    X, y = cancer
    pipe = make_pipeline(StandardScaler(), GDLogisticClassifier(max_iter=200))
    grid = {"gdlogisticclassifier__learning_rate": [0.01, 0.1, 1.0, "auto"]}
    search = GridSearchCV(pipe, grid, cv=3, n_jobs=2, error_score="raise")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    assert search.best_score_ > 0.95
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))


def test_clone_and_pickle_round_trip(iris):
    X, y = iris
    clf = GDLogisticClassifier(alpha=1e-3).fit(X, y)
    unfitted = clone(clf)
    assert not hasattr(unfitted, "coef_")
    assert unfitted.get_params() == clf.get_params()
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.coef_, clf.coef_)
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))


def test_two_class_multinomial_loss_reports_a_difference(cancer):
    X, y = cancer
    clf = GDLogisticClassifier("softmax_cross_entropy", alpha=1e-2,
                               tol=1e-10).fit(X, y)
    # At the optimum W0 = -W1, so the penalty on both columns is the binary
    # penalty on their difference with half the strength.
    ref = GDLogisticClassifier(alpha=0.5e-2, tol=1e-10).fit(X, y)
    assert clf.coef_.shape == (1, X.shape[1])
    np.testing.assert_allclose(clf.coef_, ref.coef_, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(clf.predict_proba(X), ref.predict_proba(X),
                               atol=1e-6)
    np.testing.assert_array_equal(
        clf.predict(X), clf.classes_[(clf.decision_function(X) > 0).astype(int)]
    )


def test_string_labels(cancer):
    X, y = cancer
    labels = np.array(["benign", "malignant"])[y]
    clf = GDLogisticClassifier().fit(X, labels)
    np.testing.assert_array_equal(clf.classes_, ["benign", "malignant"])
    assert set(clf.predict(X)) <= {"benign", "malignant"}


@pytest.mark.parametrize(
    "params",
    [
        {"alpha": 0.5, "loss__bogus": 1},
        {"alpha": 0.5, "loss": "focal", "loss__bogus": 1},
        {"alpha": 0.5, "loss": "no_such_loss", "loss__gamma": 1},
        {"alpha": 0.5, "no_such_parameter": 1},
    ],
)
def test_set_params_is_all_or_nothing(params):
    clf = GDLogisticClassifier(loss="log_loss", alpha=1e-3)
    before = clf.get_params(deep=False)
    with pytest.raises(ValueError):
        clf.set_params(**params)
    assert clf.get_params(deep=False) == before
    assert clf.loss == "log_loss"


def test_set_params_nested_still_updates_the_loss_in_place():
    loss = get_loss("focal")
    clf = GDLogisticClassifier(loss=loss).set_params(loss__gamma=3.0)
    assert clf.loss is loss and loss.gamma == 3.0
    clf = GDLogisticClassifier().set_params(loss="focal", loss__gamma=1.5)
    assert clf.loss.gamma == 1.5
