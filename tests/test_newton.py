"""Newton steps of _newton.py, and gd "auto"'s Newton finish (issue 11.1)."""

import warnings

import numpy as np
import pytest
import scipy.linalg
import scipy.sparse as sp
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.utils import shuffle

from skloss import GDLogisticClassifier
from skloss._newton import _solve
from skloss._objective import LinearObjective
from skloss._penalties import make_penalty
from skloss.losses import (
    Focal,
    LogLoss,
    ModifiedHuber,
    SoftmaxCrossEntropy,
    SquaredHinge,
)
from skloss.optim import GradientDescent


def _problem(rng, n=80, d=4, K=1):
    X = rng.standard_normal((n, d)) * [1.0, 10.0, 0.1, 3.0][:d] + 2.0
    Y = (rng.random((n, K)) < 0.5).astype(float)
    return X, (Y[:, 0] if K == 1 else Y)


def _derivatives(name, y, raw):
    """First and second derivatives of the loss in raw, from the formulas."""
    if name == "LogLoss":  # log(1 + e^r) - y r
        p = 1 / (1 + np.exp(-raw))
        return p - y, p * (1 - p)
    s = 2 * y - 1
    z = s * raw
    if name == "SquaredHinge":  # max(0, 1 - z)^2
        return -2 * s * np.maximum(0, 1 - z), 2.0 * (z < 1)
    # Modified Huber: (1 - z)^2 on [-1, 1), 0 above, -4 z below.
    inner = (z >= -1) & (z < 1)
    first = np.where(z < -1, -4 * s, np.where(inner, -2 * s * (1 - z), 0.0))
    return first, 2.0 * inner


@pytest.mark.parametrize("loss", [LogLoss(), SquaredHinge(), ModifiedHuber()])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("K", [1, 3])
@pytest.mark.parametrize("sparse", [False, True])
def test_direction_is_minus_inverse_hessian_times_gradient(
    loss, fit_intercept, K, sparse, rng
):
    # Reference: the textbook sums over samples, in the model's (W, b),
    # sum_i w_i l''(z_i) x_i x_i^T + alpha I and sum_i w_i l'(z_i) x_i +
    # alpha W, with the loss's derivatives written out above. The objective's
    # coordinates (centred) and its preconditioned copy give the same step.
    X, y = _problem(rng, K=K)
    w = rng.uniform(0.5, 2, 80)
    alpha = 0.1
    objective = LinearObjective(loss, sp.csr_matrix(X) if sparse else X, y,
                                sample_weight=w, penalty=make_penalty("l2", alpha),
                                fit_intercept=fit_intercept)
    model = rng.standard_normal((5, K)) * 0.3
    if not fit_intercept:
        model[-1] = 0.0
    Y = y.reshape(80, K)
    X1 = np.column_stack([X, np.ones(80)])  # rows (x_i, 1)
    m = 5 if fit_intercept else 4
    expected = np.zeros_like(model)
    for k in range(K):
        first, second = _derivatives(type(loss).__name__, Y[:, k], X1 @ model[:, k])
        weights = w / w.sum()
        H = sum(weights[i] * second[i] * np.outer(X1[i], X1[i]) for i in range(80))
        g = sum(weights[i] * first[i] * X1[i] for i in range(80))
        H[:4, :4] += alpha * np.eye(4)
        g[:4] += alpha * model[:4, k]
        expected[:m, k] = -np.linalg.solve(H[:m, :m], g[:m])
    for obj in (objective, objective.preconditioned()):
        theta = obj.from_model(model)
        step = obj.newton_direction(theta)
        np.testing.assert_allclose(obj.to_model(step), expected, rtol=1e-9,
                                   atol=1e-12)
        # The gradient given (gd has it from its last epoch) instead of
        # computed again: the same step.
        step = obj.newton_direction(theta, obj.smooth_value_gradient(theta)[1])
        np.testing.assert_allclose(obj.to_model(step), expected, rtol=1e-9,
                                   atol=1e-12)
        # The inverse Hessian as an operator on the solver's gradient, in
        # the solver's coordinates, gives the same step.
        apply = obj.inverse_hessian(theta)
        step = -apply(obj.smooth_value_gradient(theta)[1])
        np.testing.assert_allclose(obj.to_model(step), expected, rtol=1e-9,
                                   atol=1e-12)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
