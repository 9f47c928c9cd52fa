"""GDLogisticClassifier: the scikit-learn contract around the objective."""

import copy
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from ._array_api import bincount, take_rows
from ._callbacks import CallbackSupportMixin
from ._dask import is_dask_array
from ._dask_fit import fit_dask
from ._fit_utils import (
    RealInterval,
    keeps_state_on_error,
    quiet_floating_point,
    warn_if_not_converged,
    warn_if_separated,
    warn_if_zero_model,
)
from ._holdout import accuracy_scorer, validation_split
from ._labels import stream_classes
from ._model import continued_theta, initial_theta
from ._nested_params import NestedLossParamsMixin
from ._persistence import PersistenceMixin
from ._predict import LinearPredictMixin
from ._training import TrainingMixin
from ._weights import check_sample_weight, fit_sample_weight, running_sample_weight
from .losses import Loss
from .optim import (
    SCHEDULES,
    SOLVERS,
    EarlyStopping,
)


class GDLogisticClassifier(
    NestedLossParamsMixin, CallbackSupportMixin, TrainingMixin,
    LinearPredictMixin, PersistenceMixin, ClassifierMixin, BaseEstimator,
):
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
    solver : {"gd", "nesterov", "sgd", "adam"}, default="gd"
        "gd" is full-batch (proximal) gradient descent; "nesterov" is
        full-batch accelerated proximal gradient (FISTA) with adaptive
        restart; "sgd" is mini-batch proximal stochastic gradient descent
        with ``momentum``; "adam" is mini-batch Adam. L1 parts of the
        penalty are applied by proximal steps with every solver, so
        ``coef_`` has exact zeros. See :ref:`training`.
    learning_rate : float or "auto", default="auto"
        A float is a fixed base step size, multiplied by the ``schedule``'s
        factor at each epoch (textbook gradient descent with "gd"). "auto"
        picks a step that cannot diverge, whatever the scaling of the
        data: for "gd", ``1 / L`` (L a bound on the smoothness of the cost)
        then limited-memory BFGS steps on smooth costs without L1 and
        Barzilai-Borwein steps otherwise, safeguarded by a backtracking
        line search; for "nesterov", backtracking from ``1 / L``; for "sgd",
        ``(1 - momentum) / L_max`` with ``L_max`` the largest per-sample
        smoothness, so every mini-batch step descends; for "adam", 0.01
        (Adam's steps do not depend on the gradient's scale). With "gd"
        and "nesterov", "auto" ignores ``schedule``.
    schedule : {"constant", "invscaling", "exponential", "cosine", \
            "adaptive"} or callable, default="constant"
        Factor of the step size per epoch ``t`` (0-based, counted across
        ``partial_fit`` calls): 1; ``1 / sqrt(t + 1)``; ``0.99 ** t``;
        cosine annealing from 1 to 0 over ``max_iter`` epochs; or 1,
        divided by 5 after ``n_iter_no_change`` epochs without improvement
        of the training cost by ``tol`` (as SGDClassifier's "adaptive";
        training ends at a plateau once the factor is below 1e-6). A
        callable ``epoch -> factor`` or a :class:`skloss.optim.Schedule`
        instance (e.g. ``ExponentialSchedule(gamma=0.9)``) is used as is.
    momentum : float, default=0.0
        Momentum of "sgd", in [0, 1); the other solvers ignore it.
    nesterov : bool, default=False
        Whether "sgd" uses Nesterov's look-ahead momentum (with
        ``momentum > 0``). For Nesterov acceleration of full-batch descent
        use ``solver="nesterov"``.
    batch_size : int or None, default=None
        The most samples per mini-batch of "sgd" and "adam". None means
        256, or on large data as many rows as fill 1 MiB, but no more than
        ``n_samples / 64`` (1,310 of 150,000 x 100 float64 rows): each step
        has a fixed cost, which small batches of large data pay thousands
        of times an epoch. Each epoch is cut into
        ``ceil(n_samples / batch_size)`` batches of equal size (within one
        sample). Full-batch solvers ignore it.
    max_iter : int, default=1000
        Maximum number of epochs (full passes over the data).
    tol : float or None, default=1e-5
        Training stops when the largest entry of the (proximal) gradient is
        at most ``tol`` ("gd", "nesterov"; with ``learning_rate="auto"``
        the gradient in standardized features), or when the cost has not
        improved on the best epoch's by ``tol`` for ``n_iter_no_change``
        consecutive epochs. With ``early_stopping``, the improvement of the
        validation score that counts. None disables every stopping test,
        early stopping included (as in SGDClassifier): training runs
        ``max_iter`` epochs, still scoring each one into
        ``validation_scores_``. The default stops at about the accuracy of
        LogisticRegression (whose lbfgs bounds the largest gradient entry
        at 1e-4), at or below its cost on the problems of
        :doc:`/performance`; lower it for the optimum to more digits.
    n_iter_no_change : int, default=5
        See ``tol``.
    early_stopping : bool, default=False
        Hold out a stratified ``validation_fraction`` of the training data,
        score the model on it (accuracy, sample-weighted) after each epoch
        into ``validation_scores_``, stop after ``n_iter_no_change`` epochs
        without improvement by ``tol``, and keep the weights of the best
        epoch. Ignored by ``partial_fit``.
    validation_fraction : float, default=0.1
        The held-out share for ``early_stopping``, in (0, 1).
    shuffle : bool, default=True
        Whether "sgd" and "adam" visit the samples in a new order each
        epoch (drawn from ``random_state``).
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
        Seeds ``init="random"``, the validation split of
        ``early_stopping`` and the mini-batch order; an int gives
        bit-identical models for every solver.
    verbose : int, default=0
        Print one line per epoch when positive: epoch, cost, step size and
        elapsed time.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Coefficients, in the dtype of the training data.
    intercept_ : ndarray of shape (1,) or (n_classes,)
        Intercepts.
    n_iter_ : int
        Epochs run by the last fit; ``partial_fit`` adds one per call.
    loss_curve_ : list of float
        The cost of each epoch of the last fit (``partial_fit`` appends
        one entry per call): the full cost after the epoch for "gd" and
        "nesterov" (and for mini-batch solvers with a single batch); for
        "sgd" and "adam", the mean of the epoch's mini-batch costs, each at
        the weights its batch was evaluated at, as SGDClassifier and
        MLPClassifier report it (no extra pass over the data).
    validation_scores_ : list of float or None
        With ``early_stopping``, the validation accuracy after each epoch
        (the weights kept are those of its first maximum); None otherwise.
    best_loss_ : float or None
        The lowest entry of ``loss_curve_``; None with ``early_stopping``,
        where the kept weights are chosen by ``best_validation_score_``
        (as in MLPClassifier).
    best_validation_score_ : float or None
        With ``early_stopping``, the highest entry of
        ``validation_scores_`` (the score of the weights kept); None
        otherwise.
    best_epoch_ : int or None
        With ``early_stopping``, the (1-based) epoch whose weights were kept
        (the first epoch reaching ``best_validation_score_``); None
        otherwise.
    step_sizes_ : list of float
        The step size of each epoch, aligned with ``loss_curve_``: the fixed
        ``learning_rate`` times the schedule's factor, or the step chosen by
        ``learning_rate="auto"`` (in the solver's standardized coordinates,
        where a step of 1 is a full step on a unit-curvature quadratic).
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
        "alpha": [RealInterval(Real, 0, None, closed="left")],
        "l1_ratio": [RealInterval(Real, 0, 1, closed="both")],
        "fit_intercept": ["boolean"],
        "solver": [StrOptions(set(SOLVERS))],
        "learning_rate": [
            RealInterval(Real, 0, None, closed="neither"),
            StrOptions({"auto"}),
        ],
        "schedule": [StrOptions(set(SCHEDULES)), callable],
        "momentum": [RealInterval(Real, 0, 1, closed="left")],
        "nesterov": ["boolean"],
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [RealInterval(Real, 0, None, closed="left"), None],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [RealInterval(Real, 0, 1, closed="neither")],
        "shuffle": ["boolean"],
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
        schedule="constant",
        momentum=0.0,
        nesterov=False,
        batch_size=None,
        max_iter=1000,
        tol=1e-5,
        n_iter_no_change=5,
        early_stopping=False,
        validation_fraction=0.1,
        shuffle=True,
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
        self.schedule = schedule
        self.momentum = momentum
        self.nesterov = nesterov
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.shuffle = shuffle
        self.init = init
        self.class_weight = class_weight
        self.multi_class = multi_class
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose

    # -- fit --------------------------------------------------------------
    @keeps_state_on_error  # outermost: a callback teardown error too
    @_fit_context(prefer_skip_nested_validation=True)
    @quiet_floating_point
    def fit(self, X, y, sample_weight=None):
        """Fit the model with the chosen solver.

        Atomic: if training fails (e.g. :class:`~skloss.DivergenceError`),
        a previously fitted model is left exactly as it was.

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
        if is_dask_array(X):  # Dask hook: trained on the cluster, X never computed
            fit_dask(self, X, y, sample_weight)
            warn_if_zero_model(self)
            return self
        X, y, classes, y_idx = self._validate_training_data(X, y, reset=True)
        if classes.shape[0] < 2:
            raise ValueError(
                "This solver needs samples of at least 2 classes in the "
                f"data, but the data contains only one class: "
                f"{classes[0]!r}. Pass data with at least two classes."
            )
        user_weight = check_sample_weight(sample_weight, X)
        sample_weight = fit_sample_weight(
            self.class_weight, user_weight, X, y, classes, y_idx
        )
        loss, mode = self._resolve_loss(classes.shape[0])
        rng = check_random_state(self.random_state)
        X_tr, y_tr, w_tr = X, y_idx, sample_weight
        early = None
        if self.early_stopping:
            train, val = validation_split(
                y_idx, self.validation_fraction, rng, sample_weight
            )
            X_tr, y_tr = take_rows(X, train), y_idx[train]
            w_tr = take_rows(sample_weight, train)
        objective = self._objective(loss, mode, X_tr, y_tr, w_tr, classes)
        if self.early_stopping:
            early = EarlyStopping(
                accuracy_scorer(
                    objective, take_rows(X, val), y_idx[val],
                    take_rows(user_weight, val),
                ),
                n_iter_no_change=self.n_iter_no_change,
                tol=self.tol,
            )
        solver = self._make_solver(objective, rng, self.max_iter, self.tol)
        counts = None
        if self.class_weight == "balanced":
            counts = bincount(y_idx, sample_weight, classes.shape[0])
        result = self._train(
            solver, objective, initial_theta(self, objective, classes, mode, rng),
            (X, y, user_weight), (classes, loss, mode), continued=False,
            rng=getattr(solver, "random_state", None), counts=counts,
            early_stopping=early,
        )
        warn_if_not_converged(self, result, objective)
        if self.penalty is None or not self.alpha > 0:
            warn_if_separated(objective, result.theta, mode, self.coef_)
        warn_if_zero_model(self)
        return self

    @keeps_state_on_error  # outermost: a callback teardown error too
    @_fit_context(prefer_skip_nested_validation=True)
    @quiet_floating_point
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Train for one epoch on a batch of data, continuing the model.

        Each call runs one epoch of the solver over ``X`` (one step of "gd"
        or "nesterov", one pass of mini-batches of "sgd" and "adam"),
        starting from the current weights. The solver's state carries over
        between calls: the schedule's epoch count and its adaptive factor,
        momentum, Adam's moments and the shuffling random state. A model
        fitted with :meth:`fit` is continued the same way. Early stopping
        and the stopping tests do not apply.

        With ``class_weight="balanced"``, the class weights come from the
        running class counts of all data seen so far (sample-weighted),
        ``n_seen / (n_classes * count[c])``, so they converge to the
        weights "balanced" would give on the whole stream.

        Atomic: new labels, a changed number of features or a diverging
        step raise an error and leave the model exactly as it was.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A batch of training data.
        y : array-like of shape (n_samples,)
            Its labels, all among the classes of the first call.
        classes : array-like of shape (n_classes,), default=None
            All the classes of the stream. Required on the first call
            (unless the model was fitted before); later calls may repeat it.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights.

        Returns
        -------
        self : GDLogisticClassifier
            The updated estimator.

        Notes
        -----
        Calls on one estimator from several threads at once are not
        supported: each call reads the model and its solver state and
        replaces them as a whole, so concurrent calls lose updates or mix
        the state of two calls. Serialise the calls (e.g. with a lock), or
        train clones in parallel and keep one.
        """
        first = not hasattr(self, "classes_")
        if not first:
            # _fit_context validates on the first call only (as for
            # SGDClassifier); every call that trains validates here, so
            # set_params after a fit cannot slip in what fit rejects.
            self._validate_params()
        all_classes = stream_classes(classes, None if first else self.classes_)
        X, y, labels, _ = self._validate_training_data(X, y, reset=first)
        unknown = np.setdiff1d(labels, all_classes)
        if unknown.shape[0]:
            raise ValueError(
                f"partial_fit got labels {unknown.tolist()} that are not "
                f"among the classes {all_classes.tolist()} of the first "
                "call. Pass every class in `classes` on the first call, "
                "or call fit to start a new model."
            )
        y_idx = np.searchsorted(all_classes, y)
        n_classes = all_classes.shape[0]
        user_weight = check_sample_weight(sample_weight, X)
        train_state = copy.deepcopy(getattr(self, "_train_state", None) or {})
        sample_weight, counts = running_sample_weight(
            self.class_weight, user_weight, y_idx, all_classes, X,
            train_state.get("counts"),
        )
        loss, mode = self._resolve_loss(n_classes)
        objective = self._objective(
            loss, mode, X, y_idx, sample_weight, all_classes
        )
        rng = train_state.get("rng")
        if rng is None:
            rng = check_random_state(self.random_state)
        if first:
            theta_model = initial_theta(self, objective, all_classes, mode, rng)
        else:
            theta_model = continued_theta(self, objective, mode, loss)
        # The schedule in use (with its state) carries over in the solver's
        # state; a new one is made only on the first call.
        solver = self._make_solver(objective, rng, 1, None)
        self._train(
            solver, objective, theta_model, (X, y, user_weight),
            (all_classes, loss, mode), continued=not first, rng=rng,
            counts=counts, state=train_state.get("solver"),
        )
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.array_api_support = True
        tags.classifier_tags.multi_class = True
        return tags
