"""The lean mini-batch path gives the results of the straightforward one.

``LinearObjective.batch_evaluator`` (used by "sgd" and "adam" on NumPy and
CSR data) must compute the gradient of ``objective.batch(idx)
.smooth_value_gradient(theta)`` operation for operation: the fits below
compare coefficients bit for bit with ``MiniBatchSolver.fast_batches``
switched off. Also here: the epoch cost of mini-batch solvers (the mean of
the epoch's batch costs) and its divergence guard.
"""

import math

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal

from skloss import DivergenceError, GDLogisticClassifier
from skloss._objective import LinearObjective
from skloss._penalties import make_penalty
from skloss.losses import LogLoss, SoftmaxCrossEntropy
from skloss.optim import Adam, MiniBatchSolver, StochasticGradient


def _data(n_classes=2, n=240, d=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * np.linspace(0.5, 3.0, d) + 1.0
    w = rng.standard_normal((d, n_classes))
    y = np.argmax(X @ w + rng.standard_normal((n, n_classes)), axis=1)
    return X, y


def _fit_both(monkeypatch, X, y, sample_weight=None, **params):
    """The same fit with the lean path, then with the generic one."""
    params = {"solver": "sgd", "batch_size": 32, "max_iter": 3, "tol": None,
              "random_state": 0, **params}
    fits = []
    for fast in (True, False):
        monkeypatch.setattr(MiniBatchSolver, "fast_batches", fast)
        fits.append(
            GDLogisticClassifier(**params).fit(X, y, sample_weight=sample_weight)
        )
    return fits


def _assert_same(fast, generic, rtol=1e-12):
    assert_array_equal(fast.coef_, generic.coef_)
    assert_array_equal(fast.intercept_, generic.intercept_)
    # The reported costs may differ in the last bits (penalty value).
    assert_allclose(fast.loss_curve_, generic.loss_curve_, rtol=rtol)


SOLVERS = [
    {"solver": "sgd"},
    {"solver": "sgd", "momentum": 0.9},
    {"solver": "sgd", "momentum": 0.9, "nesterov": True},
    {"solver": "adam"},
    {"solver": "adam", "learning_rate": 0.05},
]


@pytest.mark.parametrize(
    "solver", SOLVERS, ids=lambda p: "-".join(map(str, p.values()))
)
@pytest.mark.parametrize("penalty", ["l2", "l1", "elasticnet", None])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_fast_path_matches_generic(monkeypatch, solver, penalty, n_classes):
    X, y = _data(n_classes)
    fast, generic = _fit_both(monkeypatch, X, y, penalty=penalty, alpha=1e-2,
                              **solver)
    _assert_same(fast, generic)


@pytest.mark.parametrize(
    "params",
    [
        {"loss": "modified_huber"},
        {"loss": "hinge"},
        {"loss": "log_loss", "multi_class": "ovr"},
        {"fit_intercept": False},
        {"fit_intercept": False, "solver": "adam"},
        {"class_weight": "balanced"},
        {"batch_size": 7},  # a short last batch
        {"shuffle": False},
        {"schedule": "invscaling", "momentum": 0.5},
    ],
    ids=str,
)
def test_fast_path_matches_generic_options(monkeypatch, params):
    X, y = _data(3 if params.get("multi_class") else 2)
    fast, generic = _fit_both(monkeypatch, X, y, **params)
    _assert_same(fast, generic)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_fast_path_matches_generic_sample_weight(monkeypatch, n_classes):
    X, y = _data(n_classes)
    sw = np.random.default_rng(1).random(X.shape[0])
    sw[:100] = 0.0  # batches of zero weight are skipped (shuffle=False)
    for shuffle in (True, False):
        fast, generic = _fit_both(monkeypatch, X, y, sample_weight=sw,
                                  shuffle=shuffle, penalty="elasticnet")
        _assert_same(fast, generic)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_fast_path_matches_generic_float32(monkeypatch, solver, n_classes):
    X, y = _data(n_classes)
    fast, generic = _fit_both(monkeypatch, X.astype(np.float32), y,
                              solver=solver)
    assert fast.coef_.dtype == np.float32
    _assert_same(fast, generic, rtol=1e-5)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_fast_path_matches_generic_sparse(monkeypatch, solver, n_classes):
    X, y = _data(n_classes)
    X[np.abs(X) < 1.2] = 0.0
    fast, generic = _fit_both(monkeypatch, sp.csr_matrix(X), y, solver=solver,
                              penalty="l1", alpha=1e-3)
    _assert_same(fast, generic)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_fast_path_matches_generic_extreme_scale(monkeypatch, solver):
    # Features of extreme magnitude: implicit rescaling (inv_scale).
    X, y = _data()
    X[:, 0] *= 1e30
    X[:, 1] *= 1e-30
    fast, generic = _fit_both(monkeypatch, X, y, solver=solver,
                              penalty="elasticnet")
    _assert_same(fast, generic)


def test_batch_evaluator_matches_batch_view():
    X, y = _data(3)
    Y = np.eye(3)[y]
    sw = np.random.default_rng(2).random(X.shape[0])
    obj = LinearObjective(SoftmaxCrossEntropy(), X, Y, sample_weight=sw,
                          penalty=make_penalty("l2", 0.1))
    theta = np.random.default_rng(3).standard_normal((X.shape[1] + 1, 3))
    evaluate = obj.batch_evaluator(50)
    for idx in (np.arange(50), np.arange(200, 240), np.array([5, 3, 3, 7])):
        value, grad, weight = evaluate(idx, theta)
        ref_value, ref_grad = obj.batch(idx).smooth_value_gradient(theta)
        assert_array_equal(grad, ref_grad)
        assert value == pytest.approx(ref_value, rel=1e-13)
        assert weight == pytest.approx(np.sum(obj.sw[idx]))


def test_batch_evaluator_skips_zero_weight_batches():
    X, y = _data()
    sw = np.ones(X.shape[0])
    sw[:10] = 0.0
    obj = LinearObjective(LogLoss(), X, y.astype(float), sample_weight=sw)
    assert obj.batch_evaluator(10)(np.arange(10), obj.zeros()) is None
    assert obj.batch(np.arange(10)) is None


def test_batch_evaluator_is_none_for_array_api_data():
    class Other(np.ndarray):
        pass

    X, y = _data()
    obj = LinearObjective(LogLoss(), X.view(Other), y.astype(float))
    assert obj.batch_evaluator(32) is None


def test_same_random_state_same_coefficients():
    X, y = _data(3)
    params = {"solver": "sgd", "momentum": 0.9, "max_iter": 4, "tol": None,
              "batch_size": 16, "random_state": 7}
    a = GDLogisticClassifier(**params).fit(X, y)
    b = GDLogisticClassifier(**params).fit(X, y)
    assert_array_equal(a.coef_, b.coef_)
    assert a.loss_curve_ == b.loss_curve_


# -- the epoch cost of mini-batch solvers ------------------------------------
@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_epoch_cost_is_the_mean_of_the_batch_costs(monkeypatch, fast, weighted):
    monkeypatch.setattr(MiniBatchSolver, "fast_batches", fast)
    X, y = _data()
    sw = np.random.default_rng(4).random(X.shape[0]) if weighted else None
    obj = LinearObjective(LogLoss(), X, y.astype(float), sample_weight=sw,
                          penalty=make_penalty("elasticnet", 0.01, 0.5))
    solver = StochasticGradient(learning_rate=0.05, batch_size=100,
                                shuffle=False, max_iter=1, tol=None)
    result = solver.minimize(obj, obj.zeros())
    # Replay the epoch: ceil(240 / 100) = 3 batches of 80 samples each.
    theta, total, total_weight = obj.zeros(), 0.0, 0.0
    for start in (0, 80, 160):
        idx = np.arange(start, start + 80)
        value, grad = obj.batch(idx).smooth_value_gradient(theta)
        weight = idx.shape[0] if sw is None else np.sum(obj.sw[idx])
        total += weight * (value + obj.nonsmooth_value(theta))
        total_weight += weight
        theta = obj.prox(theta - 0.05 * grad, 0.05)
    assert_allclose(result.theta, theta, rtol=1e-12)
    assert result.loss_curve[0] == pytest.approx(total / total_weight, rel=1e-12)


@pytest.mark.parametrize("fast", [True, False])
def test_full_batch_epoch_cost(monkeypatch, fast):
    # batch_size >= n_samples: one step per epoch on the full cost, and the
    # cost reported is the full cost after it (as for gradient descent).
    monkeypatch.setattr(MiniBatchSolver, "fast_batches", fast)
    X, y = _data()
    obj = LinearObjective(LogLoss(), X, y.astype(float))
    result = Adam(batch_size=1000, max_iter=2, tol=None).minimize(obj, obj.zeros())
    assert result.loss_curve[-1] == obj.value(result.theta)


@pytest.mark.parametrize("fast", [True, False])
def test_divergence_in_the_last_batch_is_caught(monkeypatch, fast):
    # Every batch cost the epoch saw is finite, but its last update is not.
    monkeypatch.setattr(MiniBatchSolver, "fast_batches", fast)

    updates = []

    class LastStepExplodes(StochasticGradient):
        def _update(self, objective, theta, grad, step, state):
            updates.append(step)
            theta = super()._update(objective, theta, grad, step, state)
            return theta * math.inf if len(updates) == 3 else theta

    X, y = _data()
    obj = LinearObjective(LogLoss(), X, y.astype(float))
    solver = LastStepExplodes(learning_rate=0.01, batch_size=100, max_iter=2,
                              tol=None)
    with pytest.raises(DivergenceError, match="epoch 1"):
        solver.minimize(obj, obj.zeros())


def test_tol_stops_on_the_epoch_costs():
    X, y = _data()
    clf = GDLogisticClassifier(solver="sgd", batch_size=32, max_iter=200,
                               tol=1e-3, random_state=0).fit(X, y)
    assert clf.n_iter_ < 200
    assert all(math.isfinite(c) for c in clf.loss_curve_)