def test_softmax_inverse_hessian_solves_the_textbook_system(
    fit_intercept, label_smoothing, rng
):
    # Reference: the multinomial Hessian written out in the model's (W, b),
    # sum_i w_i (diag p_i - p_i p_i^T) kron x_i x_i^T + alpha I on W (class
    # by class blocks), singular along the shift of all intercepts where
    # there is one; the step -H^+ g (the gradient has no part along it).
    K, n, d = 3, 80, 4
    X, _ = _problem(rng, n=n, d=d)
    Y = np.eye(K)[rng.integers(0, K, n)]
    w = rng.uniform(0.5, 2, n)
    alpha = 0.1
    loss = SoftmaxCrossEntropy(label_smoothing=label_smoothing)
    objective = LinearObjective(loss, X, Y, sample_weight=w,
                                penalty=make_penalty("l2", alpha),
                                fit_intercept=fit_intercept)
    model = rng.standard_normal((d + 1, K)) * 0.3
    if not fit_intercept:
        model[-1] = 0.0
    X1 = np.column_stack([X, np.ones(n)])
    raw = X1 @ model
    p = np.exp(raw - raw.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    T = (1 - label_smoothing) * Y + label_smoothing / K
    weights = w / w.sum()
    m = d + 1 if fit_intercept else d
    H = np.zeros((K * m, K * m))
    g = np.zeros(K * m)
    for i in range(n):
        x = X1[i, :m]
        H += weights[i] * np.kron(np.diag(p[i]) - np.outer(p[i], p[i]),
                                  np.outer(x, x))
        g += weights[i] * np.kron(p[i] - T[i], x)
    for k in range(K):
        H[k * m:k * m + d, k * m:k * m + d] += alpha * np.eye(d)
        g[k * m:k * m + d] += alpha * model[:d, k]
    expected = np.zeros_like(model)
    expected[:m] = (-np.linalg.pinv(H) @ g).reshape(K, m).T
    for obj in (objective, objective.preconditioned()):
        theta = obj.from_model(model)
        apply = obj.inverse_hessian(theta)
        step = -apply(obj.smooth_value_gradient(theta)[1])
        np.testing.assert_allclose(obj.to_model(step), expected, rtol=1e-8,
                                   atol=1e-11)
    # The Newton finish stays binary: no coupled Newton direction.
    assert objective.newton_direction(objective.from_model(model)) is None


class _PerPairSoftmax(SoftmaxCrossEntropy):
    """Softmax cross-entropy whose ``hessian`` is its own: the system takes
    the per-pair route (one weighted Gram per pair of outputs)."""

    def hessian(self, y, raw):
        return super().hessian(y, raw)


@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("block_bytes", [None, 4096])
def test_multiclass_system_from_one_product_equals_the_per_pair_sums(
        label_smoothing, weighted, block_bytes, rng, monkeypatch):
    # Reference: the per-pair route, and the textbook sum
    # sum_i w_i (diag p_i - p_i p_i^T) kron x~_i x~_i^T over the rows.
    from skloss import _newton
    from skloss._newton import newton_system

    if block_bytes is not None:  # several blocks of rows, the last short
        monkeypatch.setattr(_newton, "_OUTER_BLOCK_BYTES", block_bytes)
    K, n, d = 4, 203, 4
    X, _ = _problem(rng, n=n, d=d)
    Y = np.eye(K)[rng.integers(0, K, n)]
    W, b = rng.standard_normal((d, K)) * 0.3, rng.standard_normal(K)
    weights = rng.uniform(0.5, 2.0, n) / n if weighted else 1.0 / n
    fast = SoftmaxCrossEntropy(label_smoothing=label_smoothing)
    readable = _PerPairSoftmax(label_smoothing=label_smoothing)
    assert _newton._hessian_parts(fast, X, Y, X @ W + b, np.ones((n, 1))) is not None
    assert _newton._hessian_parts(readable, X, Y, X @ W + b, np.ones((n, 1))) is None
    grad, hess = newton_system(X, Y, weights, fast, W, b)
    grad_ref, hess_ref = newton_system(X, Y, weights, readable, W, b)
    X1 = np.column_stack([X, np.ones(n)])
    blocks = fast.hessian(Y, X @ W + b) * np.broadcast_to(weights, (n,))[:, None, None]
    textbook = np.einsum("ikj,ia,ib->kajb", blocks, X1, X1).reshape(K * (d + 1), -1)
    np.testing.assert_allclose(hess, hess_ref, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(hess[0], textbook, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(grad, grad_ref)


def test_multiclass_system_takes_the_per_pair_route_where_one_product_cannot(rng):
    from skloss._newton import _hessian_parts

    X, _ = _problem(rng, n=30, d=3)
    Y = np.eye(3)[rng.integers(0, 3, 30)]
    raw = rng.standard_normal((30, 3))
    loss = SoftmaxCrossEntropy()
    assert _hessian_parts(loss, sp.csr_matrix(X), Y, raw, np.ones((30, 1))) is None
    negative = np.ones((30, 1))
    negative[3] = -1.0
    assert _hessian_parts(loss, X, Y, raw, negative) is None


@pytest.mark.parametrize("smallest", [1e-3, 1e-12, 1e-14, 3e-16, 0.0, -1e-3])
def test_solve_refuses_what_scipy_solve_warns_or_fails_on(smallest, rng):
    # Reference: scipy.linalg.solve(assume_a="pos"), which warns below
    # LAPACK's machine precision in the reciprocal condition number and
    # fails on a matrix that is not positive definite.
    Q, _ = np.linalg.qr(rng.standard_normal((6, 6)))
    A = Q @ np.diag([4.0, 3.0, 2.0, 1.0, 0.5, smallest]) @ Q.T
    A = (A + A.T) / 2
    b = rng.standard_normal(6)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", scipy.linalg.LinAlgWarning)
            expected = scipy.linalg.solve(A, b, assume_a="pos")
    except (np.linalg.LinAlgError, scipy.linalg.LinAlgWarning):
        expected = None
    got = _solve(A, b)
    if expected is None:
        assert got is None
    else:
        np.testing.assert_allclose(got, expected, rtol=1e-6)
        np.testing.assert_allclose(_solve(A, np.column_stack([b, 2 * b])),
                                   np.column_stack([expected, 2 * expected]),
                                   rtol=1e-6)


def test_solve_refuses_a_system_that_is_not_finite():
    A = np.eye(3)
    A[1, 2] = A[2, 1] = np.nan
    assert _solve(A, np.ones(3)) is None


def test_no_direction_where_newton_does_not_apply(rng):
    X, y = _problem(rng)
    cases = [
        LinearObjective(Focal(), X, y),  # no hessian
        LinearObjective(SquaredHinge(), X, y, penalty=make_penalty("l1", 0.1)),
        LinearObjective(SquaredHinge(), rng.standard_normal((30, 300)),
                        (rng.random(30) < 0.5).astype(float)),  # too wide
        # A constant column without L2: the Hessian is singular to rounding.
        LinearObjective(LogLoss(), np.column_stack([X, np.full(80, 7.0)]), y),
    ]
    for objective in cases:
        assert objective.newton_direction(objective.zeros()) is None
        assert objective.inverse_hessian(objective.zeros()) is None


def _sample_weight_check_problem():
    # scikit-learn's check_sample_weight_equivalence data.
    rng = np.random.RandomState(42)
    X = rng.rand(15, 30)
    y = rng.randint(0, 3, size=15)
    sw = rng.randint(0, 5, size=15)
    return X, y, sw


@pytest.mark.parametrize("loss", ["SquaredHinge", "ModifiedHuber"])
def test_gd_auto_reaches_the_optimum_of_piecewise_quadratic_costs(loss):
    # The certificate: the textbook gradient of the cost (written out with
    # the loss's derivatives above) at the fitted model. The cost is
    # alpha-strongly convex, so the weights are within |g| / alpha of the
    # optimum. Gradient steps alone needed ~2,200 epochs for 5e-9 here.
    X, y, sw = _sample_weight_check_problem()
    name = "squared_hinge" if loss == "SquaredHinge" else "modified_huber"
    clf = GDLogisticClassifier(loss=name).fit(X, y, sample_weight=sw)
    assert clf.n_iter_ < 200
    weights = sw / sw.sum()
    W, b = clf.coef_.T, clf.intercept_
    first, _ = _derivatives(loss, (y[:, None] == np.arange(3)).astype(float),
                            X @ W + b)
    grad_W = X.T @ (weights[:, None] * first) + clf.alpha * W
    grad_b = weights @ first
    assert np.abs(np.vstack([grad_W, grad_b])).max() / clf.alpha < 1e-8


@pytest.mark.parametrize("loss", ["squared_hinge", "modified_huber"])
def test_weighted_equals_repeated_at_the_defaults(loss):
    X, y, sw = _sample_weight_check_problem()
    repeated = GDLogisticClassifier(loss=loss).fit(X.repeat(sw, axis=0),
                                                   y.repeat(sw))
    Xw, yw, sww = shuffle(X, y, sw, random_state=0)
    weighted = GDLogisticClassifier(loss=loss).fit(Xw, yw, sample_weight=sww)
    np.testing.assert_allclose(weighted.decision_function(X),
                               repeated.decision_function(X), rtol=1e-7,
                               atol=1e-10)


def test_tol_none_takes_no_newton_epochs(monkeypatch):
    # A fixed number of epochs is the gradient method as it is (the Newton
    # finish is for a stopping test to reach).
    calls = []
    newton_epoch = GradientDescent._newton_epoch
    monkeypatch.setattr(
        GradientDescent, "_newton_epoch",
        lambda self, *args: calls.append(1) or newton_epoch(self, *args),
    )
    X, y, sw = _sample_weight_check_problem()
    GDLogisticClassifier(loss="squared_hinge", max_iter=300).fit(
        X, y, sample_weight=sw)
    assert calls  # the patch sees the Newton finish of a default fit
    calls.clear()
    clf = GDLogisticClassifier(loss="squared_hinge", tol=None, max_iter=300)
    clf.fit(X, y, sample_weight=sw)
    assert clf.n_iter_ == 300 and not calls


def _standardized_cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _newton_attempts(monkeypatch):
    """Epochs at which gd "auto" tries a Newton step, filled as it trains."""
    epochs, current = [], [0]
    newton_epoch = GradientDescent._newton_epoch
    monkeypatch.setattr(
        GradientDescent, "_newton_epoch",
        lambda self, *args: epochs.append(current[0]) or newton_epoch(self, *args),
    )
    return epochs, lambda epoch: current.__setitem__(0, epoch)


@pytest.mark.parametrize("per_coef, first", [(0.5, 16), (1.0, 31)])
def test_newton_waits_as_many_epochs_as_a_newton_step_costs(
    monkeypatch, per_coef, first
):
    # Ski rental: gradient epochs first, as many as one Newton step costs
    # (_NEWTON_EPOCHS_PER_COEF per parameter; 31 parameters here).
    X, y = _standardized_cancer()
    objective = LinearObjective(LogLoss(), X, y.astype(float),
                                penalty=make_penalty("l2", 1 / len(y)))
    tried, on_epoch_begin = _newton_attempts(monkeypatch)
    monkeypatch.setattr(GradientDescent, "_NEWTON_EPOCHS_PER_COEF", per_coef)
    GradientDescent(tol=1e-12, max_iter=60).minimize(
        objective, objective.zeros(), on_epoch_begin=on_epoch_begin)
    assert tried[0] == first


def test_log_loss_newton_finish_reaches_the_optimum_sooner(monkeypatch):
    # Reference: scikit-learn's Newton-Cholesky solver on the same cost,
    # mean log loss + alpha / 2 |w|^2, i.e. C = 1 / (alpha n).
    X, y = _standardized_cancer()
    alpha = 1 / len(y)
    reference = LogisticRegression(solver="newton-cholesky", C=1.0, tol=1e-12,
                                   max_iter=100).fit(X, y)
    tried, _ = _newton_attempts(monkeypatch)
    clf = GDLogisticClassifier(alpha=alpha, tol=1e-10).fit(X, y)
    assert tried
    np.testing.assert_allclose(clf.coef_, reference.coef_, rtol=1e-7,
                               atol=1e-8)
    monkeypatch.setattr(GradientDescent, "_NEWTON_EPOCHS_PER_COEF", 1e9)
    tried.clear()
    gradient_only = GDLogisticClassifier(alpha=alpha, tol=1e-10).fit(X, y)
    assert not tried
    assert clf.n_iter_ < gradient_only.n_iter_


def test_newton_step_at_the_cost_rounding_level_is_taken_whole():
    # One zero feature, 26 positives in 27: the optimum is b = log(26), W = 0.
    # Near it the decrease of a Newton step is below the cost's rounding
    # error; the approximate Wolfe test accepts the full step where Armijo's
    # halved it and the fit stalled at a gradient of 4e-10 for 5,000 epochs.
    X = np.zeros((27, 1))
    y = np.r_[0, np.ones(26, dtype=int)]
    clf = GDLogisticClassifier(alpha=1e-2, tol=1e-10, max_iter=100).fit(X, y)
    assert clf.n_iter_ < 20
    np.testing.assert_allclose(clf.intercept_, np.log(26), rtol=1e-14)
    assert clf.coef_.ravel()[0] == 0.0


@pytest.fixture
def subsampled_newton(monkeypatch):
    """gd's warm start enabled from 160 rows; the inverse Hessians it forms
    (None where it formed none)."""
    monkeypatch.setattr(GradientDescent, "_WARM_MIN_ROWS", 10)
    formed = []
    original = LinearObjective.inverse_hessian
    monkeypatch.setattr(
        LinearObjective, "inverse_hessian",
        lambda self, theta: formed.append(original(self, theta)) or formed[-1],
    )
    return formed


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("weighted", [False, True])
def test_subsample_hessian_starts_the_full_solve_newton_like(
        weighted, n_classes, rng, subsampled_newton, monkeypatch):
    # Reference: scikit-learn's Newton-Cholesky on the same cost (C = 1,
    # alpha = 1 / sum(sw)). The subsample's inverse Hessian, as the BFGS
    # directions' initial matrix, reaches it in fewer full epochs than the
    # readable route (no initial matrix: the objective offers none). The
    # Newton finish, which forms the whole data's Hessian, is kept out of
    # both (it is for few coefficients, where that Hessian is cheap).
    monkeypatch.setattr(GradientDescent, "_NEWTON_EPOCHS_PER_COEF", 1e9)
    # Three classes: softmax cross-entropy's coupled Hessian.
    n, d = 16000, 8
    X = rng.standard_normal((n, d)) * np.logspace(-1, 1, d) + 1.0
    scores = X @ rng.standard_normal((d, n_classes)) + rng.gumbel(
        size=(n, n_classes))
    y = scores.argmax(axis=1)
    sw = rng.uniform(0.5, 2.0, n) if weighted else None
    if weighted:
        sw *= n / sw.sum()
    reference = LogisticRegression(solver="newton-cholesky", tol=1e-12,
                                   max_iter=100).fit(X, y, sample_weight=sw)
    params = dict(alpha=1.0 / n, tol=1e-11)
    fast = GDLogisticClassifier(**params).fit(X, y, sample_weight=sw)
    assert len(subsampled_newton) == 1 and subsampled_newton[0] is not None
    monkeypatch.setattr(LinearObjective, "inverse_hessian", lambda self, t: None)
    readable = GDLogisticClassifier(**params).fit(X, y, sample_weight=sw)
    for clf in (fast, readable):
        np.testing.assert_allclose(clf.coef_, reference.coef_, rtol=1e-6,
                                   atol=1e-7)
        np.testing.assert_allclose(clf.intercept_, reference.intercept_,
                                   rtol=1e-6, atol=1e-7)
    assert fast.n_iter_ < readable.n_iter_
