"""Prediction from a fitted linear model: decision values, labels, probabilities.

:class:`LinearPredictMixin` gives an estimator with ``coef_``,
``intercept_``, ``classes_``, ``loss_`` and ``_mode`` (set by
:mod:`skloss._model`) scikit-learn's prediction methods, in the namespace and
on the device of the input, and lazily block by block on a dask array.
"""

import numpy as np
import scipy.sparse as sp
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, validate_data

from ._array_api import (
    check_same_namespace,
    float_dtypes,
    is_numpy,
    namespace_and_device,
    take_labels,
)
from ._dask import is_dask_array, map_rows


def _has_proba(estimator):
    """Whether the loss in use maps decision values to probabilities.

    Raises an AttributeError naming the loss when it has no link; scikit-learn
    chains it as the cause of "has no attribute 'predict_proba'".
    """
    loss = getattr(estimator, "loss_", None)
    if loss is None:
        loss = estimator._resolve_base_loss(validate=False)
    if not loss.has_proba:
        raise AttributeError(
            f"The loss {type(loss).__name__} has no probability link "
            "(has_proba is False), so predict_proba is not available; use "
            "decision_function, or a loss such as 'log_loss'."
        )
    return True


class LinearPredictMixin:
    """decision_function, predict, predict_proba and predict_log_proba.

    ``predict_proba`` and ``predict_log_proba`` exist only for losses with
    a probability link (``has_proba``).

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from skloss import GDLogisticClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = GDLogisticClassifier().fit(X, y)
    >>> clf.predict(X[:2]), clf.predict_proba(X[:2]).shape
    (array([0, 0]), (2, 3))
    """

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
        if is_dask_array(X):  # Dask hook: lazy, block by block
            return map_rows(self, "decision_function", X)
        check_is_fitted(self)
        check_same_namespace(X, self, "decision_function")
        xp, device = namespace_and_device(X)
        X = validate_data(
            self, X, accept_sparse="csr", dtype=float_dtypes(xp, device),
            reset=False,
        )
        coef, intercept = self.coef_, self.intercept_
        if not is_numpy(xp) and coef.dtype != X.dtype:
            # Array libraries such as PyTorch do not promote in matmul.
            coef, intercept = xp.astype(coef, X.dtype), xp.astype(intercept, X.dtype)
        scores = X @ coef.T + intercept
        if sp.issparse(scores):  # pragma: no cover - defensive
            scores = scores.toarray()
        return xp.reshape(scores, (-1,)) if scores.shape[1] == 1 else scores

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
        if is_dask_array(X):  # Dask hook: lazy, block by block
            return map_rows(self, "predict", X)
        check_same_namespace(X, self, "predict")
        scores = self.decision_function(X)
        xp, _ = namespace_and_device(scores)
        if scores.ndim == 1:
            indices = xp.astype(scores > 0, xp.int64)
        else:
            indices = xp.argmax(scores, axis=1)
        return take_labels(self.classes_, indices)

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
        if is_dask_array(X):  # Dask hook: lazy, block by block
            return map_rows(self, "predict_proba", X)
        check_same_namespace(X, self, "predict_proba")
        scores = self.decision_function(X)
        xp, _ = namespace_and_device(scores)
        loss = self.loss_
        if self._mode == "multinomial":
            if scores.ndim == 1:
                scores = xp.stack([xp.zeros_like(scores), scores], axis=1)
            p = loss.predict_proba(scores)
            return np.asarray(p) if is_numpy(xp) else p
        p = loss.predict_proba(scores)
        p = np.asarray(p) if is_numpy(xp) else p
        if p.ndim == 1:
            return xp.stack([1.0 - p, p], axis=1)
        total = xp.sum(p, axis=1, keepdims=True)
        positive = total > 0
        uniform = xp.full_like(p, 1.0 / p.shape[1])
        return xp.where(positive, p / xp.where(positive, total, 1.0), uniform)

    @available_if(_has_proba)
    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Computed from the decision values (``log_expit`` of a sigmoid
        link, ``log_softmax`` of a softmax one) where the loss provides
        ``predict_log_proba``, so it is finite wherever they are.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        check_same_namespace(X, self, "predict_log_proba")
        check_is_fitted(self)
        log_link = getattr(self.loss_, "predict_log_proba", None)
        if log_link is not None:
            scores = self.decision_function(X)
            xp, _ = namespace_and_device(scores)
            if self._mode == "multinomial" and scores.ndim == 1:
                scores = xp.stack([xp.zeros_like(scores), scores], axis=1)
            if self._mode == "multinomial" or scores.ndim == 1:
                log_p = log_link(scores)
                return np.asarray(log_p) if is_numpy(xp) else log_p
        proba = self.predict_proba(X)
        xp, _ = namespace_and_device(proba)
        with np.errstate(divide="ignore"):
            return xp.log(proba)
