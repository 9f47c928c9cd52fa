"""partial_fit: one epoch per call, state carried, clear errors, atomic."""

import copy

import numpy as np
import pytest
from sklearn.utils.class_weight import compute_class_weight

from skloss import GDLogisticClassifier
from skloss._objective import LinearObjective
from skloss._penalties import make_penalty
from skloss.losses import LogLoss

SOLVERS = ["gd", "nesterov", "sgd", "adam"]


def state_copy(clf):
    return copy.deepcopy(
        {k: v for k, v in vars(clf).items() if k not in clf.get_params()}
    )


def assert_unchanged(before, clf):
    after = {k: v for k, v in vars(clf).items() if k not in clf.get_params()}
    assert sorted(before) == sorted(after)
    for key in ("coef_", "intercept_", "classes_", "_theta"):
        assert before[key].tobytes() == after[key].tobytes(), key
    assert before["n_iter_"] == after["n_iter_"]
    assert before["loss_curve_"] == after["loss_curve_"]
    assert before["n_features_in_"] == after["n_features_in_"]


def test_classes_are_required_on_the_first_call(cancer):
    X, y = cancer
    clf = GDLogisticClassifier()
    with pytest.raises(ValueError, match="classes must be passed on the first"):
        clf.partial_fit(X, y)
    assert not hasattr(clf, "coef_")
    assert not hasattr(clf, "n_features_in_")


@pytest.mark.parametrize("solver", SOLVERS)
def test_one_epoch_per_call(solver, cancer):
    X, y = cancer
    clf = GDLogisticClassifier(solver=solver, random_state=0)
    for call in range(1, 4):
        clf.partial_fit(X, y, classes=np.array([0, 1]))
        assert clf.n_iter_ == call
        assert len(clf.loss_curve_) == call
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]
    assert clf.validation_scores_ is None


@pytest.mark.parametrize("solver", SOLVERS)
def test_calls_on_the_same_data_continue_like_fit(solver, cancer):
    """k partial_fit calls follow the same path as fit with max_iter=k."""
    X, y = cancer
    params = dict(solver=solver, random_state=3, tol=None, learning_rate=0.05,
                  momentum=0.5, schedule="invscaling", batch_size=100)
    fit = GDLogisticClassifier(max_iter=4, **params).fit(X, y)
    part = GDLogisticClassifier(**params)
    for _ in range(4):
        part.partial_fit(X, y, classes=[0, 1])
    np.testing.assert_allclose(part.coef_, fit.coef_, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(part.intercept_, fit.intercept_, rtol=1e-10,
                               atol=1e-13)
    np.testing.assert_allclose(part.loss_curve_, fit.loss_curve_, rtol=1e-10)


def test_partial_fit_continues_a_fitted_model(cancer):
    X, y = cancer
    clf = GDLogisticClassifier(solver="sgd", random_state=0, max_iter=5, tol=None)
    clf.fit(X, y)
    curve = list(clf.loss_curve_)
    clf.partial_fit(X, y)  # classes known from fit
    assert clf.n_iter_ == 6
    assert clf.loss_curve_[:5] == curve


def test_batches_may_hold_a_single_class(cancer):
    X, y = cancer
    clf = GDLogisticClassifier(solver="sgd", random_state=0)
    clf.partial_fit(X[y == 0], y[y == 0], classes=[0, 1])
    clf.partial_fit(X[y == 1], y[y == 1])
    assert clf.coef_.shape == (1, X.shape[1])
    assert list(clf.classes_) == [0, 1]


@pytest.mark.parametrize("solver", SOLVERS)
def test_new_labels_raise_and_keep_the_model(solver, iris):
    X, y = iris
    clf = GDLogisticClassifier(solver=solver, random_state=0)
    clf.partial_fit(X[y < 2], y[y < 2], classes=[0, 1])
    before = state_copy(clf)
    with pytest.raises(ValueError, match=r"labels \[2\] that are not among"):
        clf.partial_fit(X, y)
    assert_unchanged(before, clf)
    with pytest.raises(ValueError, match="not the same as on the first call"):
        clf.partial_fit(X[y < 2], y[y < 2], classes=[0, 1, 2])
    assert_unchanged(before, clf)


@pytest.mark.parametrize("solver", SOLVERS)
def test_other_number_of_features_raises_and_keeps_the_model(solver, cancer):
    X, y = cancer
    clf = GDLogisticClassifier(solver=solver, random_state=0)
    clf.partial_fit(X, y, classes=[0, 1])
    before = state_copy(clf)
    with pytest.raises(ValueError, match="features"):
        clf.partial_fit(X[:, :-1], y)
    assert_unchanged(before, clf)
    clf.partial_fit(X, y)
    assert clf.n_iter_ == 2


def test_balanced_class_weight_uses_running_counts(cancer):
    """Each call weights classes by the counts of everything seen so far."""
    X, y = cancer
    first, second = slice(0, 100), slice(100, 250)
    clf = GDLogisticClassifier(
        class_weight="balanced", learning_rate=0.5, penalty=None,
    )
    clf.partial_fit(X[first], y[first], classes=[0, 1])
    theta = clf._theta.copy()
    clf.partial_fit(X[second], y[second])
    # By hand: one gd step on the second batch, with the "balanced" weights
    # of the first 250 samples together.
    seen = y[:250]
    cw = compute_class_weight("balanced", classes=np.array([0, 1]), y=seen)
    obj = LinearObjective(
        LogLoss(), X[second], y[second].astype(float),
        sample_weight=cw[y[second]], penalty=make_penalty(None, 0.0),
        own_coordinates=False,  # a fixed step: textbook descent on (W, b)
    )
    start = obj.from_model(theta)
    _, grad = obj.smooth_value_gradient(start)
    expected = obj.to_model(start - 0.5 * grad)
    np.testing.assert_allclose(clf._theta, expected, rtol=1e-12, atol=1e-15)
    # The running counts are sample-weighted class counts.
    np.testing.assert_array_equal(
        clf._train_state["counts"], np.bincount(seen, minlength=2)
    )


def test_balanced_class_weight_on_one_batch_matches_fit(cancer):
    X, y = cancer
    params = dict(class_weight="balanced", learning_rate=0.5, max_iter=1,
                  tol=None)
    part = GDLogisticClassifier(**params).partial_fit(X, y, classes=[0, 1])
    fit = GDLogisticClassifier(**params).fit(X, y)
    np.testing.assert_allclose(part.coef_, fit.coef_, rtol=1e-12)


def test_sample_weight_and_dict_class_weight(cancer):
    X, y = cancer
    sw = np.where(y == 1, 2.0, 1.0)
    a = GDLogisticClassifier(learning_rate=0.5).partial_fit(
        X, y, classes=[0, 1], sample_weight=sw
    )
    b = GDLogisticClassifier(learning_rate=0.5, class_weight={1: 2.0})
    b.partial_fit(X, y, classes=[0, 1])
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-12)
    with pytest.raises(ValueError, match="non-zero|sum to zero"):
        a.partial_fit(X, y, sample_weight=np.zeros(len(y)))


