"""GDLogisticClassifier: the scikit-learn contract around the objective."""

import functools
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state, compute_class_weight
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from ._objective import LinearObjective
from ._penalties import make_penalty
from .losses import Loss, get_loss, get_loss_class
from .optim import SOLVERS, make_solver


def _has_proba(estimator):
    """Whether the loss in use maps decision values to probabilities.

    Raises an AttributeError naming the loss when it has no link; scikit-learn
    chains it as the cause of "has no attribute 'predict_proba'".
    """
    loss = getattr(estimator, "loss_", None)
    if loss is None:
        loss = estimator._resolve_base_loss()
    if not loss.has_proba:
        raise AttributeError(
            f"The loss {type(loss).__name__} has no probability link "
            "(has_proba is False), so predict_proba is not available; use "
            "decision_function, or a loss such as 'log_loss'."
        )
    return True


def _keeps_state_on_error(method):
    """Restore every attribute of the estimator when ``method`` raises.

    ``validate_data(reset=True)`` sets ``n_features_in_`` and
    ``feature_names_in_`` before the data are fully checked; a failed fit
    (bad labels, weights, loss or divergence) must leave a previously fitted
    model exactly as it was.
    """

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        saved = {
            key: value.copy() if isinstance(value, (np.ndarray, list)) else value
            for key, value in vars(self).items()
        }
        try:
            return method(self, *args, **kwargs)
        except BaseException:
            vars(self).clear()
            vars(self).update(saved)
            raise

    return wrapper


