"""The training plumbing behind fit and partial_fit (the estimator's side).

:class:`TrainingMixin` turns an estimator's parameters into the pieces of a
training run (the loss in its training form, the objective, the solver),
runs it with the callbacks, and stores the result. ``_classifier.py`` keeps
the scikit-learn contract (parameters, validation, fit, partial_fit); the
Dask fit (:mod:`skloss._dask_fit`) uses the same steps.
"""

import copy

from sklearn.base import clone
from sklearn.utils.validation import validate_data

from ._array_api import float_dtypes, namespace_and_device, to_host
from ._callbacks import EpochCallbacks
from ._labels import encode_labels, targets
from ._model import model_attributes
from ._objective import LinearObjective
from ._penalties import make_penalty
from .losses import Loss, get_loss
from .losses._registry import training_form
from .optim import MINIBATCH_SOLVERS, make_schedule, make_solver


def _positively_homogeneous(loss):
    """Whether ``loss`` declares ``positively_homogeneous`` (False if absent)."""
    return bool(getattr(loss, "positively_homogeneous", False))


class TrainingMixin:
    """Loss, objective, solver and stored result of a GDLogisticClassifier."""

    def _resolve_base_loss(self, validate=True):
        """A fresh Loss instance for the ``loss`` parameter."""
        if not isinstance(self.loss, Loss):
            # A registered name builds the loss with its defaults: nothing
            # to validate (saves a tenth of a small fit's fixed cost).
            return get_loss(self.loss)
        loss = clone(self.loss)
        if validate:
            loss._validate_params()
        return loss

    def _resolve_loss(self, n_classes):
        """``(loss, mode)`` to train with: the registry's form for the classes."""
        return training_form(self._resolve_base_loss(), n_classes, self.multi_class)

    def _store_training_record(self, result, early_stopping, step_sizes=()):
        """The per-epoch record a user plots: best values and step sizes.

        Called after ``loss_curve_`` and ``validation_scores_`` are set;
        ``step_sizes`` are those of earlier ``partial_fit`` calls.
        """
        self.step_sizes_ = list(step_sizes) + [float(s) for s in result.step_sizes]
        if early_stopping:
            self.best_loss_ = None
            self.best_validation_score_ = max(self.validation_scores_)
            self.best_epoch_ = int(result.best_epoch)
        else:
            self.best_loss_ = min(self.loss_curve_)
            self.best_validation_score_ = None
            self.best_epoch_ = None

    def _validate_training_data(self, X, y, reset):
        """Checked X (in its own namespace and device) and labels on the host.

        Returns ``(X, y, classes, y_idx)``: with array API dispatch X stays
        in its namespace and on its device (NumPy without dispatch); labels
        are encoded on the host, as scikit-learn does.
        """
        xp, device = namespace_and_device(X)
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse="csr",
            dtype=float_dtypes(xp, device),
            reset=reset,
        )
        classes, y_idx = encode_labels(y)
        return X, to_host(y), classes, y_idx

    def _objective(self, loss, mode, X, y_idx, sample_weight, classes):
        """The training cost of this estimator's penalty on (X, y_idx)."""
        objective = LinearObjective(
            loss,
            X,
            targets(y_idx, classes.shape[0], mode, X.dtype, like=X),
            sample_weight=sample_weight,
            penalty=make_penalty(self.penalty, self.alpha, self.l1_ratio),
            fit_intercept=self.fit_intercept,
            # A fixed learning rate is textbook descent on (W, b) as given;
            # the objective's own coordinates are for "auto" steps.
            own_coordinates=self.learning_rate == "auto",
        )
        return self._in_training_coordinates(objective)

    def _in_training_coordinates(self, objective):
        """``objective`` in the coordinates this estimator's steps are for.

        The perceptron algorithm of "auto" steps in standardized
        coordinates, where the intercept and every feature learn at one
        rate whatever the features' scales; every other rule takes the
        objective as built (gd "auto" preconditions on its own).
        """
        if self._learning_rate(objective.loss) != self.learning_rate:
            return objective.preconditioned()
        return objective

    def _minimize(self, solver, objective, theta0, data, model, epochs_before,
                  **solver_kwargs):
        """Run ``solver`` with one callback subtask per epoch.

        ``data`` is ``(X, y, sample_weight)`` for the callbacks, ``model``
        ``(classes, loss, mode)``. Returns the result and the callbacks,
        whose ``end_fit`` the caller runs once the model is stored; on error
        the callbacks are aborted (the attributes are restored by
        ``keeps_state_on_error``).
        """
        X, y, sample_weight = data

        def attributes(theta, epoch):
            attrs = model_attributes(objective.to_model(theta), *model)
            attrs["n_iter_"] = epochs_before + epoch
            return attrs

        callbacks = EpochCallbacks(
            self, X, y,
            None if sample_weight is None else {"sample_weight": sample_weight},
            solver.max_iter, attributes,
        )
        try:
            result = solver.minimize(
                objective,
                theta0,
                callback=callbacks.end_epoch if callbacks.per_epoch else None,
                on_epoch_begin=(
                    callbacks.begin_epoch if callbacks.per_epoch else None
                ),
                **solver_kwargs,
            )
        except BaseException:
            if callbacks.active:
                callbacks.abort()
            raise
        return result, callbacks

    def _learning_rate(self, loss):
        """The ``learning_rate`` training uses with ``loss``.

        "auto" on a positively homogeneous loss (the perceptron) is the
        perceptron algorithm's fixed step 1 (in standardized coordinates,
        see ``_in_training_coordinates``): its
        penalised cost is least at the zero model, so a descent rule would
        stay there, while any fixed step gives the same predictions
        without a penalty (the weights scale with the step).
        """
        if self.learning_rate == "auto" and _positively_homogeneous(loss):
            return 1.0
        return self.learning_rate

    def _make_solver(self, objective, rng, max_iter, tol):
        """The solver for this fit; ``rng`` seeds the mini-batch order."""
        schedule = make_schedule(
            copy.deepcopy(self.schedule),
            max_iter=self.max_iter,
            n_iter_no_change=self.n_iter_no_change,
            tol=self.tol,
        )
        learning_rate = self._learning_rate(objective.loss)
        if not isinstance(learning_rate, str):
            learning_rate = float(learning_rate)  # a Fraction, say
        params = dict(
            learning_rate=learning_rate,
            max_iter=max_iter,
            tol=tol,
            n_iter_no_change=self.n_iter_no_change,
            verbose=self.verbose,
            schedule=schedule,
            # The perceptron algorithm of "auto" is the pocket algorithm:
            # on data no hyperplane separates, its last epoch can be any of
            # those it cycles through.
            pocket=self.learning_rate == "auto" and learning_rate != "auto",
        )
        if self.solver in MINIBATCH_SOLVERS:
            params.update(
                batch_size=self.batch_size,
                shuffle=self.shuffle,
                random_state=rng,
            )
        if self.solver == "sgd":
            params.update(momentum=float(self.momentum), nesterov=self.nesterov)
        return make_solver(self.solver, **params)

    def _train(self, solver, objective, theta_model, data, model, *, continued,
               rng, counts, early_stopping=None, state=None):
        """Train from model parameters ``theta_model`` and store the result.

        The step fit, partial_fit and the Dask fit share: minimise, then,
        only once training succeeded, replace the fitted state. With
        ``continued`` (partial_fit after its first call) the epoch count,
        costs and step sizes extend the current model's. ``rng`` and
        ``counts`` (running class counts of "balanced") are what a later
        partial_fit continues from, with the solver's state.
        """
        epochs_before = self.n_iter_ if continued else 0
        result, callbacks = self._minimize(
            solver, objective, objective.from_model(theta_model), data, model,
            epochs_before=epochs_before, early_stopping=early_stopping,
            state=state,
        )
        loss_curve = list(self.loss_curve_) if continued else []
        step_sizes = getattr(self, "step_sizes_", []) if continued else []
        self._store(objective.to_model(result.theta), *model)
        self.n_iter_ = epochs_before + result.n_iter
        self.loss_curve_ = loss_curve + list(result.loss_curve)
        if early_stopping is not None:
            self.validation_scores_ = list(result.validation_scores)
        elif not continued:
            self.validation_scores_ = None
        self._store_training_record(
            result, early_stopping=early_stopping is not None, step_sizes=step_sizes
        )
        self._train_state = {
            # The solver's state (a SolverState): epochs, the schedule in
            # use with its state, momentum, Adam's moments.
            "solver": result.state,
            "rng": rng,
            "counts": counts,
        }
        if callbacks.active:
            callbacks.end_fit()
        return result

    def _store(self, theta, classes, loss, mode):
        for key, value in model_attributes(theta, classes, loss, mode).items():
            setattr(self, key, value)
