"""How a loss travels in a model file, and how it is found again.

Two formats, two threat models (see ``docs/reliability.rst``):

* **pickle** is code: a pickle names the callables it runs and imports their
  modules. A user loss pickles through :func:`_restore_loss`, which finds
  its class by import (the module the file names), by registry name, or,
  for a class that no other process can import by name (defined in
  ``__main__`` or inside a function), from a by-value copy of the class made
  with cloudpickle, as joblib carries a script's functions to its workers.
  A registry entry that an estimator needs (``loss="mine"``) travels the
  same way (:func:`name_record`, :func:`find_named_class`).
* **skops** is data: a file may only make skops build the types the user
  trusted, and nothing here imports a module or unpickles a by-value copy
  for it. A loss whose class skops cannot name by import is saved as a
  :class:`SavedLoss` record and rebuilt from a class the process already
  has (registered under the loss's name, or in a module already imported);
  otherwise loading fails with :class:`LossNotFoundError`.
"""

from . import _registry
from ._base import Loss

# What to install for by-value copies (pyproject.toml's extra "pickle").
_CLOUDPICKLE_FIX = (
    "install cloudpickle (pip install cloudpickle, or skloss[pickle]) in the "
    "process that saves the model, so that the class travels by value, or "
    "define the loss in an importable module"
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
    """cloudpickle, or None: joblib's vendored copy first (joblib ships with
    scikit-learn, and its workers use it), then the standalone package."""
    try:
        from joblib.externals import cloudpickle
    except ImportError:
        try:
            import cloudpickle
        except ImportError:
            return None
    return cloudpickle


def importable_by_name(cls):
    """Whether another process can find ``cls`` by importing its module."""
    return cls.__module__ != "__main__" and "<locals>" not in cls.__qualname__


def _class_blob(cls):
    """A by-value copy of ``cls`` (bytes), or None without cloudpickle."""
    cp = _cloudpickle()
    if cp is None:
        return None
    try:
        return cp.dumps(cls)
    except Exception:  # noqa: BLE001 - best effort, e.g. an unpicklable closure
        return None


def _load_blob(blob):
    """The Loss subclass in a by-value copy, and why not when it fails."""
    cp = _cloudpickle()
    if cp is None:
        return None, f"its by-value copy needs cloudpickle to load ({_CLOUDPICKLE_FIX})"
    try:
        cls = cp.loads(blob)
    except Exception as exc:  # noqa: BLE001 - report any failure as not found
        return None, f"its by-value copy does not load ({type(exc).__name__}: {exc})"
    if isinstance(cls, type) and issubclass(cls, Loss):
        return cls, None
    return None, "its by-value copy is not a subclass of skloss.Loss"


def reduce_loss(loss, protocol):
    """``Loss.__reduce_ex__``: built-in losses pickle as usual; a user loss
    pickles through :func:`_restore_loss`."""
    cls = type(loss)
    if _registry.is_builtin(cls):
        return super(Loss, loss).__reduce_ex__(protocol)
    return (_restore_loss, (loss_record(cls), loss.__getstate__()))


def loss_record(cls):
    """What a pickle needs to find the loss class ``cls`` again."""
    return {
        "name": _registry.registered_name(cls),
        "module": cls.__module__,
        "qualname": cls.__qualname__,
        # Not importable by name in another process: keep a by-value copy.
        "blob": None if importable_by_name(cls) else _class_blob(cls),
    }


def name_record(name, *, by_value):
    """The record of the user loss registered as ``name`` (None for a
    built-in or unknown name).

    ``by_value``: whether to add a by-value copy of a class that another
    process cannot import by name (pickle's form only; a skops file is data).
    """
    if not (isinstance(name, str) and _registry.is_registered(name)):
        return None
    cls = _registry.get_loss_class(name)
    if _registry.is_builtin(cls):
        return None
    record = {"name": name, "module": cls.__module__, "qualname": cls.__qualname__}
    if by_value and not importable_by_name(cls):
        record["blob"] = _class_blob(cls)
    return record


def not_found(name, module, qualname, reason):
    """The LossNotFoundError for a loss that a model file needs."""
    label = repr(name) if name else f"{module}.{qualname}"
    short = str(qualname).split(".")[-1]
    register = (
        f"skloss.register_loss({name!r}, {short})"
        if name
        else "skloss.register_loss(name, LossClass)"
    )
    return LossNotFoundError(
        f"Cannot load the loss {label} (class {qualname} from module "
        f"{module!r}): {reason}. Make that module importable again, or define "
        f"the loss class and register it before loading, with {register}."
    )


def _no_copy_reason(module, qualname):
    if module == "__main__" or "<locals>" in str(qualname):
        return (
            "the class was defined in a script or a function, which no other "
            "process can import, and the model carries no by-value copy of "
            f"it; {_CLOUDPICKLE_FIX}"
        )
    return None


def ensure_registered(name, cls):
    """Register ``cls`` as ``name`` unless the name is taken."""
    if isinstance(name, str) and name and not _registry.is_registered(name):
        try:
            _registry.register_loss(name, cls)
        except ValueError:  # registered meanwhile by another thread
            pass


def find_named_class(record, *, may_import):
    """Make the user loss of an estimator's record available by its name.

    Registered already: nothing to do. Otherwise its class is imported
    (``may_import``: pickle's path) or looked up among the modules already
    imported (any other loader), then, on pickle's path only, loaded from
    the record's by-value copy; it is registered under the record's name.

    Raises
    ------
    LossNotFoundError
        When the class cannot be found; the message names the loss and the fix.
    """
    name, module, qualname = record["name"], record["module"], record["qualname"]
    if _registry.is_registered(name):
        return
    try:
        cls = _registry.import_loss_class(module, qualname, may_import=may_import)
    except (ImportError, AttributeError, TypeError) as exc:
        cls, reason = None, f"{type(exc).__name__}: {exc}"
        blob = record.get("blob") if may_import else None
        if blob is not None:
            cls, why = _load_blob(blob)
            reason = f"{reason}; {why}" if cls is None else reason
        elif may_import:
            why = _no_copy_reason(module, qualname)
            reason = f"{reason}; {why}" if why else reason
        if cls is None:
            raise not_found(name, module, qualname, reason) from exc
    ensure_registered(name, cls)


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
        cls, why = _load_blob(record["blob"])
        if cls is not None:
            return cls, None
        reason += f"; {why}"
    elif registered is None:
        why = _no_copy_reason(module, qualname)
        reason = f"{reason}; {why}" if why else reason
    if registered is not None:
        return registered, None
    return None, reason


def _restore_loss(record, state):
    """Rebuild a pickled user loss (the target of ``Loss.__reduce_ex__``)."""
    cls, reason = _find_class(record)
    if cls is None:
        raise not_found(record["name"], record["module"], record["qualname"], reason)
    ensure_registered(record["name"], cls)
    loss = cls.__new__(cls)
    loss.__setstate__(state)
    return loss


class SavedLoss:
    """A user loss in a skops file, for a class that skops cannot import
    (defined in ``__main__`` or inside a function).

    Data only: the loss's registry name, module, qualified name and
    hyperparameters. Rebuilt on load by :meth:`restore` from a class the
    loading process already has; nothing is imported.

    Parameters
    ----------
    loss : Loss
        The loss to record.

    Examples
    --------
    >>> from skloss import Loss
    >>> from skloss.losses._pickling import SavedLoss
    >>> class Mine(Loss):
    ...     def loss(self, y, raw):
    ...         return (raw - y) ** 2
    ...     def gradient(self, y, raw):
    ...         return 2 * (raw - y)
    >>> SavedLoss(Mine()).qualname
    'Mine'
    """

    def __init__(self, loss):
        cls = type(loss)
        self.name = _registry.registered_name(cls)
        self.module = cls.__module__
        self.qualname = cls.__qualname__
        self.state = dict(loss.__getstate__())

    def restore(self):
        """The loss, from a class the process has.

        The class registered under the loss's name when its module and name
        match, else the class at ``module.qualname`` in a module already
        imported, else the class registered under the name.

        Raises
        ------
        LossNotFoundError
            When the process has no such class.
        """
        name, module, qualname = self.name, self.module, self.qualname
        registered = None
        if isinstance(name, str) and _registry.is_registered(name):
            registered = _registry.get_loss_class(name)
            if registered.__module__ == module and registered.__qualname__ == qualname:
                return self._build(registered)
        try:
            cls = _registry.import_loss_class(module, qualname, may_import=False)
        except (ImportError, AttributeError, TypeError) as exc:
            if registered is None:
                raise not_found(
                    name, module, qualname,
                    f"{type(exc).__name__}: {exc} (files other than pickles "
                    "never import code nor carry it by value; define the "
                    "loss class in the loading process first)",
                ) from exc
            cls = registered
        ensure_registered(name, cls)
        return self._build(cls)

    def _build(self, cls):
        loss = cls.__new__(cls)
        loss.__setstate__(dict(self.state))
        return loss
