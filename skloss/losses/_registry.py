"""The registry of training losses: names (and aliases) to Loss classes."""

import copy
import importlib
import inspect
import sys
import threading

from ._base import Loss

_LOCK = threading.RLock()
# name or alias -> canonical name; canonical name -> (class, aliases)
_NAMES = {}
_ENTRIES = {}
# name -> (module, qualname, may_import): where a user loss lives, learnt
# from a loaded estimator; found (and so registered) on first use of the
# name. Only a pickle's hints may import their module (pickle imports what
# its file names anyway); a skops file's hints are looked up among the
# modules already imported, so a file never makes skloss import a module.
_HINTS = {}


def register_loss(name, loss=None, *, aliases=(), overwrite=False):
    """Register a loss class under a name (and aliases).

    Works as a plain call, ``register_loss("mine", MyLoss)``, or as a class
    decorator, ``@register_loss("mine")``.

    Parameters
    ----------
    name : str
        The name users pass as ``GDLogisticClassifier(loss=name)``.
    loss : type, default=None
        A subclass of :class:`~skloss.Loss`. When None, returns a decorator.
    aliases : sequence of str, default=()
        Other names for the same loss.
    overwrite : bool, default=False
        Whether to replace a loss already registered under one of the names.

    Returns
    -------
    loss or decorator
        The registered class (plain call) or a decorator that registers it.

    Raises
    ------
    ValueError
        When a name is already taken and ``overwrite`` is False.
    TypeError
        When ``loss`` is not a subclass of :class:`~skloss.Loss`.

    Examples
    --------
    >>> from skloss import Loss, register_loss, get_loss
    >>> @register_loss("doc_example_loss", overwrite=True)
    ... class DocExampleLoss(Loss):
    ...     def loss(self, y, raw):
    ...         return (raw - y) ** 2
    ...     def gradient(self, y, raw):
    ...         return 2 * (raw - y)
    >>> get_loss("doc_example_loss")
    DocExampleLoss()
    """
    if loss is None:
        return lambda cls: register_loss(
            name, cls, aliases=aliases, overwrite=overwrite
        )
    if not (inspect.isclass(loss) and issubclass(loss, Loss)):
        raise TypeError(
            f"register_loss({name!r}, ...) expects a subclass of skloss.Loss, "
            f"got {loss!r}. Derive your loss from skloss.Loss."
        )
    names = [name, *aliases]
    for n in names:
        if not isinstance(n, str) or not n:
            raise TypeError(f"Loss names must be non-empty strings, got {n!r}.")
    with _LOCK:
        taken = [n for n in names if n in _NAMES]
        if taken and not overwrite:
            owners = sorted({_NAMES[n] for n in taken})
            raise ValueError(
                f"The loss name(s) {taken} are already registered (to "
                f"{owners}). Choose another name, or pass overwrite=True to "
                "replace the registered loss."
            )
        for n in taken:
            _unregister_name(n)
        _ENTRIES[name] = (loss, tuple(aliases))
        for n in names:
            _NAMES[n] = name
    return loss


def _unregister_name(n):
    canonical = _NAMES.pop(n)
    cls, aliases = _ENTRIES[canonical]
    remaining = [a for a in (canonical, *aliases) if a in _NAMES]
    if not remaining:
        del _ENTRIES[canonical]
    elif n == canonical:
        del _ENTRIES[canonical]
        new = remaining[0]
        _ENTRIES[new] = (cls, tuple(remaining[1:]))
        for a in remaining:
            _NAMES[a] = new
    else:
        _ENTRIES[canonical] = (cls, tuple(a for a in aliases if a != n))


def unregister_loss(name):
    """Remove a loss and all its aliases from the registry.

    Parameters
    ----------
    name : str
        Any registered name or alias of the loss.

    Examples
    --------
    >>> from skloss import Loss, register_loss, unregister_loss
    >>> _ = register_loss("temporary", type("T", (Loss,), {}), overwrite=True)
    >>> unregister_loss("temporary")
    """
    with _LOCK:
        canonical = _resolve(name)
        _, aliases = _ENTRIES.pop(canonical)
        for n in (canonical, *aliases):
            _NAMES.pop(n, None)


def _resolve(name):
    try:
        return _NAMES[name]
    except (KeyError, TypeError):
        pass
    hint = _HINTS.get(name) if isinstance(name, str) else None
    if hint is not None:
        module, qualname, may_import = hint
        try:
            cls = import_loss_class(module, qualname, may_import=may_import)
        except (ImportError, AttributeError, TypeError):
            cls = None
        with _LOCK:
            _HINTS.pop(name, None)
            if cls is not None and name not in _NAMES:
                register_loss(name, cls)
            if name in _NAMES:
                return _NAMES[name]
    raise ValueError(
            f"Unknown loss {name!r}. Available losses: "
            f"{sorted(_NAMES)}. Register your own with "
            "skloss.register_loss(name, LossClass)."
        )


