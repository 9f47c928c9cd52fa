"""Every loss and every solver trains right at its defaults (issue 11)."""

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import SGDClassifier

from skloss import GDLogisticClassifier

SOLVERS = ["gd", "nesterov", "sgd", "adam"]


@pytest.fixture(scope="module")
def small():
    return make_classification(200, 5, random_state=0)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("schedule", ["constant", "adaptive"])
def test_tol_none_runs_every_epoch_with_early_stopping(solver, schedule, small):
    # SGDClassifier's reference: tol=None runs max_iter epochs even with
    # early stopping (no validation test ends it).
    X, y = small
    ref = SGDClassifier(early_stopping=True, tol=None, max_iter=10,
                        random_state=0).fit(X, y)
    assert ref.n_iter_ == 10
    clf = GDLogisticClassifier(
        solver=solver, schedule=schedule, early_stopping=True, tol=None,
        max_iter=10, random_state=0,
    ).fit(X, y)
    assert clf.n_iter_ == ref.n_iter_
    assert len(clf.loss_curve_) == 10
    assert len(clf.validation_scores_) == 10


@pytest.mark.parametrize("solver", SOLVERS)
def test_tol_none_runs_every_epoch_past_the_optimum(solver, small):
    # Far more epochs than any stopping test would allow at the defaults.
    X, y = small
    clf = GDLogisticClassifier(solver=solver, tol=None, max_iter=300).fit(X, y)
    assert clf.n_iter_ == 300


@pytest.mark.parametrize(
    "loss", ["log_loss", "focal", "exponential", "brier", "softmax_cross_entropy"]
)
def test_predict_log_proba_is_finite_from_decision_values(loss):
    # Unpenalised breast cancer is separable: the probabilities round to
    # 0 and 1, while the decision values stay finite. The reference is
    # scipy's log_expit / log_softmax of the decision values.
    from scipy.special import log_expit, log_softmax
    from sklearn.datasets import load_breast_cancer
    from sklearn.preprocessing import StandardScaler

    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    clf = GDLogisticClassifier(loss=loss, penalty=None, tol=None,
                               max_iter=300).fit(X, y)
    log_p = clf.predict_log_proba(X)
    assert np.isfinite(log_p).all()
    scores = clf.decision_function(X)
    if loss == "softmax_cross_entropy" and scores.ndim == 2:
        expected = log_softmax(scores, axis=1)
    else:
        scale = 2.0 if loss == "exponential" else 1.0
        expected = np.column_stack(
            [log_expit(-scale * scores), log_expit(scale * scores)]
        )
    np.testing.assert_allclose(log_p, expected, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(np.exp(log_p), clf.predict_proba(X), rtol=1e-12,
                               atol=1e-15)


@pytest.mark.parametrize("solver", SOLVERS)
def test_perceptron_growth_from_zero_cost_is_not_divergence(solver):
    # The perceptron's cost at W = 0 is 0, its trivial minimum: any step
    # raises it. That is learning, not divergence; the fitted model beats
    # the majority class by far (sklearn's Perceptron scores 0.979 here).
    from sklearn.datasets import load_breast_cancer
    from sklearn.preprocessing import StandardScaler

    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    clf = GDLogisticClassifier(loss="perceptron", learning_rate=1.0,
                               solver=solver).fit(X, y)
    assert clf.loss_curve_[0] > 0
    assert clf.score(X, y) > 0.95 > np.mean(y == np.bincount(y).argmax())


def test_a_fit_ending_at_the_zero_model_says_why_and_how_to_fix_it():
    from sklearn.datasets import load_breast_cancer
    from sklearn.preprocessing import StandardScaler

    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    with pytest.warns(UserWarning, match="all-zero model.*learning_rate=1.0") as rec:
        clf = GDLogisticClassifier(loss="perceptron").fit(X, y)
    assert not np.any(clf.coef_) and not np.any(clf.intercept_)
    assert rec[0].filename == __file__
