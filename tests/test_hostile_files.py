"""A model file never makes skloss import a module the user did not approve.

A skops file whose types are all skloss's own (``get_untrusted_types``
reports nothing else) can still carry data naming modules: the record of a
user loss given by name, and the locations of registered user losses. Loaded
with ``trusted=skops_trusted_types()``, neither may import its module, at
load time or later (``available_losses()``, ``get_loss``). Pickle's path
(which imports whatever its file names anyway) keeps importing a user loss's
module, so that a model loads in a fresh process.
"""

import pickle
import sys

import pytest

from skloss import (
    GDLogisticClassifier,
    Loss,
    LossNotFoundError,
    available_losses,
    register_loss,
    skops_trusted_types,
    unregister_loss,
)

sio = pytest.importorskip("skops.io")

PROBE = "skloss_hostile_probe"


@pytest.fixture
def probe_module(tmp_path, monkeypatch):
    """An importable module that records being imported (in a file)."""
    marker = tmp_path / "imported"
    (tmp_path / f"{PROBE}.py").write_text(
        "import pathlib\n"
        f"pathlib.Path({str(marker)!r}).write_text('yes')\n"
        "from skloss import Loss\n"
        "class Probe(Loss):\n"
        "    def loss(self, y, raw):\n"
        "        return (raw - y) ** 2\n"
        "    def gradient(self, y, raw):\n"
        "        return 2 * (raw - y)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, PROBE, raising=False)
    yield marker
    sys.modules.pop(PROBE, None)


def _hostile_state(model, **records):
    """A model whose saved state carries ``records`` (as a crafted file)."""
    getstate = type(model).__getstate__

    class Crafted(type(model)):
        def __getstate__(self):
            return {**getstate(self), **records}

    base = type(model)
    Crafted.__module__ = base.__module__
    Crafted.__name__ = Crafted.__qualname__ = base.__qualname__
    model.__class__ = Crafted
    try:
        return sio.dumps(model)
    finally:
        model.__class__ = base


@pytest.fixture
def fitted(iris):
    X, y = iris
    return GDLogisticClassifier(max_iter=5).fit(X, y)


def test_a_loss_record_imports_nothing(fitted, probe_module):
    record = {"name": "hostile_loss", "module": PROBE, "qualname": "Probe"}
    data = _hostile_state(fitted, loss="hostile_loss", _skloss_loss=record)
    assert set(sio.get_untrusted_types(data=data)) <= set(skops_trusted_types())
    with pytest.raises(LossNotFoundError, match="hostile_loss.*import it"):
        sio.loads(data, trusted=skops_trusted_types())
    assert PROBE not in sys.modules and not probe_module.exists()


def test_a_registry_location_imports_nothing(fitted, probe_module):
    data = _hostile_state(
        fitted, _skloss_registry={"hostile_hint": (PROBE, "Probe")}
    )
    assert set(sio.get_untrusted_types(data=data)) <= set(skops_trusted_types())
    sio.loads(data, trusted=skops_trusted_types())
    assert "hostile_hint" not in available_losses()
    with pytest.raises(ValueError, match="Unknown loss 'hostile_hint'"):
        GDLogisticClassifier(loss="hostile_hint").fit([[0.0], [1.0]], [0, 1])
    assert PROBE not in sys.modules and not probe_module.exists()


def test_a_module_the_user_imported_is_used(fitted, probe_module):
    # The user's own import approves the module: the record finds its class.
    record = {"name": "hostile_loss", "module": PROBE, "qualname": "Probe"}
    data = _hostile_state(fitted, loss="hostile_loss", _skloss_loss=record)
    module = __import__(PROBE)
    try:
        loaded = sio.loads(data, trusted=skops_trusted_types())
        assert loaded.get_params()["loss"] == "hostile_loss"
        from skloss.losses import get_loss_class

        assert get_loss_class("hostile_loss") is module.Probe
    finally:
        unregister_loss("hostile_loss")


def test_pickle_still_imports_a_user_loss_module(fitted, probe_module, iris):
    # Pickle imports what its file names (its documented threat model), so a
    # model trained with a user loss loads in a process that never saw it.
    module = __import__(PROBE)
    register_loss("probe_loss", module.Probe)
    X, y = iris
    model = GDLogisticClassifier(loss="probe_loss", max_iter=3).fit(X, y > 0)
    data = pickle.dumps(model)
    unregister_loss("probe_loss")
    del sys.modules[PROBE]
    try:
        loaded = pickle.loads(data)
        assert PROBE in sys.modules
        assert type(loaded.loss_).__name__ == "Probe"
    finally:
        unregister_loss("probe_loss")


def test_copies_keep_the_fitted_model(fitted):
    import copy

    clone_ = copy.deepcopy(fitted)
    assert (clone_.coef_ == fitted.coef_).all()
    assert isinstance(pickle.loads(pickle.dumps(fitted)), GDLogisticClassifier)
    assert issubclass(type(clone_.loss_), Loss)


class _Payload:
    """Unpickling this runs code: it writes ``marker``."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (exec, (f"open({self.marker!r}, 'w').write('ran')",))


def test_a_by_value_copy_in_a_skops_file_never_runs(fitted, tmp_path):
    # By-value copies are pickle's alone (a pickle is code already); in a
    # skops file they are data and are never unpickled.
    marker = tmp_path / "ran"
    blob = pickle.dumps(_Payload(marker))
    record = {"name": "hostile_copy", "module": "__main__",
              "qualname": "Nowhere", "blob": blob}
    data = _hostile_state(fitted, _skloss_by_value=[dict(record, name="hostile_extra")])
    assert set(sio.get_untrusted_types(data=data)) <= set(skops_trusted_types())
    sio.loads(data, trusted=skops_trusted_types())
    assert "hostile_extra" not in available_losses()
    data = _hostile_state(fitted, loss="hostile_copy", _skloss_loss=record)
    with pytest.raises(LossNotFoundError, match="hostile_copy"):
        sio.loads(data, trusted=skops_trusted_types())
    assert not marker.exists()


def test_a_saved_loss_record_imports_nothing(fitted, probe_module):
    # A SavedLoss (skops's record of a script's loss) naming a module that
    # no one imported is looked up, never imported.
    from skloss.losses._pickling import SavedLoss

    saved = SavedLoss.__new__(SavedLoss)
    saved.name, saved.module, saved.qualname, saved.state = (
        None, PROBE, "Probe", {})
    data = _hostile_state(fitted, loss_=saved)
    assert set(sio.get_untrusted_types(data=data)) <= set(skops_trusted_types())
    with pytest.raises(LossNotFoundError, match="Probe"):
        sio.loads(data, trusted=skops_trusted_types())
    assert PROBE not in sys.modules and not probe_module.exists()
