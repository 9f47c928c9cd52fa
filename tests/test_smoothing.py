"""gd "auto"'s smoothing continuation on kinked costs (issue 11.10)."""

import warnings

import numpy as np
import pytest
from scipy.optimize import linprog, minimize_scalar
from sklearn.svm import SVC

from skloss import GDLogisticClassifier, check_loss
from skloss._objective import LinearObjective
from skloss._penalties import make_penalty
from skloss.losses import Hinge, LogLoss, SmoothedHinge
from skloss.optim import GradientDescent

# scikit-learn's test_sgd X4 / Y4 (its test_sgd_l1 problem).
X4 = np.array([
    [1, 0.9, 0.8, 0, 0, 0], [1, 0.84, 0.98, 0, 0, 0], [1, 0.96, 0.88, 0, 0, 0],
    [1, 0.91, 0.99, 0, 0, 0], [0, 0, 0, 0.89, 0.91, 1],
    [0, 0, 0, 0.79, 0.84, 1], [0, 0, 0, 0.91, 0.95, 1], [0, 0, 0, 0.93, 1, 1],
])
Y4 = np.array([1, 1, 1, 1, 2, 2, 2, 2])


def _hinge_l1_lp(X, y, alpha, fit_intercept):
    """The hinge + L1 optimum as a linear programme (HiGHS): ``(w, b, cost)``.

    min mean(xi) + alpha sum(u + v) subject to xi_i >= 1 - s_i (x_i (u - v)
    + b), xi, u, v >= 0 (b free).
    """
    n, d = X.shape
    s = np.where(y == np.unique(y)[1], 1.0, -1.0)
    sx = s[:, None] * X
    m = 2 if fit_intercept else 0
    c = np.r_[np.full(2 * d, alpha), np.zeros(m), np.full(n, 1.0 / n)]
    parts = [-sx, sx] + ([-s[:, None], s[:, None]] if fit_intercept else [])
    A = np.hstack(parts + [-np.eye(n)])
    res = linprog(c, A_ub=A, b_ub=-np.ones(n), bounds=(0, None), method="highs")
    w = res.x[:d] - res.x[d:2 * d]
    b = res.x[2 * d] - res.x[2 * d + 1] if fit_intercept else 0.0
    return w, b, res.fun


def _hinge_l1_cost(clf, X, y, alpha):
    s = np.where(y == clf.classes_[1], 1.0, -1.0)
    return float(np.mean(np.maximum(0.0, 1.0 - s * clf.decision_function(X)))
                 + alpha * np.abs(clf.coef_).sum())


def test_hinge_l1_reaches_the_sparse_optimum():
    # Gradient steps on the kinked cost stalled at 0.435 with no exact zero.
    w_lp, _, cost_lp = _hinge_l1_lp(X4, Y4, 0.2, fit_intercept=False)
    np.testing.assert_allclose(w_lp, [-1, 0, 0, 0, 0, 1], atol=1e-9)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # converges: no ConvergenceWarning
        clf = GDLogisticClassifier(loss="hinge", penalty="l1", alpha=0.2,
                                   fit_intercept=False).fit(X4, Y4)
    assert _hinge_l1_cost(clf, X4, Y4, 0.2) == pytest.approx(cost_lp, rel=1e-3)
    np.testing.assert_array_equal(clf.coef_.ravel() == 0, w_lp == 0)
    np.testing.assert_allclose(clf.coef_.ravel(), w_lp, atol=1e-3)


def test_hinge_l1_on_breast_cancer_is_near_the_linear_programme(cancer):
    X, y = cancer
    _, _, cost_lp = _hinge_l1_lp(X, y, 1e-2, fit_intercept=True)
    clf = GDLogisticClassifier(loss="hinge", penalty="l1", alpha=1e-2).fit(X, y)
    # Before the continuation: 3.6e-2 above, now 3.7e-3.
    assert _hinge_l1_cost(clf, X, y, 1e-2) == pytest.approx(cost_lp, rel=1e-2)
    assert clf.n_iter_ < clf.max_iter