def test_early_stopping_is_ignored_by_partial_fit(cancer):
    X, y = cancer
    clf = GDLogisticClassifier(early_stopping=True, learning_rate=0.5)
    clf.partial_fit(X, y, classes=[0, 1])
    ref = GDLogisticClassifier(learning_rate=0.5).partial_fit(X, y, classes=[0, 1])
    np.testing.assert_array_equal(clf.coef_, ref.coef_)
    assert clf.validation_scores_ is None


def test_warm_start_without_intercept_has_none(cancer):
    # As in LogisticRegression: switching fit_intercept off and warm
    # starting gives a model without intercept, equal to a cold fit's.
    X, y = cancer
    params = dict(alpha=1e-2, tol=1e-12, max_iter=5000)
    clf = GDLogisticClassifier(warm_start=True, **params).fit(X, y)
    assert clf.intercept_[0] != 0.0
    clf.set_params(fit_intercept=False).fit(X, y)
    assert clf.intercept_[0] == 0.0
    cold = GDLogisticClassifier(fit_intercept=False, **params).fit(X, y)
    np.testing.assert_allclose(clf.coef_, cold.coef_, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"class_weight": {0: -0.1, 1: 1}}, "class_weight must be finite"),
        ({"class_weight": {0: np.inf, 1: 1}}, "class_weight must be finite"),
        ({"alpha": -1}, "'alpha' parameter"),
        ({"learning_rate": 0}, "'learning_rate' parameter"),
        ({"momentum": 1.5}, "'momentum' parameter"),
    ],
)
def test_every_partial_fit_call_validates_like_fit(cancer, params, match):
    X, y = cancer
    clf = GDLogisticClassifier(learning_rate=0.1).partial_fit(X, y, classes=[0, 1])
    coef, n_iter = clf.coef_.copy(), clf.n_iter_
    with pytest.raises(ValueError, match=match):
        GDLogisticClassifier(**{"learning_rate": 0.1, **params}).fit(X, y)
    with pytest.raises(ValueError, match=match):
        clf.set_params(**params).partial_fit(X, y)
    np.testing.assert_array_equal(clf.coef_, coef)
    assert clf.n_iter_ == n_iter
