"""The contract every training loss follows.

A loss maps targets ``y`` and raw predictions ``raw`` (decision values) to
per-sample losses. Two families share one contract:

* binary losses (``multiclass = False``) act elementwise: ``y`` holds 0/1
  floats with the shape of ``raw``, either ``(n_samples,)`` for a two-class
  problem or ``(n_samples, n_classes)`` for one-vs-rest, where the loss of a
  sample is the sum over its columns;
* multiclass losses (``multiclass = True``) take ``raw`` of shape
  ``(n_samples, n_classes)`` and ``y`` as one-hot (or soft) targets of the
  same shape.

Every method is written against the array namespace of its inputs, so the
same loss runs on NumPy, PyTorch or CuPy arrays.
"""

import copy

from sklearn.base import BaseEstimator


def _overrides(loss, name):
    """Whether the class of ``loss`` defines its own ``name`` method."""
    return getattr(type(loss), name) is not getattr(Loss, name)


def has_hessian(loss):
    """Whether ``loss`` has its own :meth:`Loss.hessian`."""
    return _overrides(loss, "hessian")


class Loss(BaseEstimator):
    """Base class of all training losses.

    Subclasses implement :meth:`loss` and :meth:`gradient` (and, for speed,
    :meth:`loss_gradient`), set the capability flags below, and take their
    hyperparameters as keyword arguments of ``__init__`` stored unchanged, as
    scikit-learn estimators do; ``get_params`` and ``set_params`` then work,
    so ``loss__gamma`` can be tuned in a grid search.

    Attributes
    ----------
    multiclass : bool
        True when the loss is natively multiclass (``raw`` has one column per
        class and the loss couples them). Binary losses run one-vs-rest on
        problems with three or more classes.
    is_convex : bool
        True when the loss is convex in ``raw``.
    smoothness : float or None
        An upper bound on the second derivative of the loss with respect to
        ``raw`` (the largest eigenvalue of its Hessian for multiclass losses),
        or None when the loss is not smooth. Solvers use it to pick safe
        step sizes.
    has_proba : bool
        True when :meth:`predict_proba` maps raw predictions to
        probabilities; the estimator exposes ``predict_proba`` only then.
    multinomial : str or None
        For binary losses, the registry name of the multiclass loss that
        generalises it (``"softmax_cross_entropy"`` for log loss); used when
        ``multi_class`` asks for a multinomial fit.
    thread_safe : bool
        True when :meth:`loss` and :meth:`gradient` may run from several
        threads at once (they keep no state on ``self`` between calls). An
        epoch over large dense data then shares its blocks between threads;
        a loss that does not say so (the default) is called from one thread.
        Built-in losses are thread-safe.
    positively_homogeneous : bool
        True when ``loss(y, c * raw) == c * loss(y, raw)`` for every
        ``c > 0`` (the perceptron criterion). The cost is then least at the
        zero model, whatever the penalty, so ``learning_rate="auto"`` trains
        such a loss as the perceptron algorithm (fixed steps in
        standardized coordinates, keeping the best epoch) instead of
        descending to zero. :func:`~skloss.check_loss` checks the claim.

    Examples
    --------
    >>> import numpy as np
    >>> from skloss import Loss
    >>> class SquaredMargin(Loss):
    ...     smoothness = 2.0
    ...     def loss(self, y, raw):
    ...         return (1 - (2 * y - 1) * raw) ** 2
    ...     def gradient(self, y, raw):
    ...         s = 2 * y - 1
    ...         return -2 * s * (1 - s * raw)
    >>> SquaredMargin().loss(np.array([1.0, 0.0]), np.array([0.5, 0.5]))
    array([0.25, 2.25])
    """

    multiclass = False
    is_convex = True
    smoothness = None
    has_proba = False
    multinomial = None
    thread_safe = False
    positively_homogeneous = False
    # Hyperparameter constraints, checked by ``_validate_params`` when the
    # estimator starts to fit (scikit-learn's _param_validation format).
    _parameter_constraints: dict = {}

    def __reduce_ex__(self, protocol):
        # Built-in losses pickle as usual. A user loss pickles through
        # skloss.losses._pickling._restore_loss, which finds its class again
        # in another process (import, registry name, or a by-value copy) and
        # fails with a message naming the loss when it cannot. The one lazy
        # import the layers allow (DESIGN.md): _pickling sits above _base.
        from ._pickling import reduce_loss

        return reduce_loss(self, protocol)

    def __copy__(self):
        new = type(self).__new__(type(self))
        new.__dict__.update(self.__dict__)
        return new

    def __deepcopy__(self, memo):
        new = type(self).__new__(type(self))
        memo[id(self)] = new
        new.__dict__.update(copy.deepcopy(self.__dict__, memo))
        return new

    def loss(self, y, raw):
        """Per-sample loss.

        Parameters
        ----------
        y : array of shape (n_samples,) or (n_samples, n_classes)
            Targets: 0/1 floats for binary losses, one-hot rows for
            multiclass losses.
        raw : array of the same shape as ``y``
            Raw predictions (decision values).

        Returns
        -------
        loss : array
            Binary losses return the elementwise loss (shape of ``raw``);
            multiclass losses return shape (n_samples,).
        """
        if _overrides(self, "loss_gradient"):
            return self.loss_gradient(y, raw)[0]
        raise NotImplementedError(
            f"{type(self).__name__} must implement loss(y, raw) (or "
            "loss_gradient(y, raw)); see the contract in skloss.Loss."
        )

    def gradient(self, y, raw):
        """Derivative of the loss with respect to ``raw``.

        Parameters
        ----------
        y : array of shape (n_samples,) or (n_samples, n_classes)
            Targets, as in :meth:`loss`.
        raw : array of the same shape as ``y``
            Raw predictions.

        Returns
        -------
        gradient : array of the shape of ``raw``
        """
        if _overrides(self, "loss_gradient"):
            return self.loss_gradient(y, raw)[1]
        raise NotImplementedError(
            f"{type(self).__name__} must implement gradient(y, raw) (or "
            "loss_gradient(y, raw)); see the contract in skloss.Loss."
        )

    def loss_gradient(self, y, raw):
        """Loss and gradient in one pass.

        The default calls :meth:`loss` and :meth:`gradient`; built-in losses
        override it to share the work. A loss may implement only this
        method: :meth:`loss` and :meth:`gradient` then derive from it.

        Parameters
        ----------
        y : array of shape (n_samples,) or (n_samples, n_classes)
            Targets, as in :meth:`loss`.
        raw : array of the same shape as ``y``
            Raw predictions.

        Returns
        -------
        loss : array
            As returned by :meth:`loss`.
        gradient : array of the shape of ``raw``
            As returned by :meth:`gradient`.
        """
        return self.loss(y, raw), self.gradient(y, raw)

    def hessian(self, y, raw):
        """Second derivative of the loss with respect to ``raw``.

        Optional. A binary loss that implements it (log loss, modified
        Huber, squared hinge) lets ``solver="gd"`` with
        ``learning_rate="auto"`` finish with Newton steps, which reach the
        optimum of a piecewise-quadratic cost exactly where gradient steps
        only approach it, and the last digits of a smooth one in a few. On
        large dense data, binary and multiclass losses that implement it
        (softmax cross-entropy) give "auto" the Hessian of its warm start's
        subsample, the initial matrix of its quasi-Newton steps.
        :func:`~skloss.check_loss` compares it with finite differences of
        :meth:`gradient`. At a kink of the gradient either one-sided value
        will do.

        Parameters
        ----------
        y : array of shape (n_samples,) or (n_samples, n_classes)
            Targets, as in :meth:`loss`.
        raw : array of the same shape as ``y``
            Raw predictions.

        Returns
        -------
        hessian : array
            Binary: of the shape of ``raw``, non-negative for a convex loss.
            Multiclass: of shape (n_samples, n_classes, n_classes), each
            sample's symmetric matrix of second derivatives with respect
            to its row of ``raw``.
        """
        raise NotImplementedError(
            f"{type(self).__name__} does not implement hessian(y, raw)."
        )

    def smoothed(self, mu):
        """A smooth loss within ``mu`` of this one, or None (the default).

        Optional, for a loss without a smoothness bound. One that returns a
        smooth approximation (smoothness about ``1 / mu``, never above the
        loss, at most ``mu`` below it) lets ``solver="gd"`` with
        ``learning_rate="auto"`` minimise the exact cost by smoothing
        continuation: descents on the approximations for ``mu`` decreasing
        tenfold, each from the last one's result, so that the kinked
        optimum is reached (with exact zeros under L1) where gradient steps
        on the kinked cost stall. The hinge returns its Moreau envelope
        (:class:`~skloss.losses.SmoothedHinge`).

        Parameters
        ----------
        mu : float
            The smoothing width, in units of the margin, > 0.

        Returns
        -------
        Loss or None
        """
        return None

    def predict_proba(self, raw):
        """Probabilities from raw predictions (only where ``has_proba``).

        Parameters
        ----------
        raw : array of shape (n_samples,) or (n_samples, n_classes)
            Raw predictions.

        Returns
        -------
        proba : array of the shape of ``raw``
            Binary losses return the probability of the positive class for
            each entry; multiclass losses return rows that sum to one.
        """
        raise AttributeError(
            f"The loss {type(self).__name__} has no probability link; use "
            "decision_function, or a loss such as 'log_loss'."
        )
