"""Divergence: a clear error, and nothing lost from an earlier model."""

import copy
import warnings

import numpy as np
import pytest
from sklearn.exceptions import FitFailedWarning
from sklearn.model_selection import GridSearchCV

import skloss
from skloss import DivergenceError, GDLogisticClassifier
from skloss._objective import LinearObjective
from skloss.losses import LogLoss


def fitted_state(clf):
    """A deep copy of everything fit or partial_fit may set."""
    return copy.deepcopy(
        {k: v for k, v in vars(clf).items() if k not in clf.get_params()}
    )


def assert_same(a, b, where="state"):
    """Recursive bit-level equality of fitted state."""
    assert type(a) is type(b), where
    if isinstance(a, dict):
        assert sorted(a, key=str) == sorted(b, key=str), where
        for key in a:
            assert_same(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, where
        assert a.tobytes() == b.tobytes(), where
    elif isinstance(a, np.random.RandomState):
        assert_same(list(a.get_state()), list(b.get_state()), where)
    elif hasattr(a, "__dict__") and not isinstance(a, type):
        assert_same(vars(a), vars(b), where)
    else:
        assert a == b, where


def assert_same_state(before, clf):
    after = {k: v for k, v in vars(clf).items() if k not in clf.get_params()}
    assert_same(before, after)


def test_divergence_error_is_a_public_value_error():
    assert skloss.DivergenceError is DivergenceError
    assert issubclass(DivergenceError, ValueError)
    assert "DivergenceError" in skloss.__all__


@pytest.mark.parametrize("solver", ["gd", "nesterov", "sgd", "adam"])
def test_huge_learning_rate_raises_a_clear_error(solver, cancer):
    X, y = cancer
    clf = GDLogisticClassifier(solver=solver, learning_rate=1e6, random_state=0)
    with pytest.raises(DivergenceError) as info:
        clf.fit(X, y)
    err = info.value
    message = str(err)
    assert f"at epoch {err.epoch}:" in message
    assert err.epoch >= 1
    assert err.learning_rate == 1e6
    assert "learning rate 1e+06" in message
    assert err.safe_learning_rate is not None and err.safe_learning_rate > 0
    assert f"at most {err.safe_learning_rate:.3g} is safe" in message
    assert "learning_rate='auto'" in message
    assert not hasattr(clf, "coef_")
    assert not hasattr(clf, "n_features_in_")


def test_safe_step_is_the_smoothness_bound(cancer):
    X, y = cancer
    with pytest.raises(DivergenceError) as info:
        GDLogisticClassifier(learning_rate=1e6, alpha=0.0).fit(X, y)
    # A fixed step is textbook descent in the user's coordinates: its safe
    # step is the smoothness bound there (uncentred features).
    obj = LinearObjective(LogLoss(), X, (y == 1).astype(float), own_coordinates=False)
    assert info.value.safe_learning_rate == pytest.approx(1.0 / obj.smoothness())
    # ... and that step does train without diverging.
    clf = GDLogisticClassifier(
        learning_rate=info.value.safe_learning_rate, alpha=0.0, max_iter=50,
        tol=None,
    ).fit(X, y)
    assert np.all(np.diff(clf.loss_curve_) <= 1e-12)


@pytest.mark.parametrize("solver", ["gd", "nesterov", "sgd", "adam"])
def test_auto_steps_never_diverge_on_unscaled_data(solver):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4)) * np.array([1e-3, 1.0, 1e3, 1e5])
    y = (X[:, 1] + X[:, 2] / 1e3 > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning is fine here
        clf = GDLogisticClassifier(solver=solver, random_state=0, max_iter=50)
        clf.fit(X, y)
    assert np.all(np.isfinite(clf.coef_))
    assert clf.loss_curve_[-1] < np.log(2)


@pytest.mark.parametrize("solver", ["gd", "nesterov", "sgd", "adam"])
def test_failed_warm_start_fit_leaves_the_model_untouched(solver, cancer):
    X, y = cancer
    clf = GDLogisticClassifier(solver=solver, random_state=0, max_iter=20, tol=None)
    clf.fit(X, y)
    before = fitted_state(clf)
    clf.set_params(learning_rate=1e6, warm_start=True)
    with pytest.raises(DivergenceError):
        clf.fit(X, y)
    assert_same_state(before, clf)
    # A failed fit on data with another number of features keeps it too.
    clf.set_params(warm_start=False)
    with pytest.raises(DivergenceError):
        clf.fit(X[:, :5], y)
    assert_same_state(before, clf)
    assert clf.n_features_in_ == X.shape[1]
    clf.predict(X)


@pytest.mark.parametrize("solver", ["gd", "nesterov", "sgd", "adam"])
def test_failed_partial_fit_leaves_the_model_untouched(solver, cancer):
    X, y = cancer
    clf = GDLogisticClassifier(solver=solver, random_state=0)
    for _ in range(3):
        clf.partial_fit(X, y, classes=[0, 1])
    before = fitted_state(clf)
    clf.set_params(learning_rate=1e6)
    with pytest.raises(DivergenceError):
        clf.partial_fit(X, y)
    assert_same_state(before, clf)
    # The state still continues training normally.
    clf.set_params(learning_rate="auto")
    clf.partial_fit(X, y)
    assert clf.n_iter_ == 4


def test_oscillating_fixed_step_is_reported(cancer):
    X, y = cancer
    # Far above the safe step (the trace bound is loose, so it takes a large
    # multiple), not enough to blow up: the cost stalls above its start.
    # (At 1000 / L the cost first jumps above its start, then learns its
    # way below it: the plateau rule compares epochs with the best epoch,
    # so that is no divergence.)
    obj = LinearObjective(LogLoss(), X, (y == 1).astype(float))
    step = 1e4 / obj.smoothness()
    with pytest.raises(DivergenceError, match="rose above its starting value"):
        GDLogisticClassifier(learning_rate=step).fit(X, y)


def test_grid_search_scores_a_diverging_candidate_and_goes_on(cancer):
    X, y = cancer
    search = GridSearchCV(
        GDLogisticClassifier(max_iter=50, tol=None),
        {"learning_rate": [1e6, "auto"]},
        cv=3,
        error_score=np.nan,
    )
    with pytest.warns(FitFailedWarning, match="DivergenceError"):
        search.fit(X, y)
    scores = search.cv_results_["mean_test_score"]
    assert np.isnan(scores[0])
    assert scores[1] > 0.9
    assert search.best_params_ == {"learning_rate": "auto"}
    with pytest.raises(DivergenceError):
        GridSearchCV(
            GDLogisticClassifier(), {"learning_rate": [1e6]}, cv=2,
            error_score="raise",
        ).fit(X, y)
