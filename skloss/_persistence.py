"""Saving and loading models: the estimator's side.

A saved :class:`~skloss.GDLogisticClassifier` carries

* the skloss version that saved it; loading it with another version warns
  with :class:`SklossVersionWarning`, as scikit-learn's
  ``InconsistentVersionWarning`` does for its own estimators;
* the record of its loss when that is a user loss given by registry name
  (``_skloss_loss``: name, module, qualified name), and where the other
  registered user losses live (``_skloss_registry``), so that a process
  which never registered them (a joblib worker, a fresh interpreter) finds
  them on load or on first use by name.

Two forms, two threat models (``docs/reliability.rst``):

* ``__reduce_ex__`` gives **pickle's** form, rebuilt by
  :func:`rebuild_estimator`: its records may import the module they name,
  as pickle imports whatever its file names, and a registry entry whose
  class no other process can import (defined in ``__main__``) travels by
  value (cloudpickle), so that ``GridSearchCV(..., n_jobs=2)`` workers and
  fresh processes know ``loss="mine"``.
* ``__getstate__`` gives the **portable** form, the one skops saves: data
  only. Loaded through ``__setstate__`` alone, its records are looked up
  among the modules already imported and never import one, and a loss
  instance whose class skops cannot import travels as a
  :class:`~skloss.losses._pickling.SavedLoss` record.

How a loss instance itself pickles lives in :mod:`skloss.losses._pickling`.
"""

import warnings

from sklearn.exceptions import InconsistentVersionWarning

from . import _version
from .losses import _registry
from .losses._base import Loss
# Pickles saved before the split name _restore_loss (and users may import
# LossNotFoundError) from this module: keep both names here.
from .losses._pickling import (  # noqa: F401
    LossNotFoundError,
    SavedLoss,
    _restore_loss,
    find_named_class,
    importable_by_name,
    name_record,
)


class SklossVersionWarning(InconsistentVersionWarning):
    """A model saved by another skloss version was loaded.

    A subclass of scikit-learn's ``InconsistentVersionWarning``, so one
    filter silences (or raises) both. Refit the model with the installed
    version, or install the version that saved it.

    Parameters
    ----------
    estimator_name : str
        The class of the loaded estimator.
    current_version : str
        The installed skloss version.
    original_version : str
        The skloss version that saved the model ("unknown" when the file
        does not say).

    Examples
    --------
    >>> import pickle, warnings
    >>> from skloss import GDLogisticClassifier, SklossVersionWarning
    >>> state = GDLogisticClassifier().__getstate__()
    >>> state["_skloss_version"] = "0.0.1"
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     GDLogisticClassifier().__setstate__(state)
    >>> caught[0].category is SklossVersionWarning
    True
    """

    def __init__(self, *, estimator_name, current_version, original_version):
        self.estimator_name = estimator_name
        self.current_version = current_version
        self.original_version = original_version
        # Keep the parent's attributes meaningful for code that reads them.
        self.current_sklearn_version = current_version
        self.original_sklearn_version = original_version

    def __str__(self):
        return (
            f"Trying to unpickle estimator {self.estimator_name} from skloss "
            f"version {self.original_version} when using version "
            f"{self.current_version}. This might lead to breaking code or "
            "invalid results. Refit the model with the installed version, or "
            f"install skloss {self.original_version} to load it."
        )


def _records(state, *, by_value):
    """Add the version, the loss's record and the registry locations."""
    state = dict(state)
    state["_skloss_version"] = _version.__version__
    locations = _registry.user_loss_locations()
    record = name_record(state.get("loss"), by_value=by_value)
    if record is not None:
        state["_skloss_loss"] = record
        locations.pop(record["name"], None)
    if locations:
        state["_skloss_registry"] = locations
    return state


def _needed_by_value(state):
    """Records, with by-value copies, of the registry entries the estimator
    needs beyond its loss's own (its multinomial form) that no other
    process can import by name."""
    loss = state.get("loss")
    if isinstance(loss, str) and _registry.is_registered(loss):
        loss = _registry.get_loss_class(loss)
    multinomial = getattr(loss, "multinomial", None)
    record = name_record(multinomial, by_value=True)
    if record is None or importable_by_name(_registry.get_loss_class(multinomial)):
        return []
    return [record]