def get_loss_class(name):
    """The class registered under ``name``.

    Parameters
    ----------
    name : str
        A registered name or alias.

    Returns
    -------
    cls : type
        The registered subclass of :class:`~skloss.Loss`.

    Examples
    --------
    >>> from skloss.losses import get_loss_class
    >>> get_loss_class("bce").__name__
    'LogLoss'
    """
    with _LOCK:
        return _ENTRIES[_resolve(name)][0]


def get_loss(name, **params):
    """A new instance of the loss registered under ``name``.

    Parameters
    ----------
    name : str or Loss
        A registered name or alias; a Loss instance is returned unchanged
        (with ``params`` set on it).
    **params : dict
        Hyperparameters passed to the loss's constructor.

    Returns
    -------
    loss : Loss

    Raises
    ------
    ValueError
        When the name is unknown; the message lists the available names.
        Invalid hyperparameters raise scikit-learn's
        ``InvalidParameterError`` (a ValueError) naming the constraint.

    Examples
    --------
    >>> from skloss import get_loss
    >>> get_loss("log_loss")
    LogLoss()
    >>> get_loss("focal", gamma=1.0)
    Focal(gamma=1.0)
    """
    if isinstance(name, Loss):
        loss = name.set_params(**params) if params else name
    else:
        loss = get_loss_class(name)(**params)
    if params:
        loss._validate_params()
    return loss


def canonical_name(name):
    """The canonical registry name of a name or alias.

    Parameters
    ----------
    name : str
        A registered name or alias.

    Returns
    -------
    str

    Examples
    --------
    >>> from skloss.losses import canonical_name
    >>> canonical_name("bce")
    'log_loss'
    """
    with _LOCK:
        return _resolve(name)


def available_losses():
    """The registered losses and what each can do.

    Returns
    -------
    losses : dict
        Maps each canonical name to a dict with keys ``aliases``,
        ``hyperparameters`` (the constructor's parameter names), ``convex``,
        ``smooth``, ``probabilistic``, ``multiclass`` and ``class``.

    Examples
    --------
    >>> from skloss import available_losses
    >>> info = available_losses()["log_loss"]
    >>> info["convex"], info["smooth"], info["probabilistic"]
    (True, True, True)
    """
    # Losses known only by a hint (from a loaded model) are imported now, so
    # that the listing is complete; those that cannot be imported are dropped.
    for name in list(_HINTS):
        try:
            _resolve(name)
        except ValueError:
            pass
    with _LOCK:
        entries = dict(_ENTRIES)
    out = {}
    for name in sorted(entries):
        cls, aliases = entries[name]
        try:
            inst = cls()
        except TypeError:
            inst = cls
        try:
            hyper = sorted(inst.get_params(deep=False))
        except TypeError:
            hyper = []
        out[name] = {
            "aliases": aliases,
            "hyperparameters": hyper,
            "convex": bool(inst.is_convex),
            "smooth": inst.smoothness is not None,
            "probabilistic": bool(inst.has_proba),
            "multiclass": bool(inst.multiclass),
            "class": cls,
        }
    return out


# -- helpers for persistence (pickling estimators and losses) ---------------


def is_builtin(cls):
    """Whether ``cls`` is defined inside skloss (always importable)."""
    return cls.__module__ == "skloss" or cls.__module__.startswith("skloss.")


def registered_name(cls):
    """The canonical name under which ``cls`` is registered, or None."""
    with _LOCK:
        for name, (entry, _) in _ENTRIES.items():
            if entry is cls:
                return name
    return None


def is_registered(name):
    """Whether ``name`` is a registered name or alias (hints not consulted)."""
    with _LOCK:
        return name in _NAMES


def import_loss_class(module, qualname, *, may_import=True):
    """Import ``module`` and return the Loss subclass at ``qualname``.

    With ``may_import=False`` the module must already be imported: the
    class is looked up in ``sys.modules`` and nothing new is imported (the
    path of files whose loader, like skops, imports only trusted types).

    Raises ImportError, AttributeError or TypeError when it cannot.
    """
    if "<locals>" in qualname:
        raise AttributeError(f"{qualname} is local to a function")
    if may_import:
        obj = importlib.import_module(module)
    elif module in sys.modules:
        obj = sys.modules[module]
    else:
        raise ImportError(
            f"module {module!r} is not imported, and skloss imports no module "
            "named by a file loaded without pickle; import it (or register "
            "the loss) before loading"
        )
    for part in qualname.split("."):
        obj = getattr(obj, part)
    if not (inspect.isclass(obj) and issubclass(obj, Loss)):
        raise TypeError(f"{module}.{qualname} is not a subclass of skloss.Loss")
    return obj


