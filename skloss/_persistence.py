"""Saving and loading models: version checks and user losses.

A pickled :class:`~skloss.GDLogisticClassifier` carries

* the skloss version that saved it; loading it with another version warns
  with :class:`SklossVersionWarning`, as scikit-learn's
  ``InconsistentVersionWarning`` does for its own estimators;
* where each user loss it may need lives (module and qualified name), so
  that a process which never registered the loss (a joblib worker, a fresh
  interpreter) imports and registers it on load or on first use by name.
  Only pickle's path imports (pickle imports whatever its file names);
  loaded through ``__setstate__`` alone (skops), the records are looked up
  among the modules already imported and never import one.

A user loss *instance* pickles through :func:`_restore_loss`: on load its
class is found by import, by registry name, or (for classes defined in
``__main__`` or inside a function) from a by-value copy made with
cloudpickle where available. When none works, loading fails with
:class:`LossNotFoundError`, whose message names the loss and how to
register it.
"""

import warnings

from sklearn.exceptions import InconsistentVersionWarning

from .losses import _registry
from .losses._base import Loss


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


class LossNotFoundError(ValueError):
    """A saved model needs a user loss that cannot be found.

    Raised while loading; the message names the loss, where it was defined,
    and how to make it available again.

    Examples
    --------
    >>> from skloss import LossNotFoundError
    >>> issubclass(LossNotFoundError, ValueError)
    True
    """


def _cloudpickle():
    try:
        from joblib.externals import cloudpickle
    except ImportError:  # pragma: no cover - joblib ships with scikit-learn
        try:
            import cloudpickle
        except ImportError:
            return None
    return cloudpickle


def loss_record(cls):
    """What a pickle needs to find the loss class ``cls`` again."""
    record = {
        "name": _registry.registered_name(cls),
        "module": cls.__module__,
        "qualname": cls.__qualname__,
        "blob": None,
    }
    if cls.__module__ == "__main__" or "<locals>" in cls.__qualname__:
        # Not importable by name in another process: keep a by-value copy.
        cp = _cloudpickle()
        if cp is not None:
            try:
                record["blob"] = cp.dumps(cls)
            except Exception:  # noqa: BLE001 - best effort, e.g. closures
                record["blob"] = None
    return record


def _not_found(name, module, qualname, reason):
    label = repr(name) if name else f"{module}.{qualname}"
    register = (
        f"skloss.register_loss({name!r}, {qualname.split('.')[-1]})"
        if name
        else "skloss.register_loss(name, LossClass)"
    )
    return LossNotFoundError(
        f"Cannot load the loss {label} (class {qualname} from module "
        f"{module!r}): {reason}. Make that module importable again, or define "
        f"the loss class and register it before loading, with {register}."
    )


def _find_class(record):
    name, module, qualname = record["name"], record["module"], record["qualname"]
    try:
        return _registry.import_loss_class(module, qualname), None
    except (ImportError, AttributeError, TypeError) as exc:
        reason = f"{type(exc).__name__}: {exc}"
    registered = None
    if name and _registry.is_registered(name):
        registered = _registry.get_loss_class(name)
        if registered.__module__ == module and registered.__qualname__ == qualname:
            return registered, None
    if record.get("blob") is not None:
        cp = _cloudpickle()
        if cp is not None:
            try:
                cls = cp.loads(record["blob"])
            except Exception as exc:  # noqa: BLE001
                reason += f"; its saved copy does not load ({exc})"
            else:
                if isinstance(cls, type) and issubclass(cls, Loss):
                    return cls, None
    if registered is not None:
        return registered, None
    return None, reason


def _ensure_registered(name, cls):
    if name and not _registry.is_registered(name):
        try:
            _registry.register_loss(name, cls)
        except ValueError:  # registered meanwhile by another thread
            pass