@pytest.mark.parametrize("alpha", [1e-4, 1e-3, 1e-2])
@pytest.mark.parametrize("tol, rel", [(1e-5, 1e-3), (1e-6, 1e-4)])
def test_hinge_l2_reaches_the_svm_optimum(cancer, alpha, tol, rel):
    # Independent reference: libsvm's linear SVC solves the same problem,
    # hinge + alpha / 2 ||w||^2 with a free intercept, at C = 1 / (alpha n).
    # Newton steps on each smoothed stage settle it in about 100 epochs;
    # gradient steps on the kinked cost stopped 1e-2 (alpha=1e-2) to 0.52
    # (alpha=1e-4) above it, and BB steps on the stages ran out of epochs.
    # At the default tol (1e-5) the last stage ends up to 2.8e-4 above the
    # optimum (alpha=1e-4, 117 epochs); at 1e-6 within 1.7e-5 (125).
    X, y = cancer
    s = np.where(y == 1, 1.0, -1.0)

    def cost(w, b):
        return float(np.mean(np.maximum(0.0, 1.0 - s * (X @ w + b)))
                     + alpha / 2 * w @ w)

    svc = SVC(kernel="linear", C=1.0 / (alpha * len(y)), tol=1e-10).fit(X, y)
    optimum = cost(svc.coef_.ravel(), svc.intercept_[0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # converges: no ConvergenceWarning
        clf = GDLogisticClassifier(loss="hinge", alpha=alpha, tol=tol).fit(X, y)
    assert cost(clf.coef_.ravel(), clf.intercept_[0]) == pytest.approx(
        optimum, rel=rel)
    assert clf.n_iter_ < 300


def test_smoothed_hinge_loss_gradient_matches_its_parts():
    raw = np.linspace(-3.0, 3.0, 61)
    for label in (0.0, 1.0):
        y = np.full_like(raw, label)
        loss, grad = SmoothedHinge(0.3).loss_gradient(y, raw)
        np.testing.assert_allclose(loss, SmoothedHinge(0.3).loss(y, raw),
                                   atol=1e-15)
        np.testing.assert_allclose(grad, SmoothedHinge(0.3).gradient(y, raw),
                                   atol=1e-15)


@pytest.mark.parametrize(
    "loss, params, expected",
    [
        (Hinge(), {}, True),
        (Hinge(), dict(max_iter=4), False),  # partial_fit's single epochs
        (Hinge(), dict(learning_rate=0.1), False),  # fixed steps
        (LogLoss(), {}, False),  # smooth already
    ],
)
def test_which_fits_run_the_continuation(loss, params, expected):
    objective = LinearObjective(loss, X4, (Y4 == 2).astype(float),
                                penalty=make_penalty("l1", 0.2))
    params = dict(dict(learning_rate="auto"), **params)
    assert GradientDescent(**params)._continues(objective) is expected


@pytest.mark.parametrize("mu", [1.0, 0.1, 1e-3])
def test_smoothed_hinge_is_the_moreau_envelope(mu):
    # Independent reference: min over v of hinge(v) + (v - r)^2 / (2 mu),
    # by a scalar minimisation per point.
    raw = np.linspace(-2.0, 2.0, 41)
    for label in (0.0, 1.0):
        y = np.full_like(raw, label)
        hinge = Hinge().loss(y, raw)
        expected = [
            minimize_scalar(
                lambda v, r=r, label=label: (
                    Hinge().loss(np.array([label]), np.array([v]))[0]
                    + (v - r) ** 2 / (2 * mu)
                ), bounds=(r - 3, r + 3),
                method="bounded", options={"xatol": 1e-12},
            ).fun
            for r in raw
        ]
        got = SmoothedHinge(mu).loss(y, raw)
        np.testing.assert_allclose(got, expected, atol=1e-8)
        assert np.all(got <= hinge) and np.all(hinge - got <= mu / 2 + 1e-15)
    assert SmoothedHinge(mu).smoothness == 1.0 / mu
    assert Hinge().smoothed(mu).mu == mu


def test_smoothed_hinge_passes_check_loss():
    check_loss(SmoothedHinge(0.5))
