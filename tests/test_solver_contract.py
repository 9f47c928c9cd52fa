"""The solvers' contract: declared requirements, state dataclasses, no
attributes set on a solver by training."""

import copy
import dataclasses

import numpy as np
import pytest
from sklearn.datasets import make_classification

from skloss import GDLogisticClassifier
from skloss._objective import LinearObjective
from skloss._penalties import make_penalty
from skloss.losses import LogLoss
from skloss.optim import (
    SOLVERS,
    AdaptiveSchedule,
    SolverState,
    make_solver,
)


@pytest.fixture(scope="module")
def binary_data():
    X, y = make_classification(
        200, 5, n_informative=3, n_redundant=0, random_state=0
    )
    return X, y


class Restricted:
    """An objective exposing only ``names`` of a LinearObjective."""

    def __init__(self, objective, names):
        self._objective = objective
        self._names = frozenset(names)

    def __getattr__(self, name):
        if name in self._names:
            return getattr(self._objective, name)
        raise AttributeError(name)


def _objective(X, y, penalty="elasticnet"):
    return LinearObjective(
        LogLoss(), X, y.astype(float), penalty=make_penalty(penalty, 0.01, 0.5)
    )


def _solver(name, **params):
    params.setdefault("max_iter", 6)
    params.setdefault("tol", None)
    if name in ("sgd", "adam"):
        params.setdefault("batch_size", 50)
        params.setdefault("random_state", np.random.RandomState(0))
    return make_solver(name, **params)


@pytest.mark.parametrize("name", sorted(SOLVERS))
@pytest.mark.parametrize("learning_rate", ["auto", 0.05])
def test_requires_and_optional_cover_every_use(name, learning_rate, binary_data):
    # An objective with only the declared names trains exactly as the full
    # one: the solver uses nothing it did not declare.
    X, y = binary_data
    X = X * np.logspace(-1, 1, X.shape[1])  # "gd" preconditions
    objective = _objective(X, y)
    solver = _solver(name, learning_rate=learning_rate)
    names = set(solver.requires) | set(solver.optional)
    full = _solver(name, learning_rate=learning_rate).minimize(
        objective, objective.zeros()
    )
    restricted = solver.minimize(Restricted(objective, names), objective.zeros())
    np.testing.assert_array_equal(restricted.theta, full.theta)
    assert restricted.loss_curve == full.loss_curve


@pytest.mark.parametrize("name", sorted(SOLVERS))
def test_optional_capabilities_are_optional(name, binary_data):
    # Without any optional capability the solver still trains (slower paths).
    X, y = binary_data
    objective = _objective(X, y)
    solver = _solver(name, max_iter=30)
    assert solver.check_objective(objective) == frozenset(solver.optional)
    bare = Restricted(objective, solver.requires)
    assert solver.check_objective(bare) == frozenset()
    result = solver.minimize(bare, objective.zeros())
    assert result.loss_curve[-1] < objective.value(objective.zeros())


@pytest.mark.parametrize("name", sorted(SOLVERS))
def test_a_missing_requirement_is_a_readable_error(name, binary_data):
    X, y = binary_data
    objective = _objective(X, y)
    solver = _solver(name)
    cls = type(solver).__name__
    for missing in solver.requires:
        names = (set(solver.requires) | set(solver.optional)) - {missing}
        with pytest.raises(TypeError, match=rf"{cls} needs .*'{missing}'"):
            solver.minimize(Restricted(objective, names), objective.zeros())


def test_the_contract_names_what_a_solver_calls():
    # The methods the issue found undeclared are declared.
    assert {"prox", "nonsmooth_value", "smoothness", "mean_sq_norm"} <= set(
        SOLVERS["gd"].requires
    )
    assert {"prox", "nonsmooth_value", "smoothness", "mean_sq_norm"} <= set(
        SOLVERS["nesterov"].requires
    )
    for name in ("sgd", "adam"):
        assert {"batch", "batch_weight", "prox", "n_samples"} <= set(
            SOLVERS[name].requires
        )
        assert "batch_evaluator" in SOLVERS[name].optional
    assert {"preconditioned", "bound_curvature", "strided_views"} <= set(
        SOLVERS["gd"].optional
    )


def _momentum_params(name):
    if name == "sgd":
        return {"momentum": 0.5, "nesterov": True}
    return {}


