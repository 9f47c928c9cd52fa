"""Guards around a fit: state restored on error, warnings on the result."""

import functools
import os
import sys
import warnings
from numbers import Integral, Real

import joblib
import numpy as np
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval

from ._array_api import to_host

# Set by scikit-learn's callback machinery for the duration of a fit.
_CALLBACK_KEYS = ("_callback_fit_ctx", "_skl_callbacks_to_teardown")


def warn_if_separated(objective, theta, mode, coef):
    """Warn when no penalty bounds the weights and the fit separates the data.

    Without a penalty, perfectly separable training data have no finite
    minimiser of the cost: the weights grow with every epoch (the cost tends
    to its infimum only as they go to infinity). Training still stops (at
    ``tol`` or ``max_iter``) and nothing overflows, but the user should know.
    """
    xp = objective.xp
    raw = objective.raw(theta)
    y = objective.y
    weight = objective.sw
    if weight is not None:
        # A boolean mask as the sole index (the array API's only mask form).
        keep = weight > 0
        raw, y = raw[keep], y[keep]
    if mode == "multinomial":
        separated = bool(
            xp.all(xp.argmax(raw, axis=1) == xp.argmax(y, axis=1))
        )
    else:
        margins = (2.0 * y - 1.0) * raw
        # One-vs-rest: any one separable problem makes its weights diverge.
        separated = bool(xp.any(xp.all(margins > 0, axis=0)))
    if separated:
        warn_separated(coef)


def warn_separated(coef):
    """The ConvergenceWarning of :func:`warn_if_separated`, at the user's line."""
    warnings.warn(
        "The training data are perfectly separable and no penalty bounds "
        "the weights (penalty=None or alpha=0): the cost has no finite "
        "minimiser, so the weights keep growing with training (stopped at "
        f"max |coef| = {float(np.max(np.abs(to_host(coef)))):.3g}). "
        "Predictions are sound but probabilities are overconfident; use "
        "penalty='l2' with alpha > 0 for a unique, finite solution.",
        ConvergenceWarning,
        stacklevel=user_stacklevel(),
    )


def _generator_states(values):
    """The states of the ``RandomState`` instances among ``values``.

    A ``random_state`` given as a ``RandomState`` instance is used (and
    advanced) in place by a fit; a failed fit must not advance it, or the
    next call would draw other numbers than it would have.
    """
    return {
        key: (value, value.get_state(legacy=False))
        for key, value in values.items()
        if isinstance(value, np.random.RandomState)
    }


def _restore_generators(states):
    for generator, state in states.values():
        generator.set_state(state)


def keeps_state_on_error(method):
    """Restore every attribute of the estimator when ``method`` raises.

    ``validate_data(reset=True)`` sets ``n_features_in_`` and
    ``feature_names_in_`` before the data are fully checked; a failed fit
    (bad labels, weights, loss or divergence) must leave a previously fitted
    model exactly as it was. A random generator passed as ``random_state``
    is put back to the state it had before the call.

    Apply it outside scikit-learn's ``_fit_context``, whose callback
    teardown can raise after ``method`` returned: that error, too, leaves
    the model as it was before the call.
    """

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        saved = {
            key: value.copy() if isinstance(value, (np.ndarray, list)) else value
            for key, value in vars(self).items()
        }
        generators = _generator_states(saved)
        try:
            return method(self, *args, **kwargs)
        except BaseException:
            # A callback context still set (an error inside _fit_context,
            # when this wraps the bare method) stays, so that _fit_context
            # can still tear the callbacks down.
            live = {k: v for k, v in vars(self).items() if k in _CALLBACK_KEYS}
            vars(self).clear()
            vars(self).update(saved)
            vars(self).update(live)
            _restore_generators(generators)
            raise

    return wrapper


class RealInterval(Interval):
    """scikit-learn's ``Interval`` that also checks any other real number.

    ``Interval`` calls ``np.isnan`` on the value, which raises a TypeError
    for a real number NumPy does not know (``fractions.Fraction``); such a
    value is checked as the float it stands for. The estimator converts it
    with ``float`` where it is used.

    Examples
    --------
    >>> from fractions import Fraction
    >>> from numbers import Real
    >>> from skloss._fit_utils import RealInterval
    >>> RealInterval(Real, 0, None, closed="neither").is_satisfied_by(
    ...     Fraction(1, 10))
    True
    """

    def __contains__(self, val):
        if isinstance(val, Real) and not isinstance(val, (Integral, float)):
            val = float(val)
        return super().__contains__(val)


_FORMS = {
    "binary": "a binary model (one decision function)",
    "ovr": "a one-vs-rest model ({k} decision functions)",
    "multinomial": "a multinomial model ({k} coupled decision functions)",
}


