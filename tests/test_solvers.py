"""Every solver reaches the optimum of the same convex problem.

The reference optimum is computed independently with scipy's L-BFGS-B: the
L1 part is made smooth by splitting ``w = w+ - w-`` with ``w+, w- >= 0``,
an exact reformulation of the same convex problem.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import minimize
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from skloss import GDLogisticClassifier
from skloss._objective import LinearObjective
from skloss._penalties import make_penalty
from skloss.losses import LogLoss
from skloss.optim import SOLVERS, make_solver

PENALTIES = {
    # penalty: (alpha, l1_ratio)
    None: (0.0, 0.0),
    "l2": (0.01, 0.0),
    "l1": (0.03, 1.0),
    "elasticnet": (0.03, 0.5),
}

# Mini-batch solvers approach the optimum up to gradient noise; a cosine
# schedule anneals the step to zero so the noise dies out.
SOLVER_SETTINGS = {
    "gd": (dict(tol=1e-10, max_iter=20_000), 1e-6),
    "nesterov": (dict(tol=1e-10, max_iter=20_000), 1e-6),
    "sgd": (
        dict(schedule="cosine", max_iter=200, batch_size=20, tol=None,
             momentum=0.5),
        2e-2,
    ),
    "adam": (
        dict(schedule="cosine", max_iter=200, batch_size=20, tol=None,
             learning_rate=0.05),
        2e-2,
    ),
}


@pytest.fixture(scope="module")
def binary_data():
    X, y = make_classification(
        200, 5, n_informative=3, n_redundant=0, random_state=0
    )
    return (X - X.mean(axis=0)) / X.std(axis=0), y


def reference_optimum(X, y, alpha, l1_ratio):
    """argmin mean log loss + alpha (rho |w|_1 + (1 - rho)/2 |w|^2), by scipy."""
    n, d = X.shape

    def split_cost(z):
        wp, wm, b = z[:d], z[d:2 * d], z[2 * d]
        w = wp - wm
        raw = X @ w + b
        loss = np.mean(np.logaddexp(0.0, raw) - y * raw)
        g_raw = (0.5 * (1.0 + np.tanh(0.5 * raw)) - y) / n
        g_w = X.T @ g_raw + alpha * (1 - l1_ratio) * w
        value = loss + alpha * (
            l1_ratio * np.sum(wp + wm) + 0.5 * (1 - l1_ratio) * (w @ w)
        )
        grad = np.concatenate(
            [g_w + alpha * l1_ratio, -g_w + alpha * l1_ratio, [g_raw.sum()]]
        )
        return value, grad

    res = minimize(
        split_cost,
        np.zeros(2 * d + 1),
        jac=True,
        method="L-BFGS-B",
        bounds=[(0, None)] * (2 * d) + [(None, None)],
        options=dict(maxiter=50_000, maxcor=30, gtol=1e-13, ftol=1e-16),
    )
    z = res.x
    return z[:d] - z[d:2 * d], z[2 * d]


@pytest.mark.parametrize("penalty", list(PENALTIES))
@pytest.mark.parametrize("solver", list(SOLVERS))
def test_every_solver_reaches_the_optimum(solver, penalty, binary_data):
    X, y = binary_data
    alpha, l1_ratio = PENALTIES[penalty]
    w_ref, b_ref = reference_optimum(X, y, alpha, l1_ratio)
    params, atol = SOLVER_SETTINGS[solver]
    clf = GDLogisticClassifier(
        solver=solver, penalty=penalty, alpha=alpha, l1_ratio=l1_ratio,
        random_state=0, **params,
    ).fit(X, y)
    scale = max(np.abs(w_ref).max(), 1.0)
    np.testing.assert_allclose(clf.coef_.ravel(), w_ref, atol=atol * scale)
    np.testing.assert_allclose(clf.intercept_[0], b_ref, atol=atol * scale)
    if solver in ("gd", "nesterov") and penalty in ("l1", "elasticnet"):
        # Proximal steps give exact zeros exactly where the optimum has them.
        assert np.any(w_ref == 0)
        np.testing.assert_array_equal(clf.coef_.ravel() == 0, w_ref == 0)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
def test_minibatch_proximal_steps_give_exact_zeros(solver, penalty, binary_data):
    X, y = binary_data
    # A strong L1 part: the optimum keeps only the strongest features.
    clf = GDLogisticClassifier(
        solver=solver, penalty=penalty, alpha=0.2, l1_ratio=0.9,
        random_state=0, max_iter=50, tol=None,
    ).fit(X, y)
    w_ref, _ = reference_optimum(X, y, 0.2, 0.9 if penalty == "elasticnet" else 1.0)
    assert np.any(w_ref == 0)
    assert np.all(clf.coef_.ravel()[w_ref == 0] == 0)


@pytest.mark.parametrize("solver", list(SOLVERS))
def test_multinomial_optimum_matches_logistic_regression(solver, iris):
    X, y = iris
    n = X.shape[0]
    C = 100.0 / n
    ref = LogisticRegression(C=C, tol=1e-12, max_iter=10_000).fit(X, y)
    params, atol = SOLVER_SETTINGS[solver]
    if solver in ("sgd", "adam"):
        params = dict(params, momentum=0.9) if solver == "sgd" else dict(
            params, learning_rate=0.1
        )
        params["batch_size"] = 32
        params["max_iter"] = 300
    clf = GDLogisticClassifier(
        solver=solver, alpha=1.0 / (C * n), random_state=0, **params
    ).fit(X, y)
    scale = np.abs(ref.coef_).max()
    np.testing.assert_allclose(clf.coef_, ref.coef_, atol=atol * scale)
    # The softmax cost is unchanged when every intercept moves by the same
    # constant (they are not penalised), so the intercepts are compared up
    # to that shift: Adam drifts along it (by about 0.08 here).
    np.testing.assert_allclose(clf.intercept_ - clf.intercept_.mean(),
                               ref.intercept_ - ref.intercept_.mean(),
                               atol=atol * scale)


@pytest.mark.parametrize("solver", list(SOLVERS))
def test_sparse_input_gives_the_dense_model(solver, binary_data):
    X, y = binary_data
    params = dict(solver=solver, random_state=0, max_iter=30, tol=None)
    dense = GDLogisticClassifier(**params).fit(X, y)
    sparse = GDLogisticClassifier(**params).fit(sp.csr_matrix(X), y)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("solver", list(SOLVERS))
def test_same_random_state_gives_bit_identical_models(solver, binary_data):
    X, y = binary_data
    params = dict(solver=solver, init="random", max_iter=20, tol=None)
    a = GDLogisticClassifier(random_state=7, **params).fit(X, y)
    b = GDLogisticClassifier(random_state=7, **params).fit(X, y)
    assert a.coef_.tobytes() == b.coef_.tobytes()
    assert a.intercept_.tobytes() == b.intercept_.tobytes()
    assert a.loss_curve_ == b.loss_curve_
    c = GDLogisticClassifier(random_state=8, **params).fit(X, y)
    # The seed matters: it draws the initial weights (and the batch order).
    assert not np.array_equal(a.coef_, c.coef_)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_shuffle_draws_the_batch_order_from_random_state(solver, binary_data):
    X, y = binary_data
    params = dict(solver=solver, max_iter=3, tol=None, batch_size=16)
    a = GDLogisticClassifier(random_state=1, **params).fit(X, y)
    b = GDLogisticClassifier(random_state=2, **params).fit(X, y)
    assert not np.array_equal(a.coef_, b.coef_)
    # Without shuffling the order is fixed and the seed does not matter.
    c = GDLogisticClassifier(random_state=1, shuffle=False, **params).fit(X, y)
    d = GDLogisticClassifier(random_state=2, shuffle=False, **params).fit(X, y)
    assert c.coef_.tobytes() == d.coef_.tobytes()


def test_sgd_step_is_plain_minibatch_sgd(binary_data):
    """One epoch of "sgd" without shuffling, replayed by hand."""
    X, y = binary_data
    X, y = X[:40], y[:40]
    clf = GDLogisticClassifier(
        solver="sgd", learning_rate=0.3, batch_size=16, shuffle=False,
        penalty=None, fit_intercept=False, max_iter=1, tol=None,
    ).fit(X, y)
    w = np.zeros(X.shape[1])
    # ceil(40 / 16) = 3 batches of equal size: 14, 13 and 13 samples.
    for rows in np.array_split(np.arange(40), 3):
        Xb, yb = X[rows], y[rows]
        p = 0.5 * (1.0 + np.tanh(0.5 * (Xb @ w)))
        w = w - 0.3 * Xb.T @ (p - yb) / Xb.shape[0]
    np.testing.assert_allclose(clf.coef_.ravel(), w, rtol=1e-12)


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_momentum_update_rule(nesterov):
    """Heavy-ball and Nesterov momentum on f(w) = w^2 / 2, by hand."""
    X = np.array([[1.0], [-1.0]])
    obj = LinearObjective(
        LogLoss(), X, np.array([1.0, 0.0]), fit_intercept=False,
        penalty=make_penalty("l2", 1.0),
    )
    solver = make_solver(
        "sgd", learning_rate=0.1, momentum=0.9, nesterov=nesterov,
        batch_size=2, shuffle=False, max_iter=3, tol=None,
    )
    theta0 = np.array([[1.0], [0.0]])
    res = solver.minimize(obj, theta0)
    w, v = 1.0, 0.0
    for _ in range(3):
        g = float(obj.smooth_value_gradient(np.array([[w], [0.0]]))[1][0, 0])
        if nesterov:
            v = 0.9 * v - 0.1 * g
            w = w + 0.9 * v - 0.1 * g
        else:
            w_new = w + 0.9 * v - 0.1 * g
            v, w = w_new - w, w_new
    np.testing.assert_allclose(res.theta[0, 0], w, rtol=1e-12)


def test_minibatch_objective_matches_the_full_one(binary_data):
    X, y = binary_data
    y = y.astype(float)
    sw = np.abs(np.random.default_rng(0).normal(size=X.shape[0]))
    sw[::3] = 0.0
    obj = LinearObjective(LogLoss(), X, y, sample_weight=sw)
    theta = np.random.default_rng(1).normal(size=(X.shape[1] + 1, 1))
    idx = np.arange(X.shape[0])
    # The whole data as one batch is the full objective.
    v_all, g_all = obj.batch(idx).smooth_value_gradient(theta)
    v_full, g_full = obj.smooth_value_gradient(theta)
    assert v_all == pytest.approx(v_full, rel=1e-12)
    np.testing.assert_allclose(g_all, g_full, rtol=1e-10)
    # A batch keeps the full data's centring mean: compare with pre-centred
    # rows and the intercept as a column of ones (weights renormalised).
    rows = idx[1:60]
    Xc = np.hstack([X[rows] - obj.mean, np.ones((rows.shape[0], 1))])
    ref = LinearObjective(LogLoss(), Xc, y[rows], sample_weight=sw[rows],
                          fit_intercept=False)
    v_sub, g_sub = obj.batch(rows).smooth_value_gradient(theta)
    v_ref, g_ref = ref.smooth_value_gradient(np.vstack([theta, [[0.0]]]))
    assert v_sub == pytest.approx(v_ref, rel=1e-12)
    np.testing.assert_allclose(g_sub, g_ref[:-1], rtol=1e-10, atol=1e-15)
    # A batch whose samples all have zero weight has no cost.
    assert obj.batch(np.array([0, 3])) is None


@pytest.mark.parametrize("solver", list(SOLVERS))
@pytest.mark.parametrize("penalty", ["l2", "elasticnet"])
def test_float32_trains_in_float32(solver, penalty, iris):
    X, y = iris
    X32 = X.astype(np.float32)
    params = dict(solver=solver, penalty=penalty, alpha=0.01, random_state=0,
                  max_iter=30, tol=None)
    clf32 = GDLogisticClassifier(**params).fit(sp.csr_matrix(X32), y)
    clf64 = GDLogisticClassifier(**params).fit(X, y)
    assert clf32.coef_.dtype == np.float32
    assert clf32.intercept_.dtype == np.float32
    # Adam divides by the root of the squared gradients: for coordinates
    # whose gradient is near zero, float32 rounding moves the step more.
    atol = 1e-3 if solver == "adam" else 1e-4
    np.testing.assert_allclose(clf32.coef_, clf64.coef_, rtol=1e-3, atol=atol)


@pytest.mark.parametrize("learning_rate", ["auto", 0.5])
@pytest.mark.parametrize("scaled", [True, False])
def test_gd_shares_the_start_evaluation_with_the_divergence_reference(
    learning_rate, scaled, binary_data, monkeypatch
):
    # Gradient descent evaluates the cost at theta0 once: for the divergence
    # reference and as its first step's cost and gradient. That reference
    # is the cost at theta0 (up to the rounding of the coordinates "auto"
    # iterates in), and the fit's path does not depend on it.
    X, y = binary_data
    if not scaled:  # "auto" then iterates in preconditioned coordinates
        X = X * np.logspace(-1, 1, X.shape[1])
    objective = LinearObjective(
        LogLoss(), X, y.astype(float), penalty=make_penalty("l2", 0.01)
    )
    calls = {"value": 0, "gradient": 0}
    value, gradient = LinearObjective.value, LinearObjective.smooth_value_gradient

    def counting_value(self, theta):
        calls["value"] += 1
        return value(self, theta)

    def counting_gradient(self, theta):
        calls["gradient"] += 1
        return gradient(self, theta)

    solver = make_solver("gd", learning_rate=learning_rate, max_iter=15, tol=None)
    theta0 = objective.zeros()
    reference = objective.value(theta0)
    monkeypatch.setattr(LinearObjective, "value", counting_value)
    monkeypatch.setattr(LinearObjective, "smooth_value_gradient", counting_gradient)
    shared = solver.minimize(objective, theta0)
    assert calls["value"] == 0
    assert calls["gradient"] >= 16
    calls.update(value=0, gradient=0)
    steps = solver._run(objective, theta0, solver.State(),
                        solver.check_objective(objective))
    assert next(steps) == pytest.approx(reference, rel=1e-12)
    assert calls == {"value": 0, "gradient": 1}
    # The same path as a second run: the start's evaluation is not stale.
    again = solver.minimize(objective, theta0)
    np.testing.assert_array_equal(shared.theta, again.theta)
    assert shared.loss_curve == again.loss_curve


def test_preconditioned_gd_shows_callbacks_the_caller_parameters(binary_data):
    # "auto" iterates in standardized coordinates; callbacks, early stopping
    # and the result get parameters of the caller's objective.
    X, y = binary_data
    X = X * np.logspace(-1, 1, X.shape[1])
    objective = LinearObjective(
        LogLoss(), X, y.astype(float), penalty=make_penalty("l2", 0.01)
    )
    assert objective.preconditioned() is not objective
    seen = []
    result = make_solver("gd", max_iter=12, tol=None).minimize(
        objective,
        objective.zeros(),
        callback=lambda epoch, theta, cost, step: seen.append((theta, cost)),
    )
    assert len(seen) == 12
    for theta, cost in seen:
        np.testing.assert_allclose(objective.value(theta), cost, rtol=1e-12)
    np.testing.assert_array_equal(result.theta, seen[-1][0])


@pytest.mark.parametrize("penalty", [None, "l2", "l1"])
def test_auto_gd_first_step_minimises_the_upper_bound(penalty, binary_data):
    # The first "auto" step is g.g / (g' H g) with H the smoothness bound's
    # curvature (a descent step, accepted as is), not the global 1 / L.
    X, y = binary_data
    alpha, _ = PENALTIES[penalty]
    objective = LinearObjective(
        LogLoss(), X, y.astype(float), penalty=make_penalty(penalty, alpha)
    )
    result = make_solver("gd", max_iter=1, tol=None).minimize(
        objective, objective.zeros()
    )
    inner = objective.preconditioned()  # the coordinates "auto" iterates in
    _, g = inner.smooth_value_gradient(inner.zeros())
    expected = float(np.sum(g * g)) / inner.bound_curvature(g)
    assert result.step_sizes[0] == pytest.approx(expected, rel=1e-12)
    assert expected > 2.0 / inner.smoothness()
    assert result.loss_curve[0] < objective.value(objective.zeros())
