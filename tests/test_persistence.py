"""Saving and loading: pickle, joblib and skops round trips; version warnings;
user losses that are gone.

The fresh-process story (a user's loss loaded in a new interpreter, and its
module missing there) is in test_custom_loss.py.
"""

import copy
import io
import os
import pickle
import subprocess
import sys
import types
import warnings
from pathlib import Path

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
    monkeypatch.setattr(skloss._version, "__version__", "0.0.1")
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


# -- losses defined in a script (``__main__``), in other processes -----------

REPO = Path(__file__).resolve().parent.parent

SCRIPT_HEADER = """
import pickle, sys
import numpy as np
from skloss import GDLogisticClassifier, Loss, LossNotFoundError
from skloss import register_loss, skops_trusted_types
import skops.io as sio

rng = np.random.default_rng(0)
X = rng.normal(size=(60, 3))
y = (X[:, 0] + 0.3 * rng.normal(size=60) > 0).astype(int)
mode, path = sys.argv[1], sys.argv[2]
"""

SCRIPT_LOSS = """
class ScriptLoss(Loss):
    is_convex = True
    smoothness = 0.25

    def __init__(self, scale=1.0):
        self.scale = scale

    def loss(self, y, raw):
        return np.logaddexp(0, -(2 * y - 1) * raw * self.scale) / self.scale

    def gradient(self, y, raw):
        s = 2 * y - 1
        return -s / (1 + np.exp(s * raw * self.scale))
"""

SAVE = SCRIPT_HEADER + SCRIPT_LOSS + """
from sklearn.model_selection import GridSearchCV

register_loss("script_named", ScriptLoss)
models = []
for loss, grid in [(ScriptLoss(), {"loss__scale": [0.5, 1.0]}),
                   ("script_named", {"alpha": [1e-4, 1e-2]})]:
    base = GDLogisticClassifier(loss=loss, max_iter=15, tol=None)
    search = GridSearchCV(base, grid, cv=2, n_jobs=2).fit(X, y)
    models.append(search.best_estimator_)
with open(path + ".pkl", "wb") as f:
    pickle.dump(models, f)
for i, model in enumerate(models):
    sio.dump(model, f"{path}.{i}.skops")
np.save(path + ".npy", np.array([m.decision_function(X) for m in models]))
print("saved")
"""

LOAD = SCRIPT_HEADER + """
# A fresh process that never defined ScriptLoss.
with open(path + ".pkl", "rb") as f:
    models = pickle.load(f)
expected = np.load(path + ".npy")
for model, decision in zip(models, expected):
    assert type(model.loss_).__name__ == "ScriptLoss"
    np.testing.assert_array_equal(model.decision_function(X), decision)
# The named loss came back into the registry: it fits again by name.
GDLogisticClassifier(loss="script_named", max_iter=2).fit(X, y)
print("pickle ok")
"""

SKOPS_LOAD = SCRIPT_HEADER + """
from skloss.losses import _pickling

def _no_code(*args):
    raise AssertionError("a skops load reached for a by-value copy")

_pickling._cloudpickle = _no_code
for i in range(2):
    data = open(f"{path}.{i}.skops", "rb").read()
    assert set(sio.get_untrusted_types(data=data)) <= set(skops_trusted_types())
    try:
        sio.loads(data, trusted=skops_trusted_types())
    except LossNotFoundError as exc:
        print("ERROR:", exc)
"""