class GDLogisticClassifier(ClassifierMixin, BaseEstimator):
    """Linear classifier trained by gradient descent on a pluggable loss.

    The cost is the (sample- and class-weighted) mean loss over samples plus a
    penalty on the coefficients,

    .. math::
        F(W, b) = \\frac{\\sum_i s_i\\, \\ell(y_i, x_i^\\top W + b)}{\\sum_i s_i}
                  + \\alpha R(W),

    minimised from initial weights by following its gradient. The loss
    :math:`\\ell` comes from the registry (:func:`~skloss.register_loss`), so
    it can be chosen, compared and tuned like any other hyperparameter. With
    ``loss="log_loss"``, ``penalty="l2"`` and ``alpha = 1 / (C * n_samples)``
    the optimum is that of ``LogisticRegression(C=C)``.

    Parameters
    ----------
    loss : str or Loss, default="log_loss"
        A registered loss name (see :func:`~skloss.available_losses`) or a
        :class:`~skloss.Loss` instance. Its hyperparameters are nested
        parameters (``loss__gamma``).
    penalty : {"l2", "l1", "elasticnet"} or None, default="l2"
        The penalty :math:`R`: ``0.5 * ||W||^2`` for "l2", ``||W||_1`` for
        "l1" (proximal steps give exact zeros), their ``l1_ratio`` mix for
        "elasticnet", none for None. The intercept is never penalised.
    alpha : float, default=1e-4
        Regularization strength (SGDClassifier's convention).
    l1_ratio : float, default=0.15
        The L1 share of "elasticnet", in [0, 1].
    fit_intercept : bool, default=True
        Whether to fit an intercept.
    solver : {"gd"}, default="gd"
        "gd" is full-batch (proximal) gradient descent.
    learning_rate : float or "auto", default="auto"
        A float is a fixed step size (textbook gradient descent). "auto"
        starts from ``1 / L``, L a bound on the smoothness of the cost, then
        takes Barzilai-Borwein steps safeguarded by a backtracking line
        search: safe and fast without tuning.
    max_iter : int, default=1000
        Maximum number of epochs (full passes over the data).
    tol : float or None, default=1e-6
        Training stops when the largest entry of the (proximal) gradient is
        at most ``tol``, or when the cost has not improved by ``tol`` for
        ``n_iter_no_change`` consecutive epochs. None disables both.
    n_iter_no_change : int, default=5
        See ``tol``.
    init : {"zeros", "random"}, default="zeros"
        Initial coefficients: zeros, or small Gaussian values (standard
        deviation 0.01) drawn from ``random_state``. The intercept starts at 0.
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, multiplied into ``sample_weight``; "balanced"
        uses ``n_samples / (n_classes * np.bincount(y))``.
    multi_class : {"auto", "ovr", "multinomial"}, default="auto"
        With three or more classes: "multinomial" fits one coupled model
        (the loss's multinomial form, e.g. softmax cross-entropy for log
        loss); "ovr" fits one binary problem per class, vectorised as one
        matrix; "auto" is multinomial where the loss has such a form.
    warm_start : bool, default=False
        Whether ``fit`` starts from the previous solution.
    random_state : int, RandomState instance or None, default=None
        Seeds ``init="random"``.
    verbose : int, default=0
        Print one line per epoch when positive.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Coefficients, in the dtype of the training data.
    intercept_ : ndarray of shape (1,) or (n_classes,)
        Intercepts.
    n_iter_ : int
        Epochs run by the last fit.
    loss_curve_ : list of float
        The cost after each epoch of the last fit.
    loss_ : Loss
        The loss instance used in training (the multinomial form where one
        was used).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during fit, when X had string column
        names.

    See Also
    --------
    sklearn.linear_model.LogisticRegression : The same optimum for log loss
        and an L2 penalty, with second-order solvers.
    sklearn.linear_model.SGDClassifier : Stochastic gradient descent on a
        fixed set of losses.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skloss import GDLogisticClassifier
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> clf = make_pipeline(StandardScaler(), GDLogisticClassifier()).fit(X, y)
    >>> round(clf.score(X, y), 2)
    0.99
    """

    _parameter_constraints: dict = {
        "loss": [str, Loss],
        "penalty": [StrOptions({"l2", "l1", "elasticnet"}), None],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "fit_intercept": ["boolean"],
        "solver": [StrOptions(set(SOLVERS))],
        "learning_rate": [
            Interval(Real, 0, None, closed="neither"),
            StrOptions({"auto"}),
        ],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left"), None],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "init": [StrOptions({"zeros", "random"})],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "multi_class": [StrOptions({"auto", "ovr", "multinomial"})],
        "warm_start": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        loss="log_loss",
        *,
        penalty="l2",
        alpha=1e-4,
        l1_ratio=0.15,
        fit_intercept=True,
        solver="gd",
        learning_rate="auto",
        max_iter=1000,
        tol=1e-6,
        n_iter_no_change=5,
        init="zeros",
        class_weight=None,
        multi_class="auto",
        warm_start=False,
        random_state=None,
        verbose=0,
    ):
        self.loss = loss
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.init = init
        self.class_weight = class_weight
        self.multi_class = multi_class
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose

    # -- parameters -------------------------------------------------------
    def set_params(self, **params):
        """Set parameters; ``loss__<name>`` also works when ``loss`` is a name.

        A loss given by name is replaced by an instance of the registered
        class carrying the nested hyperparameters, so grids such as
        ``{"loss": ["focal"], "loss__gamma": [1, 2]}`` work.

        Parameters
        ----------
        **params : dict
            Estimator parameters.

        Returns
        -------
        self : GDLogisticClassifier
        """
        nested = {k: v for k, v in params.items() if k.startswith("loss__")}
        rest = {k: v for k, v in params.items() if not k.startswith("loss__")}
        super().set_params(**rest)
        if nested:
            sub = {k[len("loss__"):]: v for k, v in nested.items()}
            if isinstance(self.loss, str):
                self.loss = get_loss(self.loss)
            valid = self.loss.get_params()
            unknown = sorted(set(sub) - set(valid))
            if unknown:
                raise ValueError(
                    f"The loss {type(self.loss).__name__} has no "
                    f"hyperparameter(s) {unknown}; its hyperparameters are "
                    f"{sorted(valid)}."
                )
            self.loss.set_params(**sub)
        return self

    def _resolve_base_loss(self):
        """A fresh Loss instance for the ``loss`` parameter."""
        if isinstance(self.loss, Loss):
            return clone(self.loss)
        return get_loss(self.loss)

    def _resolve_loss(self, n_classes):
        """The loss to train with and the problem form.

        Returns ``(loss, mode)`` with mode "binary", "ovr" or "multinomial".
        """
        loss = self._resolve_base_loss()
        name = type(loss).__name__
        if loss.multiclass:
            if self.multi_class == "ovr":
                raise ValueError(
                    f"The loss {name} is natively multiclass and has no "
                    "one-vs-rest form; use multi_class='auto' or "
                    "'multinomial', or a binary loss such as 'log_loss'."
                )
            return loss, "multinomial"
        if n_classes <= 2:
            return loss, "binary"
        if self.multi_class in ("auto", "multinomial") and loss.multinomial:
            cls = get_loss_class(loss.multinomial)
            accepted = cls().get_params()
            shared = {k: v for k, v in loss.get_params().items() if k in accepted}
            return cls(**shared), "multinomial"
        if self.multi_class == "multinomial":
            raise ValueError(
                f"The loss {name} has no multinomial form; use "
                "multi_class='ovr' (one-vs-rest) or a multiclass loss such as "
                "'softmax_cross_entropy'."
            )
        return loss, "ovr"

    # -- fit --------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    @_keeps_state_on_error
    def fit(self, X, y, sample_weight=None):
        """Fit the model by gradient descent.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; float32 data trains in float32, CSR is never
            densified.
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights, not all zero.

        Returns
        -------
        self : GDLogisticClassifier
            The fitted estimator.
        """
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse="csr",
            dtype=[np.float64, np.float32],
            reset=True,
        )
        try:
            check_classification_targets(y)
            classes, y_idx = np.unique(y, return_inverse=True)
        except TypeError:
            kinds = sorted({type(label).__name__ for label in y.tolist()})
            raise ValueError(
                f"y has a mix of label types ({', '.join(kinds)}) that cannot "
                "be sorted; use labels of one type (all strings or all "
                "numbers)."
            ) from None
        if classes.shape[0] < 2:
            raise ValueError(
                "This solver needs samples of at least 2 classes in the data, "
                f"but the data contains only one class: {classes[0]!r}. Pass "
                "data with at least two classes."
            )
        sample_weight = self._sample_weight(sample_weight, X, y, classes)
        loss, mode = self._resolve_loss(classes.shape[0])
        targets = self._targets(y_idx, classes.shape[0], mode, X.dtype)
        objective = LinearObjective(
            loss,
            X,
            targets,
            sample_weight=sample_weight,
            penalty=make_penalty(self.penalty, self.alpha, self.l1_ratio),
            fit_intercept=self.fit_intercept,
        )
        theta0 = objective.from_model(self._initial_theta(objective, classes, mode))
        solver = make_solver(
            self.solver,
            learning_rate=self.learning_rate,
            max_iter=self.max_iter,
            tol=self.tol,
            n_iter_no_change=self.n_iter_no_change,
            verbose=self.verbose,
        )
        result = solver.minimize(objective, theta0)
        result.theta = objective.to_model(result.theta)
        # Only now, after training succeeded, replace the fitted state.
        self._store(result, classes, loss, mode)
        # As in SGDClassifier, tol=None means "run max_iter epochs": no warning.
        if self.tol is not None and not (
            result.converged or result.stopped_by_callback
        ):
            warnings.warn(
                f"{type(self).__name__} did not converge in max_iter="
                f"{self.max_iter} epochs (last cost {result.loss_curve[-1]:.6g}). "
                "Increase max_iter, loosen tol, or scale the features "
                "(e.g. with StandardScaler).",
                ConvergenceWarning,
            )
        return self

    def _sample_weight(self, sample_weight, X, y, classes):
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=X.dtype, ensure_non_negative=True
            )
        if sample_weight is not None:
            present = np.unique(y[sample_weight > 0])
            if present.shape[0] < 2:
                raise ValueError(
                    "Samples of at least 2 classes need a positive sample "
                    f"weight, but only class(es) {present.tolist()} have one. "
                    "Give samples of at least two classes a positive weight."
                )
        if isinstance(self.class_weight, dict):
            known = set(classes.tolist())
            unknown = [label for label in self.class_weight if label not in known]
            if unknown:
                raise ValueError(
                    f"class_weight has label(s) {unknown} that are not classes "
                    f"of y (classes: {classes.tolist()}). Use the labels of y "
                    "as keys."
                )
        if self.class_weight is not None:
            # Weighted class counts keep "balanced" consistent with sample
            # weights: an integer weight equals repeating the sample.
            cw = compute_class_weight(
                self.class_weight, classes=classes, y=y, sample_weight=sample_weight
            )
            if np.any(cw < 0) or not np.all(np.isfinite(cw)):
                raise ValueError(
                    f"class_weight must be finite and non-negative, got {cw}."
                )
            per_sample = cw[np.searchsorted(classes, y)].astype(X.dtype)
            if sample_weight is None:
                sample_weight = per_sample
            else:
                sample_weight = sample_weight * per_sample
        if sample_weight is not None and not np.sum(sample_weight) > 0:
            raise ValueError(
                "The sample weights (times class weights) sum to zero, so the "
                "cost is undefined. Give at least one sample a positive weight."
            )
        return sample_weight

    @staticmethod
    def _targets(y_idx, n_classes, mode, dtype):
        if mode == "binary":
            return (y_idx == 1).astype(dtype)
        onehot = np.zeros((y_idx.shape[0], n_classes), dtype=dtype)
        onehot[np.arange(y_idx.shape[0]), y_idx] = 1.0
        return onehot

    def _initial_theta(self, objective, classes, mode):
        theta = objective.zeros()
        if self.warm_start and hasattr(self, "_theta"):
            if not (
                np.array_equal(self.classes_, classes)
                and self._theta.shape == theta.shape
            ):
                raise ValueError(
                    "warm_start=True needs the same classes and number of "
                    f"features as the previous fit (classes {self.classes_}, "
                    f"{self._theta.shape[0] - 1} features), got classes "
                    f"{classes} and {objective.n_features} features. "
                    "Set warm_start=False to train a new model."
                )
            return np.array(self._theta, dtype=theta.dtype, copy=True)
        if self.init == "random":
            rng = check_random_state(self.random_state)
            theta[:-1, :] = rng.normal(scale=0.01, size=theta[:-1, :].shape)
        return theta

    def _store(self, result, classes, loss, mode):
        theta = result.theta
        self._theta = theta
        W, b = theta[:-1, :], theta[-1, :]
        if mode == "multinomial" and classes.shape[0] == 2:
            # Report a two-class multinomial model by its decision difference.
            self.coef_ = (W[:, 1] - W[:, 0])[None, :]
            self.intercept_ = np.asarray([b[1] - b[0]])
        else:
            self.coef_ = np.ascontiguousarray(W.T)
            self.intercept_ = np.array(b)
        self.classes_ = classes
        self.loss_ = loss
        self._mode = mode
        self.n_iter_ = result.n_iter
        self.loss_curve_ = list(result.loss_curve)

    # -- predict ----------------------------------------------------------
    def decision_function(self, X):
        """Decision values ``X @ coef_.T + intercept_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            For two classes, the score of ``classes_[1]``.
        """
        check_is_fitted(self)
        X = validate_data(
            self, X, accept_sparse="csr", dtype=[np.float64, np.float32],
            reset=False,
        )
        scores = X @ self.coef_.T + self.intercept_
        if sp.issparse(scores):  # pragma: no cover - defensive
            scores = scores.toarray()
        return scores.ravel() if scores.shape[1] == 1 else scores

    def predict(self, X):
        """Predicted class labels.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return self.classes_[(scores > 0).astype(int)]
        return self.classes_[np.argmax(scores, axis=1)]

    @available_if(_has_proba)
    def predict_proba(self, X):
        """Class probabilities through the loss's link.

        Only available for losses with a probability link (``has_proba``).
        One-vs-rest probabilities are normalised to sum to one.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        scores = self.decision_function(X)
        loss = self.loss_
        if self._mode == "multinomial":
            if scores.ndim == 1:
                scores = np.column_stack([np.zeros_like(scores), scores])
            return np.asarray(loss.predict_proba(scores))
        p = np.asarray(loss.predict_proba(scores))
        if p.ndim == 1:
            return np.column_stack([1.0 - p, p])
        total = p.sum(axis=1, keepdims=True)
        uniform = np.full_like(p, 1.0 / p.shape[1])
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total > 0, p / total, uniform)

    @available_if(_has_proba)
    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.classifier_tags.multi_class = True
        return tags