def _restore_loss(record, state):
    """Rebuild a pickled user loss (the target of ``Loss.__reduce_ex__``)."""
    cls, reason = _find_class(record)
    if cls is None:
        raise _not_found(record["name"], record["module"], record["qualname"], reason)
    _ensure_registered(record["name"], cls)
    loss = cls.__new__(cls)
    loss.__setstate__(state)
    return loss


# -- the estimator's side ---------------------------------------------------


def add_state(estimator, state):
    """Add the skloss version and user-loss locations to a pickled state."""
    from . import __version__

    state = dict(state)
    state["_skloss_version"] = __version__
    locations = _registry.user_loss_locations()
    loss = state.get("loss")
    if isinstance(loss, str) and _registry.is_registered(loss):
        cls = _registry.get_loss_class(loss)
        if not _registry.is_builtin(cls):
            state["_skloss_loss"] = {
                "name": loss,
                "module": cls.__module__,
                "qualname": cls.__qualname__,
            }
            locations.pop(loss, None)
    if locations:
        state["_skloss_registry"] = locations
    return state


def rebuild_estimator(cls, state):
    """Unpickle an estimator (the target of its ``__reduce_ex__``).

    Pickle's own path: the loss records of the state may import the module
    they name, as pickle imports every class its file names. Any other
    loader (skops) goes through ``__setstate__``, which imports nothing.
    """
    estimator = cls.__new__(cls)
    estimator._restore_state(state, may_import=True)
    return estimator


def pop_state(estimator, state, may_import=False):
    """Check the version, make the estimator's loss available, strip keys.

    ``may_import``: whether the user-loss records of ``state`` may import
    the modules they name (pickle's path only, see
    :func:`rebuild_estimator`); otherwise a record's class is looked up
    among the modules already imported, so that a file's data never makes
    skloss import a module the user did not approve.
    """
    from . import __version__

    state = dict(state)
    version = state.pop("_skloss_version", "unknown")
    if version != __version__:
        warnings.warn(
            SklossVersionWarning(
                estimator_name=type(estimator).__name__,
                current_version=__version__,
                original_version=version,
            ),
            stacklevel=2,
        )
    for name, (module, qualname) in state.pop("_skloss_registry", {}).items():
        _registry.add_hint(name, module, qualname, may_import=may_import)
    record = state.pop("_skloss_loss", None)
    if record is not None and not _registry.is_registered(record["name"]):
        try:
            cls = _registry.import_loss_class(
                record["module"], record["qualname"], may_import=may_import
            )
        except (ImportError, AttributeError, TypeError) as exc:
            raise _not_found(
                record["name"],
                record["module"],
                record["qualname"],
                f"{type(exc).__name__}: {exc}",
            ) from exc
        _ensure_registered(record["name"], cls)
    return state


def skops_trusted_types():
    """The skloss types to trust when loading a model with ``skops.io``.

    The estimator, every built-in loss class, and the learning-rate
    schedule classes and solver state classes that a fitted model keeps
    for ``partial_fit`` (``skloss.optim``). A model trained with a user loss or a
    user schedule needs that class trusted as well.

    Returns
    -------
    types : list of str
        Fully qualified type names, for ``skops.io.load(..., trusted=...)``.

    Examples
    --------
    >>> from skloss import skops_trusted_types
    >>> "skloss._classifier.GDLogisticClassifier" in skops_trusted_types()
    True
    """
    import inspect

    from ._classifier import GDLogisticClassifier
    from .optim import SOLVERS, _schedules

    classes = [GDLogisticClassifier]
    for solver in SOLVERS.values():
        # The solver's state dataclass and those it derives from.
        classes.extend(c for c in solver.State.__mro__ if c is not object)
    for info in _registry.available_losses().values():
        if _registry.is_builtin(info["class"]):
            classes.append(info["class"])
    for _, cls in inspect.getmembers(_schedules, inspect.isclass):
        if cls.__module__ == _schedules.__name__ and issubclass(
            cls, _schedules.Schedule
        ):
            classes.append(cls)
    return sorted({f"{c.__module__}.{c.__qualname__}" for c in classes})
