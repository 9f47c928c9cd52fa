"""Saving and loading: pickle, joblib and skops round trips; version warnings;
user losses that are gone.

The fresh-process story (a user's loss loaded in a new interpreter, and its
module missing there) is in test_custom_loss.py.
"""

import copy
import io
import pickle
import sys
import types
import warnings

import joblib
import numpy as np
import pytest
from sklearn.exceptions import InconsistentVersionWarning
from user_losses.mylosses import SmoothHinge

import skloss
from skloss import (
    GDLogisticClassifier,
    Loss,
    LossNotFoundError,
    SklossVersionWarning,
    available_losses,
    get_loss,
    register_loss,
    skops_trusted_types,
    unregister_loss,
)
from skloss.losses._registry import is_builtin, is_registered

BUILTIN = [n for n, i in available_losses().items() if is_builtin(i["class"])]
SETTINGS = {"perceptron": dict(learning_rate=1.0, penalty=None, tol=None)}


def _fit(X, y, **params):
    params = {"max_iter": 60, "tol": 1e-4, **params}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return GDLogisticClassifier(**params).fit(X, y)


def _same_predictions(a, b, X):
    np.testing.assert_array_equal(a.decision_function(X), b.decision_function(X))
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    assert hasattr(a, "predict_proba") == hasattr(b, "predict_proba")
    if hasattr(a, "predict_proba"):
        np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


def _pickle(obj):
    return pickle.loads(pickle.dumps(obj))


def _joblib(obj):
    buffer = io.BytesIO()
    joblib.dump(obj, buffer)
    buffer.seek(0)
    return joblib.load(buffer)


@pytest.mark.parametrize("name", BUILTIN)
@pytest.mark.parametrize("roundtrip", [_pickle, _joblib], ids=["pickle", "joblib"])
def test_round_trip_for_every_loss(name, roundtrip, iris):
    X, y = iris
    with warnings.catch_warnings():
        warnings.simplefilter("error", SklossVersionWarning)
        for target in (y, (y == 2).astype(int)):
            model = _fit(X, target, loss=name, **SETTINGS.get(name, {}))
            loaded = roundtrip(model)
            assert type(loaded.loss_) is type(model.loss_)
            assert loaded.loss_.get_params() == model.loss_.get_params()
            _same_predictions(model, loaded, X)


@pytest.mark.parametrize("solver", ["gd", "nesterov", "sgd", "adam"])
def test_round_trip_for_every_solver(solver, iris):
    X, y = iris
    model = _fit(X, y, solver=solver, random_state=0)
    loaded = _pickle(model)
    _same_predictions(model, loaded, X)
    # Training goes on from the loaded state as from the original.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.partial_fit(X, y)
        loaded.partial_fit(X, y)
    np.testing.assert_allclose(loaded.coef_, model.coef_, rtol=1e-12)


def test_losses_themselves_round_trip():
    for name in BUILTIN:
        loss = get_loss(name)
        assert _pickle(loss).get_params() == loss.get_params()
    user = SmoothHinge(width=0.7)
    loaded = _pickle(user)
    assert type(loaded) is SmoothHinge and loaded.width == 0.7


def test_copies_of_a_loss_defined_in_a_function():
    class Local(SmoothHinge):
        pass

    loss = Local(width=0.4)
    for duplicate in (copy.copy(loss), copy.deepcopy(loss)):
        assert type(duplicate) is Local and duplicate.width == 0.4
    # Not importable by name: pickle keeps a by-value copy of the class.
    loaded = _pickle(loss)
    assert type(loaded).__name__ == "Local" and loaded.width == 0.4
    np.testing.assert_array_equal(
        loaded.loss(np.ones(3), np.zeros(3)), loss.loss(np.ones(3), np.zeros(3))
    )


# -- versions ---------------------------------------------------------------


def test_another_skloss_version_warns(iris, monkeypatch):
    X, y = iris
    model = _fit(X, y)
    monkeypatch.setattr(skloss, "__version__", "0.0.1")
    data = pickle.dumps(model)
    monkeypatch.undo()
    with pytest.warns(SklossVersionWarning) as record:
        loaded = pickle.loads(data)
    warning = record[0].message
    assert warning.original_version == "0.0.1"
    assert warning.current_version == skloss.__version__
    assert warning.estimator_name == "GDLogisticClassifier"
    assert "0.0.1" in str(warning) and skloss.__version__ in str(warning)
    # One filter for scikit-learn's warning covers skloss's too.
    assert isinstance(warning, InconsistentVersionWarning)
    _same_predictions(model, loaded, X)


def test_a_state_without_version_warns_unknown(iris):
    model = _fit(*iris)
    state = model.__getstate__()
    del state["_skloss_version"]
    with pytest.warns(SklossVersionWarning, match="version unknown"):
        GDLogisticClassifier().__setstate__(state)


