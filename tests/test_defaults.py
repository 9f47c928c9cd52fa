"""Every loss and every solver trains right at its defaults (issue 11)."""

import numpy as np
import pytest
from sklearn.datasets import load_digits, make_classification
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.metrics import log_loss
from sklearn.preprocessing import StandardScaler

from skloss import GDLogisticClassifier

SOLVERS = ["gd", "nesterov", "sgd", "adam"]


@pytest.fixture(scope="module")
def small():
    return make_classification(200, 5, random_state=0)


def _penalised_log_loss(clf, X, y, alpha):
    # Mean log loss (softmax cross-entropy for more than two classes) of
    # the fitted probabilities plus alpha / 2 ||W||^2: the objective both
    # estimators minimise at C = 1 / (alpha n).
    return log_loss(y, clf.predict_proba(X)) + alpha / 2 * np.sum(clf.coef_ ** 2)


@pytest.mark.parametrize("dataset", ["cancer", "iris", "digits", "tall"])
def test_the_default_fit_stops_no_higher_than_lbfgs(dataset, request):
    # The default tol (1e-5 on the largest standardized gradient entry)
    # stops "auto" at LogisticRegression's accuracy (its gtol is 1e-4 on
    # the raw gradient), not orders of magnitude below it: at tol=1e-4
    # digits stops above lbfgs's cost (6.6e-5 above the optimum against
    # 5.3e-5), at 1e-6 it took 90 epochs where 60 suffice now.
    if dataset == "digits":
        X, y = load_digits(return_X_y=True)
        X = StandardScaler().fit_transform(X)
    elif dataset == "tall":
        X, y = make_classification(20_000, 50, n_informative=20, random_state=0)
        X = StandardScaler().fit_transform(X)
    else:
        X, y = request.getfixturevalue(dataset)
    alpha = 1.0 / X.shape[0]
    ref = LogisticRegression().fit(X, y)
    clf = GDLogisticClassifier(alpha=alpha).fit(X, y)
    assert clf.n_iter_ < clf.max_iter
    assert _penalised_log_loss(clf, X, y, alpha) <= _penalised_log_loss(
        ref, X, y, alpha)


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
    # An L1 penalty this strong makes W = 0 the minimiser of the log loss.
    from sklearn.datasets import load_breast_cancer
    from sklearn.preprocessing import StandardScaler

    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    with pytest.warns(UserWarning, match="all-zero model.*Lower alpha") as rec:
        clf = GDLogisticClassifier(penalty="l1", alpha=10.0,
                                   fit_intercept=False).fit(X, y)
    assert not np.any(clf.coef_) and not np.any(clf.intercept_)
    assert rec[0].filename == __file__


def _standardized(loader):
    from sklearn.preprocessing import StandardScaler

    X, y = loader(return_X_y=True)
    return StandardScaler().fit_transform(X), y


# -- 11.2: the perceptron learns at its defaults -------------------------------
@pytest.mark.parametrize("dataset", ["breast_cancer", "iris"])
@pytest.mark.parametrize("solver", ["gd", "sgd", "adam"])
def test_perceptron_at_its_defaults_matches_sklearn_perceptron(dataset, solver):
    # "auto" runs the pocket perceptron algorithm (not a descent to the
    # zero model). Reference: scikit-learn's Perceptron at its defaults.
    # (Nesterov's momentum variant reaches it on breast cancer only; see
    # the next test.)
    import sklearn.datasets
    from sklearn.linear_model import Perceptron

    # Both depend on the shuffling (one sample of 569 either way), so the
    # mean accuracies over the same six seeds are compared.
    X, y = _standardized(getattr(sklearn.datasets, f"load_{dataset}"))
    seeds = range(6)
    reference = np.mean([Perceptron(random_state=s).fit(X, y).score(X, y)
                         for s in seeds])
    fits = [GDLogisticClassifier(loss="perceptron", solver=solver,
                                 random_state=s).fit(X, y) for s in seeds]
    assert np.mean([clf.score(X, y) for clf in fits]) >= reference
    # Stopped by the plateau rule.
    assert all(clf.n_iter_ < clf.max_iter for clf in fits)