def add_hint(name, module, qualname, *, may_import=True):
    """Remember where the user loss ``name`` lives, unless it is registered.

    ``may_import`` says whether the first use of the name may import
    ``module`` (see :func:`import_loss_class`).
    """
    with _LOCK:
        if name not in _NAMES:
            _HINTS.setdefault(name, (module, qualname, bool(may_import)))


def user_loss_locations():
    """``{name: (module, qualname)}`` of registered user losses importable
    by name from a module (not ``__main__``, not local to a function)."""
    with _LOCK:
        entries = dict(_ENTRIES)
    out = {}
    for name, (cls, _) in entries.items():
        if is_builtin(cls) or cls.__module__ == "__main__":
            continue
        if "<locals>" in cls.__qualname__:
            continue
        out[name] = (cls.__module__, cls.__qualname__)
    return out


def training_form(loss, n_classes, multi_class="auto"):
    """The loss to train with on ``n_classes`` classes, and the problem form.

    A multiclass loss trains multinomially; a binary loss on two classes
    trains as it is; on more classes, its registered multinomial form
    (``loss.multinomial``, built with the hyperparameters the two share)
    unless ``multi_class="ovr"`` or it has none, else one-vs-rest.

    Parameters
    ----------
    loss : Loss
        The loss the user chose.
    n_classes : int
        The number of classes of the problem.
    multi_class : {"auto", "ovr", "multinomial"}, default="auto"
        The estimator's ``multi_class``.

    Returns
    -------
    loss : Loss
    mode : {"binary", "ovr", "multinomial"}

    Examples
    --------
    >>> from skloss.losses import LogLoss
    >>> from skloss.losses._registry import training_form
    >>> training_form(LogLoss(label_smoothing=0.1), 3)
    (SoftmaxCrossEntropy(label_smoothing=0.1), 'multinomial')
    >>> training_form(LogLoss(), 3, "ovr")
    (LogLoss(), 'ovr')
    """
    name = type(loss).__name__
    if loss.multiclass:
        if multi_class == "ovr":
            raise ValueError(
                f"The loss {name} is natively multiclass and has no "
                "one-vs-rest form; use multi_class='auto' or "
                "'multinomial', or a binary loss such as 'log_loss'."
            )
        return loss, "multinomial"
    if n_classes <= 2:
        return loss, "binary"
    if multi_class in ("auto", "multinomial") and loss.multinomial:
        cls = get_loss_class(loss.multinomial)
        accepted = cls().get_params()
        shared = {k: v for k, v in loss.get_params().items() if k in accepted}
        return cls(**shared), "multinomial"
    if multi_class == "multinomial":
        raise ValueError(
            f"The loss {name} has no multinomial form; use "
            "multi_class='ovr' (one-vs-rest) or a multiclass loss such as "
            "'softmax_cross_entropy'."
        )
    return loss, "ovr"


def nested_loss_params(loss, params, *, choosing_loss=False):
    """The loss instance and checked hyperparameters of ``loss__<name>`` values.

    The estimator's ``set_params`` applies them only after every check has
    passed (all or nothing): nothing is changed here.

    Parameters
    ----------
    loss : str or Loss
        The loss the values are for (a registered name builds an instance
        with its defaults).
    params : dict
        Hyperparameter names (without ``loss__``) and values.
    choosing_loss : bool, default=False
        Whether the same call also sets ``loss`` (a grid search's
        candidate): a name the chosen loss does not have but some
        registered loss has is then skipped, so one grid can cover losses
        with different hyperparameters.

    Returns
    -------
    loss : Loss or None
        None when ``params`` is empty.
    params : dict
        The values to set on it.

    Examples
    --------
    >>> from skloss.losses._registry import nested_loss_params
    >>> nested_loss_params("log_loss", {"gamma": 2.0}, choosing_loss=True)
    (LogLoss(), {})
    """
    if not params:
        return None, params
    params = dict(params)
    if isinstance(loss, str):
        loss = get_loss(loss)
    valid = loss.get_params()
    unknown = sorted(set(params) - set(valid))
    if unknown and choosing_loss:
        known_elsewhere = set()
        for info in available_losses().values():
            known_elsewhere.update(info["hyperparameters"])
        for name in [u for u in unknown if u in known_elsewhere]:
            del params[name]
        unknown = sorted(set(params) - set(valid))
    if unknown:
        raise ValueError(
            f"The loss {type(loss).__name__} has no hyperparameter(s) "
            f"{unknown}; its hyperparameters are {sorted(valid)}."
        )
    copy.deepcopy(loss).set_params(**params)  # raises before any change
    return loss, params
