"""Learning-rate schedules: each step-size sequence, exactly."""

import math

import numpy as np
import pytest

from skloss import GDLogisticClassifier
from skloss._objective import LinearObjective
from skloss.losses import LogLoss
from skloss.optim import (
    AdaptiveSchedule,
    CosineSchedule,
    ExponentialSchedule,
    InvScalingSchedule,
    make_schedule,
    make_solver,
)


@pytest.fixture
def objective(cancer):
    X, y = cancer
    return LinearObjective(LogLoss(), X[:100], (y[:100] == 1).astype(float))


EXPECTED = {
    "constant": [0.5] * 6,
    "invscaling": [0.5, 0.5 / math.sqrt(2), 0.5 / math.sqrt(3), 0.25,
                   0.5 / math.sqrt(5), 0.5 / math.sqrt(6)],
    "exponential": [0.5 * 0.99**t for t in range(6)],
    # cosine over max_iter=6 epochs: 1, (1 + cos(pi/6))/2, ..., 0
    "cosine": [0.5, 0.5 * (1 + math.sqrt(3) / 2) / 2, 0.5 * 0.75, 0.25,
               0.5 * 0.25, 0.5 * (1 - math.sqrt(3) / 2) / 2],
}


@pytest.mark.parametrize("name", list(EXPECTED))
@pytest.mark.parametrize("solver", ["gd", "nesterov", "sgd", "adam"])
def test_schedule_step_sequence(name, solver, objective):
    schedule = make_schedule(name, max_iter=6)
    params = dict(learning_rate=0.5, max_iter=6, tol=None, schedule=schedule)
    if solver in ("sgd", "adam"):
        params.update(batch_size=50, random_state=np.random.RandomState(0))
    res = make_solver(solver, **params).minimize(
        objective, objective.zeros()
    )
    # Exact up to rounding (1 - cos cancels in the last cosine value).
    np.testing.assert_allclose(res.step_sizes, EXPECTED[name], rtol=1e-13)


def test_schedule_values_exactly():
    assert [InvScalingSchedule(power_t=1.0)(t) for t in range(4)] == [
        1.0, 0.5, 1 / 3, 0.25]
    assert [ExponentialSchedule(gamma=0.5)(t) for t in range(4)] == [
        1.0, 0.5, 0.25, 0.125]
    # Exact ends, then constant at the floor.
    cosine = CosineSchedule(period=4, min_factor=0.1)
    assert [cosine(t) for t in (0, 2, 4, 9)] == [1.0, 0.55, 0.1, 0.1]


def test_adaptive_divides_by_five_after_a_plateau():
    sched = AdaptiveSchedule(n_iter_no_change=2, tol=0.1)
    costs = [1.0, 0.95, 0.97, 0.5, 0.45, 0.44, 0.2, 0.2, 0.2, 0.2]
    factors, stops = [], []
    for epoch, cost in enumerate(costs):
        factors.append(sched(epoch))
        stops.append(sched.observe(cost))
    # 0.95 and 0.97 do not beat 1.0 - 0.1 (two epochs): /5. 0.45 and 0.44
    # do not beat 0.5 - 0.1: /5 again. 0.2 twice more: /5.
    assert factors == [1.0, 1.0, 1.0, 0.2, 0.2, 0.2, 0.04, 0.04, 0.04,
                       pytest.approx(0.008)]
    assert not any(stops)


def test_adaptive_stops_once_the_factor_is_tiny():
    sched = AdaptiveSchedule(n_iter_no_change=1, tol=1e-9, min_factor=0.01)
    results = [sched.observe(1.0) for _ in range(5)]
    # First observation is an improvement (from inf); then /5 at each
    # plateau: 0.2, 0.04, 0.008 < 0.01, then stop.
    assert results == [False, False, False, False, True]


def test_adaptive_in_the_classifier_stops_training(cancer):
    X, y = cancer
    clf = GDLogisticClassifier(
        solver="sgd", schedule="adaptive", learning_rate=0.1, tol=1e-3,
        n_iter_no_change=2, random_state=0, max_iter=1000,
    ).fit(X, y)
    assert clf.n_iter_ < 1000


def test_callable_schedule(cancer):
    X, y = cancer
    X, y = X[:100], y[:100]
    # A fixed step: textbook descent on (W, b), the user's coordinates.
    obj = LinearObjective(LogLoss(), X, (y == 1).astype(float), own_coordinates=False)
    res = make_solver(
        "gd", learning_rate=0.4, max_iter=3, tol=None,
        schedule=make_schedule(lambda t: 1.0 / (t + 2)),
    ).minimize(obj, obj.zeros())
    np.testing.assert_allclose(res.step_sizes, [0.2, 0.4 / 3, 0.1], rtol=1e-15)
    clf = GDLogisticClassifier(
        learning_rate=0.4, schedule=lambda t: 1.0 / (t + 2), max_iter=3, tol=None,
        penalty=None,
    ).fit(X, y)
    assert np.array_equal(clf.coef_.ravel(), obj.to_model(res.theta)[:-1, 0])


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), "x"])
def test_callable_schedule_must_return_a_positive_number(bad, cancer):
    X, y = cancer
    clf = GDLogisticClassifier(learning_rate=0.1, schedule=lambda t: bad)
    with pytest.raises(ValueError, match="positive finite number"):
        clf.fit(X, y)
    assert not hasattr(clf, "coef_")


def test_auto_step_ignores_the_schedule_of_full_batch_solvers(cancer):
    X, y = cancer
    a = GDLogisticClassifier(schedule="exponential", max_iter=5, tol=None)
    b = GDLogisticClassifier(max_iter=5, tol=None)
    assert np.array_equal(a.fit(X, y).coef_, b.fit(X, y).coef_)


def test_schedule_state_carries_across_partial_fit(cancer):
    """Three partial_fit calls are three gd steps of 0.5 * 0.5 ** t."""
    X, y = cancer
    X, y = X[:80], y[:80]
    clf = GDLogisticClassifier(
        learning_rate=0.5, schedule=ExponentialSchedule(gamma=0.5),
        penalty=None, fit_intercept=False,
    )
    w = np.zeros(X.shape[1])
    for t in range(3):
        clf.partial_fit(X, y, classes=[0, 1])
        p = 0.5 * (1.0 + np.tanh(0.5 * (X @ w)))
        w = w - 0.5 * 0.5**t * X.T @ (p - y) / X.shape[0]
        np.testing.assert_allclose(clf.coef_.ravel(), w, rtol=1e-12)
    assert clf.n_iter_ == 3
    # The estimator's parameter is not modified by training.
    assert clf.schedule.gamma == 0.5


def test_adaptive_state_carries_across_partial_fit(cancer):
    X, y = cancer
    clf = GDLogisticClassifier(
        solver="sgd", learning_rate=1.0, schedule="adaptive",
        n_iter_no_change=1, tol=10.0, random_state=0,
    )
    # tol=10: no epoch counts as an improvement, so after the first call
    # every call divides the factor by 5.
    factors = []
    for _ in range(4):
        clf.partial_fit(X, y, classes=[0, 1])
        factors.append(clf._train_state["solver"].schedule.factor_)
    assert factors == [1.0, 0.2, 0.04, pytest.approx(0.008)]
