"""The model's parameters: theta <-> coef_ / intercept_, init and warm start.

Solvers work on one array ``theta`` of shape ``(n_features + 1, K)`` (the
coefficients, then the intercept row); users see scikit-learn's ``coef_``
``(n_classes or 1, n_features)`` and ``intercept_``. This module maps one to
the other, and chooses where training starts: zeros, a small random draw, or
(warm start and partial_fit) the public ``coef_`` and ``intercept_`` as they
are now, which a user may have assigned or edited in place, as with
scikit-learn's linear models.
"""

import numpy as np

from ._array_api import is_numpy, namespace_and_device, to_device, to_host
from ._fit_utils import check_same_form


def model_attributes(theta, classes, loss, mode):
    """The fitted attributes of model parameters ``theta`` (W; b).

    ``coef_`` and ``intercept_`` are copies: editing them never edits
    ``theta``. A two-class multinomial model is reported by its decision
    difference (one row), as scikit-learn does.

    Examples
    --------
    >>> import numpy as np
    >>> from skloss._model import model_attributes
    >>> theta = np.array([[1.0], [2.0], [0.5]])
    >>> attrs = model_attributes(theta, np.array([0, 1]), None, "binary")
    >>> attrs["coef_"], attrs["intercept_"]
    (array([[1., 2.]]), array([0.5]))
    """
    xp, _ = namespace_and_device(theta)
    W, b = theta[:-1, :], theta[-1, :]
    if mode == "multinomial" and classes.shape[0] == 2:
        coef = (W[:, 1] - W[:, 0])[None, :]
        intercept = xp.reshape(b[1] - b[0], (1,))
    elif is_numpy(xp):
        coef = np.array(W.T, order="C")
        intercept = np.array(b)
    else:
        coef = xp.asarray(W.T, copy=True)
        intercept = xp.asarray(b, copy=True)
    return {
        "coef_": coef,
        "intercept_": intercept,
        "classes_": classes,
        "loss_": loss,
        "_mode": mode,
        "_theta": theta,
    }


def _same(a, b):
    xp, _ = namespace_and_device(b)
    return tuple(a.shape) == tuple(b.shape) and bool(xp.all(a == b))


def public_theta(estimator, xp, device, dtype):
    """Model parameters ``theta`` of the estimator's current ``coef_`` and
    ``intercept_``, in namespace ``xp`` on ``device``.

    While they are those training stored, the stored ``theta`` itself (a
    two-class multinomial model has two columns for its one ``coef_`` row:
    they are kept); after a user changed them, ``theta`` is rebuilt from
    them. Raises a ValueError naming the attribute of a wrong shape.
    """
    theta = estimator._theta
    stored = model_attributes(theta, estimator.classes_, None, estimator._mode)
    coef, intercept = estimator.coef_, estimator.intercept_
    if not (_same(coef, stored["coef_"]) and _same(intercept, stored["intercept_"])):
        for name, value, want in (
            ("coef_", coef, stored["coef_"]), ("intercept_", intercept,
                                               stored["intercept_"]),
        ):
            if tuple(getattr(value, "shape", ())) != tuple(want.shape):
                raise ValueError(
                    f"{name} has shape {tuple(getattr(value, 'shape', ()))}; "
                    f"this model needs {tuple(want.shape)}. Assign an array "
                    "of that shape, or set warm_start=False (fit) to train "
                    "a new model."
                )
        theta = np.array(to_host_array(theta), copy=True)
        coef, intercept = to_host_array(coef), to_host_array(intercept)
        if theta.shape[1] == 2 and coef.shape[0] == 1:
            # Two-class multinomial: the decision difference on the second
            # column, the first at zero (the same predictions and cost).
            theta[:-1, 0], theta[-1, 0] = 0.0, 0.0
            theta[:-1, 1], theta[-1, 1] = coef[0], intercept[0]
        else:
            theta[:-1, :], theta[-1, :] = coef.T, intercept
    return xp.asarray(to_device(theta, xp, device), dtype=dtype, copy=True)


def continued_theta(estimator, objective, mode, loss):
    """The model parameters partial_fit continues from, checked.

    The public ``coef_`` and ``intercept_`` (see :func:`public_theta`), in
    the objective's namespace, device and dtype. A model of another form
    (loss, multiclass mode or number of classes or features) is a
    ValueError that says why and how to start a new one.
    """
    theta0 = objective.zeros()
    previous = estimator._theta
    if previous.shape != theta0.shape:
        if previous.shape[0] == theta0.shape[0]:
            check_same_form(
                "partial_fit", "Call fit to train a new model.",
                (estimator._mode, previous.shape, estimator.loss_),
                (mode, theta0.shape, loss),
            )
        raise ValueError(
            "partial_fit cannot continue this model: its "
            f"parameters have shape {previous.shape}, this "
            f"data needs {theta0.shape}."
        )
    xp, device = namespace_and_device(theta0)
    return public_theta(estimator, xp, device, theta0.dtype)


def to_host_array(array):
    """``array`` as a NumPy array (from any namespace and device)."""
    return np.asarray(to_host(array))


def initial_theta(estimator, objective, classes, mode, rng):
    """Model parameters to start a fit from (warm start, zeros or random).

    Parameters
    ----------
    estimator : GDLogisticClassifier
        Its ``warm_start``, ``init`` and ``fit_intercept``, and for a warm
        start its fitted ``classes_``, ``coef_`` and ``intercept_``.
    objective : LinearObjective
        Gives the shape, dtype and device of ``theta``.
    classes : array
        The classes of this fit.
    mode : {"binary", "ovr", "multinomial"}
        The form of this fit's loss (a warm start keeps the form).
    rng : numpy.random.RandomState
        Draws ``init="random"``.
    """
    theta = objective.zeros()
    xp, device = namespace_and_device(theta)
    if estimator.warm_start and hasattr(estimator, "_theta"):
        previous = estimator._theta
        if not (
            np.array_equal(estimator.classes_, classes)
            and previous.shape == theta.shape
        ):
            if (np.array_equal(estimator.classes_, classes)
                    and previous.shape[0] == theta.shape[0]):
                check_same_form(
                    "warm_start=True",
                    "Set warm_start=False to train a new model.",
                    (estimator._mode, previous.shape, estimator.loss_),
                    (mode, theta.shape, objective.loss),
                )
            raise ValueError(
                "warm_start=True needs the same classes and number of "
                f"features as the previous fit (classes {estimator.classes_}, "
                f"{previous.shape[0] - 1} features), got classes "
                f"{classes} and {objective.n_features} features. "
                "Set warm_start=False to train a new model."
            )
        theta = public_theta(estimator, xp, device, theta.dtype)
        if not estimator.fit_intercept:
            # No intercept is fitted, so the model has none (as in
            # LogisticRegression), not the previous fit's frozen one.
            theta[-1, :] = 0.0
        return theta
    if estimator.init == "random":
        # Drawn on the host, so every namespace starts from the same point.
        init = rng.normal(scale=0.01, size=tuple(theta[:-1, :].shape))
        theta[:-1, :] = to_device(init, xp, device, dtype=theta.dtype)
    return theta