def test_the_same_version_is_silent(iris):
    model = _fit(*iris)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pickle.loads(pickle.dumps(model))


# -- skops ------------------------------------------------------------------


@pytest.mark.parametrize("params", [
    {"loss": "log_loss"}, {"loss": "hinge"}, {"loss": "focal"},
    {"loss": "modified_huber", "multi_class": "ovr"},
    {"solver": "sgd", "schedule": "adaptive", "random_state": 0},
    {"solver": "adam", "schedule": "invscaling", "random_state": 0},
])
def test_skops_round_trip_with_the_trusted_types(params, iris):
    sio = pytest.importorskip("skops.io")
    X, y = iris
    model = _fit(X, y, **params)
    data = sio.dumps(model)
    assert set(sio.get_untrusted_types(data=data)) <= set(skops_trusted_types())
    loaded = sio.loads(data, trusted=skops_trusted_types())
    _same_predictions(model, loaded, X)


def test_skops_refuses_what_is_not_trusted(iris):
    sio = pytest.importorskip("skops.io")
    data = sio.dumps(_fit(*iris))
    with pytest.raises(Exception, match="[Uu]ntrusted"):
        sio.loads(data, trusted=[])


# -- a user loss that is gone -----------------------------------------------


@pytest.fixture
def vanishing_module():
    """A user module with a registered loss, removed again by the test."""
    module = types.ModuleType("skloss_test_vanishing")

    class Vanishing(SmoothHinge):
        pass

    Vanishing.__module__ = module.__name__
    Vanishing.__qualname__ = "Vanishing"
    module.Vanishing = Vanishing
    sys.modules[module.__name__] = module
    register_loss("vanishing_loss", Vanishing)
    yield module
    sys.modules.pop(module.__name__, None)
    if is_registered("vanishing_loss"):
        unregister_loss("vanishing_loss")


def _make_it_vanish(module):
    sys.modules.pop(module.__name__)
    unregister_loss("vanishing_loss")


def test_a_fitted_model_whose_loss_is_gone_fails_clearly(vanishing_module, cancer):
    X, y = cancer
    data = pickle.dumps(_fit(X, y, loss="vanishing_loss"))
    _make_it_vanish(vanishing_module)
    with pytest.raises(LossNotFoundError) as exc:
        pickle.loads(data)
    message = str(exc.value)
    assert "'vanishing_loss'" in message
    assert "skloss_test_vanishing" in message
    assert "register_loss('vanishing_loss', Vanishing)" in message


def test_an_unfitted_model_whose_loss_is_gone_fails_clearly(vanishing_module):
    data = pickle.dumps(GDLogisticClassifier(loss="vanishing_loss"))
    _make_it_vanish(vanishing_module)
    with pytest.raises(LossNotFoundError, match="'vanishing_loss'"):
        pickle.loads(data)


def test_registering_the_loss_again_lets_the_model_load(vanishing_module, cancer):
    X, y = cancer
    model = _fit(X, y, loss="vanishing_loss")
    data = pickle.dumps(model)
    _make_it_vanish(vanishing_module)

    class Vanishing(Loss):  # the user defines it anew and registers it
        is_convex = True
        smoothness = 1.0

        def __init__(self, width=1.0):
            self.width = width

        loss = SmoothHinge.loss
        gradient = SmoothHinge.gradient

    register_loss("vanishing_loss", Vanishing)
    loaded = pickle.loads(data)
    assert type(loaded.loss_) is Vanishing
    np.testing.assert_array_equal(loaded.decision_function(X),
                                  model.decision_function(X))


def test_a_user_loss_in_an_importable_module_needs_no_registration(cancer):
    X, y = cancer
    model = _fit(X, y, loss="user_smooth_hinge")
    data = pickle.dumps(model)
    unregister_loss("user_smooth_hinge")
    try:
        loaded = pickle.loads(data)  # imports the module, registers again
        assert is_registered("user_smooth_hinge")
        _same_predictions(model, loaded, X)
    finally:
        register_loss("user_smooth_hinge", SmoothHinge,
                      aliases=("user_huberized_hinge",), overwrite=True)


def test_skops_with_a_user_loss_needs_its_class_trusted(iris):
    sio = pytest.importorskip("skops.io")
    X, y = iris
    model = _fit(X, y, loss="user_smooth_hinge")
    data = sio.dumps(model)
    extra = set(sio.get_untrusted_types(data=data)) - set(skops_trusted_types())
    assert extra == {"user_losses.mylosses.SmoothHinge"}
    loaded = sio.loads(data, trusted=skops_trusted_types() + sorted(extra))
    _same_predictions(model, loaded, X)
