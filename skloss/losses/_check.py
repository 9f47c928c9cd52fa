"""check_loss: does a loss follow the contract of skloss.Loss?"""

import math
import warnings

import numpy as np
from sklearn.base import clone

from ._base import Loss, has_hessian

# The 1e300 probe applies to losses that grow at most linearly: at
# |raw| = 1e4 their loss is at most this many times |raw| and their gradient
# at most this large.
_LINEAR_SLOPE = 100.0


class LossContractError(AssertionError):
    """A loss breaks the contract of :class:`~skloss.Loss`.

    Raised by :func:`check_loss`. The message names the property and the
    worst point found.

    Attributes
    ----------
    property : str
        The property that failed, e.g. ``"gradient"`` or ``"dtype"``.
    point : dict
        The worst point: targets, raw predictions and the values compared.

    Examples
    --------
    >>> from skloss.losses import LossContractError
    >>> issubclass(LossContractError, AssertionError)
    True
    """

    def __init__(self, message, *, property, point=None):
        super().__init__(message)
        self.property = property
        self.point = {} if point is None else point


def _fail(loss, prop, detail, point=None):
    where = ""
    if point:
        where = " Worst point: " + ", ".join(
            f"{k}={_fmt(v)}" for k, v in point.items()
        )
    raise LossContractError(
        f"{type(loss).__name__} fails the '{prop}' check: {detail}.{where}",
        property=prop,
        point=point,
    )


def _fmt(value):
    if isinstance(value, np.ndarray):
        return np.array2string(value, precision=6, separator=", ")
    if isinstance(value, float):
        return f"{value:.6g}"
    return repr(value)