def _run_script(tmp_path, name, source, *args):
    script = tmp_path / f"{name}.py"
    script.write_text(source)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run(
        [sys.executable, str(script), *args], cwd=tmp_path, env=env,
        capture_output=True, text=True, timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def test_a_script_loss_in_grid_search_workers_and_a_fresh_process(tmp_path):
    # GridSearchCV(n_jobs=2) unpickles the estimator in worker processes
    # that never ran the script: the loss class (an instance's, or the one
    # registered under the name the estimator is given) travels by value.
    pytest.importorskip("skops.io")
    base = str(tmp_path / "model")
    assert "saved" in _run_script(tmp_path, "save", SAVE, "save", base)
    assert "pickle ok" in _run_script(tmp_path, "load", LOAD, "load", base)
    # The skops files of the same models are data: in a fresh process they
    # fail clearly, and never reach for a by-value copy.
    out = _run_script(tmp_path, "skops_load", SKOPS_LOAD, "load", base)
    assert out.count("ERROR:") == 2 and "ScriptLoss" in out


SKOPS_MAIN = SCRIPT_HEADER + """
if mode != "missing":
""" + SCRIPT_LOSS.replace("\n", "\n    ") + """
if mode == "save":
    register_loss("main_loss", ScriptLoss)
    model = GDLogisticClassifier(loss=ScriptLoss(scale=0.5), max_iter=20).fit(X, y)
    sio.dump(model, path)
    np.save(path + ".npy", model.decision_function(X))
elif mode == "missing":
    try:
        sio.load(path, trusted=skops_trusted_types())
    except LossNotFoundError as exc:
        print("ERROR:", exc)
else:
    if mode == "load-registered":
        register_loss("main_loss", ScriptLoss)
    model = sio.load(path, trusted=skops_trusted_types())
    assert type(model.loss_) is ScriptLoss and model.loss_.scale == 0.5
    np.testing.assert_array_equal(model.decision_function(X), np.load(path + ".npy"))
    print("loaded")
"""


def test_a_skops_loss_from_main_in_a_fresh_process(tmp_path):
    # skops names a __main__ class by module path, which a fresh process
    # does not have (AttributeError: module '__main__' has no attribute);
    # skloss saves such a loss as a SavedLoss record instead.
    pytest.importorskip("skops.io")
    path = str(tmp_path / "m.skops")
    _run_script(tmp_path, "main_loss", SKOPS_MAIN, "save", path)
    message = _run_script(tmp_path, "main_loss", SKOPS_MAIN, "missing", path)
    assert "ERROR:" in message and "'main_loss'" in message
    assert "register_loss('main_loss', ScriptLoss)" in message
    for mode in ("load-registered", "load-defined"):
        assert "loaded" in _run_script(tmp_path, "main_loss", SKOPS_MAIN, mode, path)


def _script_class(base, name, **attrs):
    """A loss class that claims to live in ``__main__`` (as a script's does)
    but that this process's ``__main__`` does not have."""
    cls = type(name, (base,), dict(attrs))
    cls.__module__ = "__main__"
    return cls


@pytest.fixture
def script_losses():
    """A binary loss and its multinomial form, registered from a 'script'."""
    from skloss.losses import LogLoss, SoftmaxCrossEntropy

    multi = _script_class(SoftmaxCrossEntropy, "ScriptMulti")
    binary = _script_class(LogLoss, "ScriptBinary", multinomial="script_multi")
    register_loss("script_multi", multi)
    register_loss("script_binary", binary)
    yield binary, multi
    for name in ("script_binary", "script_multi"):
        if is_registered(name):
            unregister_loss(name)


def test_a_script_loss_registered_by_name_travels_with_its_multinomial_form(
    script_losses, iris
):
    X, y = iris
    model = GDLogisticClassifier(loss="script_binary", max_iter=10, tol=None)
    data = pickle.dumps(model)
    expected = copy.deepcopy(model).fit(X, y)
    assert type(expected.loss_).__name__ == "ScriptMulti"
    unregister_loss("script_binary")
    unregister_loss("script_multi")
    loaded = pickle.loads(data)  # as a worker that never ran the script
    assert is_registered("script_binary") and is_registered("script_multi")
    loaded.fit(X, y)  # three classes: the multinomial form, found by name
    assert type(loaded.loss_).__name__ == "ScriptMulti"
    np.testing.assert_array_equal(
        loaded.decision_function(X), expected.decision_function(X)
    )


def test_the_portable_state_carries_no_code(script_losses, iris):
    binary, _ = script_losses
    X, y = iris
    for loss in ("script_binary", binary()):
        state = GDLogisticClassifier(loss=loss, max_iter=2).fit(X, y > 0).__getstate__()
        assert "_skloss_by_value" not in state
        assert "blob" not in state.get("_skloss_loss", {})
        assert not any(isinstance(v, Loss) and v.__module__ == "__main__"
                       for v in state.values())


def test_without_cloudpickle_a_script_loss_names_the_fix(script_losses, monkeypatch):
    from skloss.losses import _pickling

    binary, _ = script_losses
    monkeypatch.setattr(_pickling, "_cloudpickle", lambda: None)
    named = pickle.dumps(GDLogisticClassifier(loss="script_binary"))
    instance = pickle.dumps(binary())
    unregister_loss("script_binary")
    for data in (named, instance):
        with pytest.raises(LossNotFoundError, match=r"pip install cloudpickle.*"
                           r"skloss\[pickle\].*importable module"):
            pickle.loads(data)


def test_pickles_saved_before_the_split_still_load():
    # Pickles written before losses/_pickling.py existed name the loss's
    # rebuilder in skloss._persistence: that name still works.
    data = pickle.dumps(SmoothHinge(width=0.3), protocol=0)
    assert b"skloss.losses._pickling\n_restore_loss" in data
    old = data.replace(b"skloss.losses._pickling\n_restore_loss",
                       b"skloss._persistence\n_restore_loss")
    loaded = pickle.loads(old)
    assert type(loaded) is SmoothHinge and loaded.width == 0.3
