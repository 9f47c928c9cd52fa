"""The loss-output guard: a loss's outputs checked where training uses them.

:func:`skloss.check_loss` tests a loss's whole contract before it is used;
:class:`GuardedLoss` is its run-time counterpart inside a fit. Every call
checks what is cheap (the output is an array, of the right shape, of a
floating dtype: a few attribute reads) and casts a floating output to the
data's dtype (a user loss written the natural NumPy way may return float64
for float32 data); the first call also checks that the values are finite at
moderate decision values. A broken loss is then named in a ValueError at
the fit that uses it, not in a bare matmul or unpacking error deep inside
an epoch.
"""

import math

from sklearn.utils._array_api import get_namespace

from ._base import Loss

_CONTRACT = "See skloss.Loss; skloss.check_loss(loss) tests the whole contract."


def _is_floating(dtype):
    # By name, so NumPy, PyTorch and CuPy dtypes alike ("torch.float32").
    return "float" in str(dtype)


def _namespace(array):
    return get_namespace(array)[0]


def check_smoothness(loss):
    """Raise a ValueError unless ``loss.smoothness`` is None or positive finite.

    Examples
    --------
    >>> from skloss.losses import LogLoss
    >>> from skloss.losses._guard import check_smoothness
    >>> check_smoothness(LogLoss())
    """
    L = loss.smoothness
    ok = L is None or (
        isinstance(L, (int, float)) and not isinstance(L, bool)
        and math.isfinite(L) and L > 0
    )
    if not ok:
        raise ValueError(
            f"The loss {type(loss).__name__} breaks the loss contract: its "
            f"smoothness is {L!r}, expected None (not smooth) or a positive "
            f"finite bound on the second derivative. {_CONTRACT}"
        )


class GuardedLoss:
    """A loss whose outputs are checked and cast at every evaluation.

    Parameters
    ----------
    loss : Loss
        The loss to guard.

    Attributes
    ----------
    checked : bool
        Whether a first output has passed the finiteness check. Shared by
        the views of an objective that share this guard.
    thread_safe : bool
        Whether the loss may be called from several threads at once
        (``Loss.thread_safe``; built-in losses keep no state between calls).

    Examples
    --------
    >>> import numpy as np
    >>> from skloss.losses import LogLoss
    >>> from skloss.losses._guard import GuardedLoss
    >>> guard = GuardedLoss(LogLoss())
    >>> value, grad = guard.loss_gradient(np.array([1.0]), np.array([0.0]))
    >>> round(float(value[0]), 6), float(grad[0]), guard.checked
    (0.693147, -0.5, True)
    """

    def __init__(self, loss):
        check_smoothness(loss)
        self.loss_ = loss
        self.name = type(loss).__name__
        self.checked = False
        self.thread_safe = bool(getattr(loss, "thread_safe", False))
        fused = getattr(type(loss), "loss_gradient") is not Loss.loss_gradient
        self._fused = fused
        # Shapes and dtypes of the last outputs that passed every check.
        self._passed = None
        self._passed_loss = None

    def _error(self, method, detail):
        return ValueError(
            f"The loss {self.name} breaks the loss contract: {method} "
            f"{detail}. {_CONTRACT}"
        )

    def _array(self, out, method, raw, shapes):
        """``out`` as an array of ``raw``'s dtype, or a ValueError naming it."""
        if out is None:
            raise self._error(method, "returned None; expected an array")
        shape = tuple(getattr(out, "shape", ()))
        if shape not in shapes:
            raw_shape = f"the shape of raw {tuple(raw.shape)}"
            expected = raw_shape if len(shapes) == 1 else (
                f"({raw.shape[0]},) (one value per sample) or {raw_shape}"
            )
            raise self._error(method, f"returned shape {shape}, expected {expected}")
        dtype = out.dtype
        if dtype != raw.dtype:
            if not _is_floating(dtype):
                raise self._error(
                    method, f"returned an array of dtype {dtype}, expected "
                    f"floating values (the dtype of raw, {raw.dtype})"
                )
            out = _namespace(raw).astype(out, raw.dtype)
        return out

    def _finite(self, raw, outputs):
        # Any sound loss is finite at |raw| <= 100; larger decision values
        # are left to divergence detection.
        xp = _namespace(raw)
        if bool(xp.all(xp.abs(raw) <= 100.0)):
            for method, out in outputs:
                if not bool(xp.all(xp.isfinite(out))):
                    raise self._error(
                        method, "returned non-finite values (NaN or inf) for "
                        "finite decision values (|raw| <= 100) at the first "
                        "evaluation. Make the loss numerically stable;"
                    )

    def loss(self, y, raw):
        """Per-sample losses of ``raw``, checked (shape, dtype)."""
        value = self.loss_.loss(y, raw)
        key = (raw.shape, raw.dtype, getattr(value, "shape", None),
               getattr(value, "dtype", None))
        if key == self._passed_loss:
            return value
        n = raw.shape[0]
        value = self._array(value, "loss(y, raw)", raw, ((n,), tuple(raw.shape)))
        if not self.checked:
            self._finite(raw, (("loss(y, raw)", value),))
        elif value.dtype == key[3]:
            self._passed_loss = key
        return value

    def loss_gradient(self, y, raw):
        """Per-sample losses and their gradient, checked (shape, dtype)."""
        out = self.loss_.loss_gradient(y, raw)
        try:
            value, grad = out
            key = (raw.shape, raw.dtype, value.shape, value.dtype, grad.shape,
                   grad.dtype)
        except (TypeError, ValueError, AttributeError):
            key = None
        if key is not None and key == self._passed:
            # The shapes and dtypes of an output already checked: the same
            # verdict without re-deriving it (about 1 us of an epoch's ~10
            # on small data).
            return value, grad
        value, grad = self._checked_loss_gradient(out, y, raw)
        if key is not None and value.dtype == key[3] and grad.dtype == key[5]:
            self._passed = key  # (a cast output is checked every time)
        return value, grad

    def _checked_loss_gradient(self, out, y, raw):
        if self._fused and not (isinstance(out, tuple) and len(out) == 2):
            raise self._error(
                "loss_gradient(y, raw)",
                f"returned {type(out).__name__}; expected a pair (loss, gradient)",
            )
        value, grad = out
        n, shape = raw.shape[0], tuple(raw.shape)
        loss_name = "loss_gradient(y, raw)[0]" if self._fused else "loss(y, raw)"
        grad_name = "loss_gradient(y, raw)[1]" if self._fused else "gradient(y, raw)"
        value = self._array(value, loss_name, raw, ((n,), shape))
        grad = self._array(grad, grad_name, raw, (shape,))
        if not self.checked:
            self._finite(raw, ((loss_name, value), (grad_name, grad)))
            self.checked = True
        return value, grad