@pytest.mark.parametrize("name", sorted(SOLVERS))
@pytest.mark.parametrize("learning_rate", ["auto", 0.05])
def test_minimize_sets_no_attribute_on_the_solver(name, learning_rate,
                                                  binary_data):
    X, y = binary_data
    objective = _objective(X, y)
    schedule = AdaptiveSchedule(n_iter_no_change=1, tol=10.0)
    solver = _solver(name, learning_rate=learning_rate, schedule=schedule,
                     **_momentum_params(name))
    rng = getattr(solver, "random_state", None)
    own_schedule = solver.schedule  # None for "auto" of gd and nesterov
    before = {k: v for k, v in vars(solver).items() if k != "random_state"}
    before = copy.deepcopy(before)
    schedule_before = dict(vars(schedule))
    first = solver.minimize(objective, objective.zeros())
    solver.minimize(objective, first.theta, state=first.state)
    after = {k: v for k, v in vars(solver).items() if k != "random_state"}
    assert sorted(after) == sorted(before)
    for key, value in before.items():
        if key == "schedule":
            assert after[key] is own_schedule
        else:
            assert after[key] == value, key
    # The schedule's state moved in the state's copy, not in the parameter.
    assert vars(schedule) == schedule_before
    if solver.schedule is not None:
        assert first.state.schedule is not schedule
        assert first.state.schedule.factor_ < 1.0
    # The random state is the one stream of batch orders, advanced in place.
    assert getattr(solver, "random_state", None) is rng


@pytest.mark.parametrize("name", sorted(SOLVERS))
def test_state_is_the_solvers_documented_dataclass(name, binary_data):
    X, y = binary_data
    objective = _objective(X, y)
    solver = _solver(name, **_momentum_params(name))
    state = solver.minimize(objective, objective.zeros()).state
    assert type(state) is solver.State
    assert isinstance(state, SolverState)
    assert state.epoch == 6
    doc = type(state).__doc__
    for field in dataclasses.fields(state):
        assert field.name in doc, (type(state).__name__, field.name)


@pytest.mark.parametrize(
    "name, learning_rate",
    [("gd", 0.5), ("nesterov", 0.5), ("nesterov", "auto"), ("sgd", 0.05),
     ("sgd", "auto"), ("adam", 0.01), ("adam", "auto")],
)
def test_two_calls_continue_like_one_longer_call(name, learning_rate,
                                                 binary_data):
    # Momentum, Adam's moments, the schedule's clock and the auto steps all
    # carry over in the state ("gd" with "auto" restarts its line search in
    # every call, by design: see GradientDescentState).
    X, y = binary_data
    X = X + 1.0  # a non-zero mean: velocities move between coordinates
    objective = _objective(X, y)
    params = dict(learning_rate=learning_rate, **_momentum_params(name))
    if learning_rate != "auto":
        params["schedule"] = make_solver_schedule()
    one = _solver(name, max_iter=6, **params).minimize(objective, objective.zeros())
    solver = _solver(name, max_iter=3, **params)
    first = solver.minimize(objective, objective.zeros())
    second = solver.minimize(objective, first.theta, state=first.state)
    np.testing.assert_allclose(second.theta, one.theta, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(first.loss_curve + second.loss_curve,
                               one.loss_curve, rtol=1e-12)
    assert second.state.epoch == 6


def make_solver_schedule():
    from skloss.optim import InvScalingSchedule

    return InvScalingSchedule(power_t=0.5)


@pytest.mark.parametrize("solver", ["nesterov", "sgd", "adam"])
def test_auto_partial_fit_calls_continue_like_fit(solver, cancer):
    X, y = cancer
    params = dict(solver=solver, random_state=3, tol=None, batch_size=100,
                  momentum=0.5)
    fit = GDLogisticClassifier(max_iter=4, **params).fit(X, y)
    part = GDLogisticClassifier(**params)
    for _ in range(4):
        part.partial_fit(X, y, classes=[0, 1])
    assert type(part._train_state["solver"]) is SOLVERS[solver].State
    np.testing.assert_allclose(part.coef_, fit.coef_, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(part.loss_curve_, fit.loss_curve_, rtol=1e-10)


def test_a_state_of_another_solver_keeps_the_epoch_and_schedule(cancer):
    # partial_fit after set_params(solver=...): the new solver continues the
    # schedule's clock and starts its own buffers.
    X, y = cancer
    clf = GDLogisticClassifier(solver="sgd", momentum=0.5, learning_rate=0.01,
                               schedule="invscaling", random_state=0)
    clf.partial_fit(X, y, classes=[0, 1])
    clf.partial_fit(X, y)
    clf.set_params(solver="adam")
    clf.partial_fit(X, y)
    state = clf._train_state["solver"]
    assert type(state) is SOLVERS["adam"].State
    assert state.epoch == 3 and state.count > 0
    assert clf.step_sizes_[-1] == pytest.approx(0.01 / np.sqrt(3))