def add_state(estimator, state):
    """The portable state (``__getstate__``, skops): data only.

    The version and user-loss records are added; a loss instance whose
    class another process cannot import becomes a :class:`SavedLoss`.
    """
    state = _records(state, by_value=False)
    for key, value in state.items():
        if isinstance(value, Loss) and not importable_by_name(type(value)):
            state[key] = SavedLoss(value)
    return state


def pickle_reduce(estimator, state):
    """Pickle's form of ``estimator`` (its ``__reduce_ex__``).

    The records of :func:`add_state`, plus by-value copies of the registry
    entries it needs whose class no other process can import; loss
    instances stay themselves (they pickle through
    :mod:`skloss.losses._pickling`).
    """
    state = _records(state, by_value=True)
    needed = _needed_by_value(state)
    if needed:
        state["_skloss_by_value"] = needed
    return rebuild_estimator, (type(estimator), state)


def rebuild_estimator(cls, state):
    """Unpickle an estimator (the target of its ``__reduce_ex__``).

    Pickle's own path: the loss records of the state may import the module
    they name, as pickle imports every class its file names. Any other
    loader (skops) goes through ``__setstate__``, which imports nothing.
    """
    estimator = cls.__new__(cls)
    estimator._restore_state(state, may_import=True)
    return estimator


def _check_record(record):
    if not (
        isinstance(record, dict)
        and all(isinstance(record.get(k), str) for k in ("name", "module", "qualname"))
    ):
        raise ValueError(
            f"The model file's loss record {record!r} is malformed: expected "
            "a dict of strings 'name', 'module' and 'qualname'. The file was "
            "not written by skloss; do not load it."
        )
    return record


def pop_state(estimator, state, may_import=False):
    """Check the version, make the estimator's losses available, strip keys.

    ``may_import``: whether the user-loss records of ``state`` may import
    the modules they name and load by-value copies (pickle's path only, see
    :func:`rebuild_estimator`); otherwise a record's class is looked up
    among the modules already imported, so that a file's data never makes
    skloss import a module the user did not approve, nor run its code.
    """
    state = dict(state)
    version = state.pop("_skloss_version", "unknown")
    if version != _version.__version__:
        warnings.warn(
            SklossVersionWarning(
                estimator_name=type(estimator).__name__,
                current_version=_version.__version__,
                original_version=version,
            ),
            stacklevel=2,
        )
    for name, (module, qualname) in state.pop("_skloss_registry", {}).items():
        _registry.add_hint(name, module, qualname, may_import=may_import)
    # By-value copies are code: only a pickle (code already) may run them.
    needed = state.pop("_skloss_by_value", [])
    records = [state.pop("_skloss_loss")] if "_skloss_loss" in state else []
    for record in records + (list(needed) if may_import else []):
        find_named_class(_check_record(record), may_import=may_import)
    for key, value in state.items():
        if isinstance(value, SavedLoss):
            state[key] = value.restore()
    return state


class PersistenceMixin:
    """The estimator's pickle and skops forms (see the module docstring).

    ``__getstate__`` is the portable, data-only form skops saves;
    ``__reduce_ex__`` pickle's, the one path on which a loss record may
    import its module.
    """

    def __getstate__(self):
        # The portable form (skops): the skloss version and user-loss
        # records travel with the model as data (see skloss._persistence).
        return add_state(self, super().__getstate__())

    def __reduce_ex__(self, protocol):
        # Pickle's form (and copy's): rebuilt through rebuild_estimator, the
        # one path on which the state's loss records may import their module
        # and a script's loss travels by value.
        return pickle_reduce(self, super().__getstate__())

    def __setstate__(self, state):
        # Any other loader (skops): the state's records import nothing.
        self._restore_state(state, may_import=False)

    def _restore_state(self, state, may_import):
        super().__setstate__(
            pop_state(self, state, may_import=may_import)
        )