def _call(loss, prop, method, *args, where=""):
    """Call a method, turning exceptions and warnings into a contract error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        try:
            out = getattr(loss, method)(*args)
        except LossContractError:
            raise
        except Exception as exc:  # noqa: BLE001 - reported with its type
            _fail(loss, prop, f"{method}() raised {type(exc).__name__}: {exc}"
                  f"{where}")
    return out


def _targets(rng, n, k, multiclass, dtype):
    """Hard targets: 0/1 of shape (n,) and (n, k), or one-hot rows."""
    if multiclass:
        y = np.zeros((n, k), dtype=dtype)
        y[np.arange(n), rng.integers(0, k, size=n)] = 1.0
        return [y]
    return [
        rng.integers(0, 2, size=n).astype(dtype),
        rng.integers(0, 2, size=(n, k)).astype(dtype),
    ]


def _check_flags(loss):
    if not isinstance(loss, Loss):
        _fail(loss, "type", f"expected a subclass of skloss.Loss, got {loss!r}")
    for flag in ("multiclass", "is_convex", "has_proba",
                 "positively_homogeneous"):
        if not isinstance(getattr(loss, flag), (bool, np.bool_)):
            _fail(loss, "flags", f"{flag} must be a bool, got "
                  f"{getattr(loss, flag)!r}")
    L = loss.smoothness
    if L is not None and not (isinstance(L, (int, float)) and math.isfinite(L)
                              and L > 0):
        _fail(loss, "flags", f"smoothness must be None or a positive finite "
              f"number, got {L!r}")
    if loss.multinomial is not None:
        from ._registry import get_loss_class

        try:
            cls = get_loss_class(loss.multinomial)
        except ValueError as exc:
            _fail(loss, "flags", f"multinomial={loss.multinomial!r}: {exc}")
        if not cls.multiclass:
            _fail(loss, "flags", f"multinomial={loss.multinomial!r} names a "
                  "loss that is not multiclass")
    try:
        params = loss.get_params()
        copy = clone(loss)
    except Exception as exc:  # noqa: BLE001
        _fail(loss, "hyperparameters", f"get_params/clone failed with "
              f"{type(exc).__name__}: {exc}; store each __init__ argument "
              "unchanged under its own name")
    if copy.get_params() != params:
        _fail(loss, "hyperparameters", "clone(loss) has other hyperparameters "
              f"({copy.get_params()} instead of {params})")


def _check_shapes_dtypes(loss, rng, n, k):
    for dtype in (np.float64, np.float32):
        for y in _targets(rng, n, k, loss.multiclass, dtype):
            raw = rng.normal(scale=3.0, size=y.shape).astype(dtype)
            want = (n,) if loss.multiclass else raw.shape
            outputs = {
                "loss": (_call(loss, "shape", "loss", y, raw), want),
                "gradient": (_call(loss, "shape", "gradient", y, raw), raw.shape),
            }
            both = _call(loss, "shape", "loss_gradient", y, raw)
            if not (isinstance(both, tuple) and len(both) == 2):
                _fail(loss, "shape", "loss_gradient() must return a pair "
                      "(loss, gradient)")
            outputs["loss_gradient[0]"] = (both[0], want)
            outputs["loss_gradient[1]"] = (both[1], raw.shape)
            if loss.has_proba:
                outputs["predict_proba"] = (
                    _call(loss, "shape", "predict_proba", raw), raw.shape
                )
            for what, (value, shape) in outputs.items():
                value = np.asarray(value)
                if value.shape != shape:
                    _fail(loss, "shape", f"{what} has shape {value.shape}, "
                          f"expected {shape} for raw of shape {raw.shape}")
                if value.dtype == dtype:
                    continue
                if not np.issubdtype(value.dtype, np.floating):
                    _fail(loss, "dtype", f"{what} is {value.dtype} for "
                          f"{np.dtype(dtype).name} input; return floating "
                          "values of the input dtype")
                # Training casts another floating dtype to the data's (the
                # loss-output guard): slower, not wrong.
                warnings.warn(
                    f"{type(loss).__name__}.{what} is {value.dtype} for "
                    f"{np.dtype(dtype).name} input; fits cast it to the input "
                    "dtype. Keep the input dtype to skip the cast (use Python "
                    "float scalars, not float64 arrays or scalars).",
                    UserWarning, stacklevel=3,
                )


def _extreme_raw(y, magnitude, dtype, rng):
    signs = np.where(rng.random(y.shape) < 0.5, -1.0, 1.0)
    return (signs * magnitude).astype(dtype)


def _check_extremes(loss, rng, n, k):
    def finite(y, raw, prop):
        where = f" for |raw| = {np.max(np.abs(raw)):.0e} ({raw.dtype})"
        values = {
            "loss": _call(loss, prop, "loss", y, raw, where=where),
            "gradient": _call(loss, prop, "gradient", y, raw, where=where),
        }
        if loss.has_proba:
            values["predict_proba"] = _call(
                loss, prop, "predict_proba", raw, where=where
            )
        for what, value in values.items():
            value = np.asarray(value)
            bad = ~np.isfinite(value)
            if bad.any():
                i = np.unravel_index(np.argmax(bad), bad.shape)[0]
                _fail(loss, prop, f"{what} is not finite for |raw| = "
                      f"{np.max(np.abs(raw)):.0e} ({raw.dtype})",
                      {"y": y[i], "raw": raw[i], what: value[i]})
        return values

    linear = True
    for dtype, magnitudes in ((np.float32, (1e2, 1e3, 1e4)),
                              (np.float64, (1e2, 1e3, 1e4))):
        for y in _targets(rng, n, k, loss.multiclass, dtype):
            for m in magnitudes:
                raw = _extreme_raw(y, m, dtype, rng)
                # Include all-equal rows (ties) and mixed signs.
                raw[0] = m
                values = finite(y, raw, "finite")
                if dtype is np.float64 and m == 1e4:
                    big_loss = np.max(np.abs(values["loss"]))
                    big_grad = np.max(np.abs(values["gradient"]))
                    if big_loss > _LINEAR_SLOPE * m or big_grad > _LINEAR_SLOPE:
                        linear = False
    if linear:
        for y in _targets(rng, n, k, loss.multiclass, np.float64):
            for m in (1e100, 1e300):
                raw = _extreme_raw(y, m, np.float64, rng)
                raw[0] = m
                finite(y, raw, "finite")


def _sample_raw(rng, y):
    raw = rng.normal(scale=3.0, size=y.shape)
    raw[: y.shape[0] // 8] *= 0.1  # a few points near 0
    return raw


def _check_gradient(loss, rng, n, k, rtol=1e-4):
    for y in _targets(rng, n, k, loss.multiclass, np.float64):
        raw = _sample_raw(rng, y)
        grad = np.asarray(_call(loss, "gradient", "gradient", y, raw))
        cols = range(raw.shape[1]) if raw.ndim == 2 else [None]
        for j in cols:
            h = 1e-6 * np.maximum(1.0, np.abs(raw if j is None else raw[:, j]))
            step = np.zeros_like(raw)
            if j is None:
                step[:] = h
            else:
                step[:, j] = h

            def f(r, y=y, j=j):
                out = np.asarray(_call(loss, "gradient", "loss", y, r))
                return out if (loss.multiclass or j is None) else out[:, j]

            up, mid, down = f(raw + step), f(raw), f(raw - step)
            central = (up - down) / (2 * h)
            forward, backward = (up - mid) / h, (mid - down) / h
            g = grad if j is None else grad[:, j]
            scale = 1.0 + np.abs(central)
            # Skip points within h of a kink (non-smooth losses).
            kink = np.abs(forward - backward) > 1e-3 * scale
            if kink.mean() > 0.25:
                i = int(np.argmax(kink))
                _fail(loss, "gradient", f"the loss is not differentiable at "
                      f"{kink.mean():.0%} of the sampled points (one-sided "
                      "differences disagree), so its gradient cannot be "
                      "checked", {"y": y[i], "raw": raw[i], "column": j})
            err = np.where(kink, 0.0, np.abs(g - central) / scale)
            if err.max() > rtol:
                i = int(np.argmax(err))
                _fail(loss, "gradient", "the gradient differs from central "
                      f"finite differences by {err[i]:.3g} (relative)",
                      {"y": y[i], "raw": raw[i], "column": j,
                       "gradient": float(g[i]), "finite_difference":
                       float(central[i])})


def _check_hessian(loss, rng, n, k, rtol=1e-4):
    if not has_hessian(loss):
        return
    for y in _targets(rng, n, k, loss.multiclass, np.float64):
        raw = _sample_raw(rng, y)
        hess = np.asarray(_call(loss, "hessian", "hessian", y, raw))
        # Multiclass: one (K, K) matrix per sample, column j the change of
        # the gradient along raw's column j.
        expected = raw.shape + raw.shape[1:] if loss.multiclass else raw.shape
        if hess.shape != expected:
            what = ("(n_samples, n_classes, n_classes)" if loss.multiclass
                    else "that of raw")
            _fail(loss, "hessian", f"hessian has shape {hess.shape}, expected "
                  f"{expected} ({what})")
        h = 1e-6 * np.maximum(1.0, np.abs(raw))

        def g(r, y=y):
            return np.asarray(_call(loss, "hessian", "gradient", y, r))

        mid = g(raw)
        columns = range(raw.shape[1]) if loss.multiclass else [None]
        for j in columns:
            step = h if j is None else np.where(np.arange(raw.shape[1]) == j, h, 0.0)
            hj = h if j is None else h[:, j:j + 1]
            up, down = g(raw + step), g(raw - step)
            central = (up - down) / (2 * hj)
            scale = 1.0 + np.abs(central)
            # Skip points within h of a kink of the gradient.
            kink = np.abs((up - mid) / hj - (mid - down) / hj) > 1e-3 * scale
            got = hess if j is None else hess[:, :, j]
            err = np.where(kink, 0.0, np.abs(got - central) / scale)
            if err.max() > rtol:
                i = np.unravel_index(np.argmax(err), err.shape)
                _fail(loss, "hessian", "the hessian differs from central finite "
                      f"differences of the gradient by {err[i]:.3g} (relative)",
                      {"y": y[i[0]], "raw": raw[i[0]], "hessian": float(got[i]),
                       "finite_difference": float(central[i])})


def _check_loss_gradient(loss, rng, n, k):
    for y in _targets(rng, n, k, loss.multiclass, np.float64):
        raw = _sample_raw(rng, y)
        lo = np.asarray(_call(loss, "loss_gradient", "loss", y, raw))
        gr = np.asarray(_call(loss, "loss_gradient", "gradient", y, raw))
        both = _call(loss, "loss_gradient", "loss_gradient", y, raw)
        for what, a, b in (("loss", lo, np.asarray(both[0])),
                           ("gradient", gr, np.asarray(both[1]))):
            err = np.abs(a - b) / (1.0 + np.abs(a))
            if err.max() > 1e-10:
                i = np.unravel_index(np.argmax(err), err.shape)[0]
                _fail(loss, "loss_gradient", f"loss_gradient() gives another "
                      f"{what} than {what}() ({err.max():.3g} relative)",
                      {"y": y[i], "raw": raw[i], what: a[i],
                       f"loss_gradient {what}": b[i]})


def _pairs(rng, y):
    a = _sample_raw(rng, y)
    scales = np.exp(rng.uniform(np.log(1e-3), np.log(10.0), size=y.shape[0]))
    direction = rng.normal(size=y.shape)
    b = a + (direction.T * scales).T
    return a, b


def _check_convexity(loss, rng, n, k):
    if not loss.is_convex:
        return
    for y in _targets(rng, n, k, loss.multiclass, np.float64):
        a, b = _pairs(rng, y)
        la, ga = (np.asarray(v) for v in _call(loss, "convexity",
                                                "loss_gradient", y, a))
        lb = np.asarray(_call(loss, "convexity", "loss", y, b))
        lin = ga * (b - a)
        if loss.multiclass:
            lin = lin.sum(axis=1)
        # First-order condition: l(b) >= l(a) + g(a).(b - a).
        gap = la + lin - lb
        tol = 1e-9 * (1.0 + np.abs(la) + np.abs(lb))
        err = gap - tol
        if err.max() > 0:
            i = np.unravel_index(np.argmax(err), err.shape)[0]
            _fail(loss, "convexity", "is_convex is True, but the loss lies "
                  f"{gap.flat[np.argmax(err)]:.3g} below its tangent",
                  {"y": y[i], "raw_a": a[i], "raw_b": b[i]})


def _check_smoothness(loss, rng, n, k):
    L = loss.smoothness
    if L is None:
        return
    for y in _targets(rng, n, k, loss.multiclass, np.float64):
        a, b = _pairs(rng, y)
        ga = np.asarray(_call(loss, "smoothness", "gradient", y, a))
        gb = np.asarray(_call(loss, "smoothness", "gradient", y, b))
        if loss.multiclass:
            num = np.linalg.norm(ga - gb, axis=1)
            den = np.linalg.norm(a - b, axis=1)
        else:
            num, den = np.abs(ga - gb), np.abs(a - b)
        ratio = num / den
        if ratio.max() > L * (1 + 1e-6) + 1e-12:
            i = np.unravel_index(np.argmax(ratio), ratio.shape)[0]
            _fail(loss, "smoothness", f"smoothness={L} but the gradient "
                  f"changes {ratio.max():.4g} times as fast as raw",
                  {"y": y[i], "raw_a": a[i], "raw_b": b[i]})


def _check_homogeneity(loss, rng, n, k):
    if not loss.positively_homogeneous:
        return
    for y in _targets(rng, n, k, loss.multiclass, np.float64):
        raw = _sample_raw(rng, y)
        base = np.asarray(_call(loss, "homogeneity", "loss", y, raw))
        for c in (0.5, 3.0):
            scaled = np.asarray(_call(loss, "homogeneity", "loss", y, c * raw))
            err = np.abs(scaled - c * base)
            tol = 1e-9 * (1.0 + c * np.abs(base))
            if (err > tol).any():
                i = np.unravel_index(np.argmax(err - tol), err.shape)[0]
                _fail(loss, "homogeneity", "positively_homogeneous is True, "
                      f"but loss(y, {c} raw) differs from {c} loss(y, raw) by "
                      f"{err.max():.3g}", {"y": y[i], "raw": raw[i]})


def _check_proba(loss, rng, n, k):
    if not loss.has_proba:
        return
    for y in _targets(rng, n, k, loss.multiclass, np.float64):
        for scale in (1.0, 3.0, 30.0, 1e4):
            raw = rng.normal(scale=scale, size=y.shape)
            p = np.asarray(_call(loss, "proba", "predict_proba", raw))
            bad = ~((p >= 0) & (p <= 1))
            if bad.any():
                i = np.unravel_index(np.argmax(bad), bad.shape)[0]
                _fail(loss, "proba", "probabilities outside [0, 1]",
                      {"raw": raw[i], "proba": p[i]})
            if loss.multiclass:
                err = np.abs(p.sum(axis=1) - 1.0)
                if err.max() > 1e-6:
                    i = int(np.argmax(err))
                    _fail(loss, "proba", f"probability rows sum to "
                          f"{p[i].sum():.6g}, not 1", {"raw": raw[i],
                                                      "proba": p[i]})


def check_loss(loss, *, n_samples=64, n_classes=3, random_state=0):
    """Check that a loss follows the contract of :class:`~skloss.Loss`.

    Checks, in order:

    * ``type``, ``flags``, ``hyperparameters``: a Loss subclass, boolean
      flags, ``smoothness`` None or positive, ``multinomial`` naming a
      registered multiclass loss, ``clone`` keeping the hyperparameters;
    * ``shape``: per-sample losses of shape (n,) (multiclass) or the shape
      of ``raw`` (binary, for raw of shape (n,) and (n, n_classes)),
      gradients and probabilities of the shape of ``raw``;
    * ``dtype``: float32 in gives float32 out, float64 gives float64;
    * ``finite``: finite loss, gradient and probabilities for ``|raw|`` up
      to 1e4 in float32 and float64, and up to 1e300 in float64 for losses
      that grow at most linearly (at ``|raw| = 1e4`` the loss is at most
      ``100 |raw|`` and the gradient at most 100); no floating-point warning
      anywhere;
    * ``gradient``: the gradient equals central finite differences (relative
      error 1e-4), away from kinks;
    * ``hessian`` (losses that implement it): it equals central finite
      differences of the gradient, away from kinks (for multiclass losses,
      each sample's matrix, column by column);
    * ``loss_gradient``: it agrees with ``loss`` and ``gradient``;
    * ``convexity`` (when ``is_convex``): the loss lies above its tangents;
    * ``smoothness`` (when not None): the gradient changes at most
      ``smoothness`` times as fast as ``raw``;
    * ``homogeneity`` (when ``positively_homogeneous``): ``loss(y, c raw)
      = c loss(y, raw)`` for ``c`` of 0.5 and 3;
    * ``proba`` (when ``has_proba``): probabilities in [0, 1], rows summing
      to one for multiclass losses.

    Points are drawn at random with targets of 0/1 (binary) or one-hot
    (multiclass).

    Parameters
    ----------
    loss : Loss
        The loss instance to check.
    n_samples : int, default=64
        Number of random points per check.
    n_classes : int, default=3
        Number of columns of ``raw`` for multiclass and one-vs-rest checks.
    random_state : int, default=0
        Seed of the random points.

    Returns
    -------
    loss : Loss
        The loss, unchanged.

    Raises
    ------
    LossContractError
        At the first failed property; the message names the property and
        the worst point found.

    Examples
    --------
    >>> from skloss import Loss, check_loss, get_loss
    >>> check_loss(get_loss("hinge"))
    Hinge()
    >>> class WrongGradient(Loss):
    ...     smoothness = 2.0
    ...     def loss(self, y, raw):
    ...         return (raw - y) ** 2
    ...     def gradient(self, y, raw):
    ...         return raw - y  # should be 2 * (raw - y)
    >>> check_loss(WrongGradient())  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    skloss.losses._check.LossContractError: WrongGradient fails the 'gradient' ...
    """
    rng = np.random.default_rng(random_state)
    n, k = int(n_samples), int(n_classes)
    _check_flags(loss)
    _check_shapes_dtypes(loss, rng, n, k)
    _check_extremes(loss, rng, n, k)
    _check_gradient(loss, rng, n, k)
    _check_hessian(loss, rng, n, k)
    _check_loss_gradient(loss, rng, n, k)
    _check_convexity(loss, rng, n, k)
    _check_smoothness(loss, rng, n, k)
    _check_homogeneity(loss, rng, n, k)
    _check_proba(loss, rng, n, k)
    return loss