def test_nesterov_perceptron_at_its_defaults():
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import Perceptron

    X, y = _standardized(load_breast_cancer)
    clf = GDLogisticClassifier(loss="perceptron", solver="nesterov").fit(X, y)
    assert clf.score(X, y) >= Perceptron(random_state=0).fit(X, y).score(X, y)


def test_auto_perceptron_is_unit_steps_in_standardized_coordinates():
    # Without a penalty the standardized coordinates are those of
    # StandardScaler (centred, divided by the standard deviation), where
    # "auto" takes steps of 1: the same models epoch by epoch, so the same
    # costs, as a fixed step of 1 on StandardScaler's output.
    from sklearn.datasets import load_breast_cancer
    from sklearn.preprocessing import StandardScaler

    X, y = load_breast_cancer(return_X_y=True)
    params = dict(loss="perceptron", penalty=None, tol=None, max_iter=12)
    auto = GDLogisticClassifier(**params).fit(X, y)
    fixed = GDLogisticClassifier(learning_rate=1.0, **params).fit(
        StandardScaler().fit_transform(X), y
    )
    np.testing.assert_allclose(auto.loss_curve_, fixed.loss_curve_, rtol=1e-9)
    assert auto.step_sizes_ == [1.0] * 12


def test_auto_perceptron_keeps_its_best_epoch():
    # The pocket: of the epochs run, "auto" returns the model of lowest
    # cost per unit weight norm. The reference replays the epochs as fixed
    # steps of 1 (textbook, last epoch kept) on standardized data, where
    # the solver's coordinates are the user's (previous test).
    from sklearn.datasets import load_iris

    X, y = _standardized(load_iris)
    y = (y == 2).astype(int)  # not linearly separable from the others
    params = dict(loss="perceptron", penalty=None, tol=None)
    clf = GDLogisticClassifier(max_iter=30, **params).fit(X, y)
    epochs = [
        GDLogisticClassifier(learning_rate=1.0, max_iter=k, **params).fit(X, y)
        for k in range(1, 31)
    ]
    per_norm = [
        m.loss_curve_[-1] / np.linalg.norm(np.append(m.coef_, m.intercept_))
        for m in epochs
    ]
    best = epochs[int(np.argmin(per_norm))]
    assert best is not epochs[-1]  # the last epoch is not the best here
    np.testing.assert_allclose(clf.coef_, best.coef_, rtol=1e-9)
    np.testing.assert_allclose(clf.intercept_, best.intercept_, rtol=1e-9)


def test_the_plateau_rule_counts_from_the_best_epoch_not_the_start():
    # SGDClassifier's rule: stop after n_iter_no_change epochs none of
    # which improved on the best earlier epoch by tol. The reference
    # replays that rule on the cost curve of a run without stopping; the
    # perceptron's start (cost 0, its trivial minimum) is not the bar.
    X, y = _standardized(__import__("sklearn.datasets").datasets.load_iris)
    params = dict(loss="perceptron", learning_rate=1.0)
    curve = GDLogisticClassifier(tol=None, max_iter=200, **params).fit(
        X, y).loss_curve_
    tol, patience = 1e-6, 5
    best, stale, epoch = np.inf, 0, 0
    for cost in curve:
        epoch += 1
        stale = stale + 1 if cost > best - tol else 0
        if stale >= patience:
            break
        best = min(best, cost)
    clf = GDLogisticClassifier(tol=tol, n_iter_no_change=patience, **params)
    assert clf.fit(X, y).n_iter_ == epoch > patience
    np.testing.assert_array_equal(clf.loss_curve_, curve[:epoch])


# -- 11.3: a fixed learning rate is textbook descent on (W, b) -----------------
def test_fixed_step_is_textbook_gradient_descent_from_the_issue():
    est = GDLogisticClassifier(learning_rate=0.1, penalty=None, max_iter=1, tol=None)
    est.fit([[0.0], [1.0], [2.0]], [0, 1, 1])
    # One step from zero: W -= 0.1 * mean((p - y) x), p = 1/2.
    np.testing.assert_allclose(est.coef_, [[0.05]], rtol=1e-12)
    np.testing.assert_allclose(est.intercept_, [1.0 / 60.0], rtol=1e-12)