def check_same_form(action, fix, previous, current):
    """Raise when a model cannot continue because its form changed.

    Same classes and features, but another number of decision functions:
    the loss or ``multi_class`` was changed between calls (log loss fits
    one decision function for two classes, a multiclass loss such as
    "softmax_cross_entropy" one per class).

    Parameters
    ----------
    action : str
        What cannot continue ("warm_start=True", "partial_fit").
    fix : str
        The way out, a sentence.
    previous, current : tuple
        ``(mode, theta_shape, loss)`` of the fitted model and of this call.

    Examples
    --------
    >>> from skloss._fit_utils import check_same_form
    >>> from skloss.losses import get_loss
    >>> check_same_form("partial_fit", "Call fit.",
    ...     ("binary", (4, 1), get_loss("log_loss")),
    ...     ("multinomial", (4, 2), get_loss("softmax_cross_entropy")))
    Traceback (most recent call last):
    ...
    ValueError: partial_fit cannot continue a binary model (one decision ...
    """
    (mode_before, shape_before, loss_before), (mode, shape, loss) = previous, current
    if tuple(shape_before) == tuple(shape):
        return
    before = _FORMS[mode_before].format(k=shape_before[1])
    after = _FORMS[mode].format(k=shape[1])
    raise ValueError(
        f"{action} cannot continue {before}, fitted with the loss "
        f"{type(loss_before).__name__}, as {after}: the loss "
        f"{type(loss).__name__} with these classes trains that form. {fix}"
    )


def quiet_floating_point(method):
    """Run a training method with NumPy's floating-point warnings off.

    Training detects what matters itself: a non-finite cost or gradient is
    a :class:`~skloss.DivergenceError` naming the epoch, a loss's
    non-finite output a ValueError naming the loss. What is left are
    benign events (an ``exp`` underflowing to zero, a step too large
    overflowing before divergence is reported), which would otherwise
    escape as RuntimeWarnings, or as FloatingPointErrors under the user's
    ``np.errstate(all="raise")``, from inside skloss.
    """

    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        with np.errstate(all="ignore"):
            return method(*args, **kwargs)

    return wrapper


# Frames in these directories are skloss's, scikit-learn's and joblib's
# (_fit_context, set_output, meta-estimators, a search's parallel loop): a
# warning names the first frame outside them, the user's line.
_LIBRARY_DIRS = tuple(
    os.path.dirname(os.path.abspath(module.__file__)) + os.sep
    for module in (sys.modules[__package__], sklearn, joblib)
)


def user_stacklevel():
    """The ``stacklevel`` that attributes a warning to the user's line.

    Counted from the caller of :func:`warnings.warn` (the function that
    calls this one) to the first frame outside skloss and scikit-learn, so
    it stays right however many wrappers a fit passes through (Python
    3.12's ``skip_file_prefixes`` does this, for 3.12 and later only). In a
    grid search's worker process no user frame exists: the outermost frame.

    Examples
    --------
    >>> from skloss._fit_utils import user_stacklevel
    >>> user_stacklevel()  # called from a doctest: the caller is the user
    1
    """
    frame = sys._getframe(1)
    level = 1
    while frame is not None and os.path.abspath(
        frame.f_code.co_filename
    ).startswith(_LIBRARY_DIRS):
        frame = frame.f_back
        level += 1
    return level


def warn_if_not_converged(estimator, result, objective, scaler="StandardScaler"):
    """ConvergenceWarning at the user's line when a fit ran out of epochs.

    As in SGDClassifier, ``tol=None`` means "run max_iter epochs": no
    warning. The advice to scale the features appears only when they are
    not standardized already (``scaler`` names the tool).
    """
    if estimator.tol is None or result.converged or result.stopped_by_callback:
        return
    advice = "Increase max_iter or loosen tol"
    if not objective.looks_standardized():
        advice += f", or scale the features (e.g. with {scaler})"
    warnings.warn(
        f"{type(estimator).__name__} did not converge in max_iter="
        f"{estimator.max_iter} epochs (last cost {result.loss_curve[-1]:.6g}). "
        f"{advice}.",
        ConvergenceWarning,
        stacklevel=user_stacklevel(),
    )


def warn_if_zero_model(estimator):
    """Warn when a fit ends at the all-zero model, saying why and what helps.

    Every step training takes starts from the gradient of the cost, so a fit
    that ends exactly at W = 0 found that zero minimises the cost: a penalty
    strong enough to outweigh the data, or a loss least at zero.
    """
    if np.any(to_host(estimator.coef_) != 0) or np.any(
        to_host(estimator.intercept_) != 0
    ):
        return
    warnings.warn(
        f"{type(estimator).__name__} ended at the all-zero model (every "
        "sample gets the same class): W = 0 already minimises the cost of "
        f"loss={estimator.loss!r} with penalty={estimator.penalty!r} and "
        f"alpha={estimator.alpha:g}, so training had nothing to improve. "
        "Lower alpha or set penalty=None. A custom loss whose cost is least "
        "at zero for every model scale (such as the perceptron criterion) "
        "should declare positively_homogeneous = True, which makes "
        "learning_rate='auto' run the perceptron algorithm.",
        UserWarning,
        stacklevel=user_stacklevel(),
    )