@pytest.mark.parametrize("solver", ["gd", "nesterov"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_fixed_step_epochs_follow_the_textbook_iteration(solver, fit_intercept, rng):
    # Uncentred, unscaled data: textbook (accelerated) gradient descent on
    # the weighted mean log loss + alpha/2 ||W||^2, written out here.
    X = rng.standard_normal((60, 3)) * [1.0, 5.0, 0.2] + [3.0, -2.0, 1.0]
    y = (X[:, 0] - 3 + rng.standard_normal(60) > 0).astype(int)
    sw = rng.uniform(0.5, 2.0, 60)
    s, lr, alpha = sw / sw.sum(), 0.01, 0.01
    w, b = np.zeros(3), 0.0

    def grad(w, b):
        g = s * (1.0 / (1.0 + np.exp(-(X @ w + b))) - y)
        return X.T @ g + alpha * w, (g.sum() if fit_intercept else 0.0)

    vw, vb = w.copy(), b  # look-ahead point (nesterov)
    for t in range(1, 6):
        if solver == "gd":
            gw, gb = grad(w, b)
            w, b = w - lr * gw, b - lr * gb
        else:
            gw, gb = grad(vw, vb)
            w_new, b_new = vw - lr * gw, vb - lr * gb
            mom = (t - 1) / (t + 2)
            vw, vb = w_new + mom * (w_new - w), b_new + mom * (b_new - b)
            w, b = w_new, b_new
    est = GDLogisticClassifier(
        solver=solver, learning_rate=lr, alpha=alpha, max_iter=5, tol=None,
        fit_intercept=fit_intercept,
    ).fit(X, y, sample_weight=sw)
    if solver == "gd":
        np.testing.assert_allclose(est.coef_[0], w, rtol=1e-10)
        np.testing.assert_allclose(est.intercept_[0], b, rtol=1e-10, atol=1e-14)
    else:
        # Nesterov's momentum schedule is the solver's own; the point is
        # that it moves (W, b) in the user's coordinates: one epoch is
        # exactly one textbook gradient step from zero.
        one = GDLogisticClassifier(
            solver=solver, learning_rate=lr, alpha=alpha, max_iter=1, tol=None,
            fit_intercept=fit_intercept,
        ).fit(X, y, sample_weight=sw)
        gw, gb = grad(np.zeros(3), 0.0)
        np.testing.assert_allclose(one.coef_[0], -lr * gw, rtol=1e-10)
        np.testing.assert_allclose(one.intercept_[0], -lr * gb, rtol=1e-10, atol=1e-14)


class _TextbookPerceptron:
    """scikit-learn's test_perceptron.MyPerceptron: update where sign(x.w + b) != y."""

    def __init__(self, n_iter, fit_intercept):
        self.n_iter, self.fit_intercept = n_iter, fit_intercept

    def fit(self, X, y):
        self.w, self.b = np.zeros(X.shape[1]), 0.0
        for _ in range(self.n_iter):
            for xi, yi in zip(X, y):
                if np.sign(xi @ self.w + self.b) != yi:
                    self.w += yi * xi
                    if self.fit_intercept:
                        self.b += yi
        return self


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("sparse", [False, True])
def test_sgd_perceptron_equals_the_textbook_perceptron(fit_intercept, sparse):
    import scipy.sparse as sps
    from sklearn.datasets import load_iris
    from sklearn.utils import check_random_state

    iris = load_iris()
    order = np.arange(iris.data.shape[0])
    check_random_state(12).shuffle(order)
    X, y = iris.data[order], iris.target[order]
    y_bin = np.where(y == 1, 1, -1)
    ref = _TextbookPerceptron(2, fit_intercept).fit(X, y_bin)
    est = GDLogisticClassifier(
        loss="perceptron", solver="sgd", batch_size=1, shuffle=False,
        learning_rate=1.0, penalty=None, max_iter=2, tol=None,
        fit_intercept=fit_intercept, momentum=0.0,
    ).fit(sps.csr_matrix(X) if sparse else X, y_bin)
    np.testing.assert_allclose(est.coef_.ravel(), ref.w, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(est.intercept_[0], ref.b, atol=1e-12)
