"""The early-stopping hold-out: a stratified split and its accuracy score."""

import numpy as np
from sklearn.model_selection import StratifiedShuffleSplit

from ._array_api import (
    bincount,
    float_dtypes,
    namespace_and_device,
    take_rows,
    to_device,
)
from ._parallel import one_blas_thread


def validation_split(y_idx, validation_fraction, rng, sample_weight=None):
    """Stratified (train, validation) indices for early stopping.

    The validation set has ``ceil(validation_fraction * n_samples)``
    samples, and at least one per class, so every class is scored. With
    sample weights, a split whose training side has positive weight in
    fewer than two classes, or whose validation side has no positive
    weight, is an error: there would be nothing to train or to score.

    Parameters
    ----------
    y_idx : ndarray of shape (n_samples,)
        Class indices.
    validation_fraction : float
        The share of samples held out.
    rng : RandomState
        Seeds the split.
    sample_weight : array of shape (n_samples,) or None, default=None
        The training weights (sample times class weights), any namespace.

    Returns
    -------
    train, validation : ndarray of int

    Examples
    --------
    >>> import numpy as np
    >>> from skloss._holdout import validation_split
    >>> train, val = validation_split(np.array([0, 1] * 10), 0.2,
    ...                               np.random.RandomState(0))
    >>> len(train), len(val)
    (16, 4)
    """
    n_samples = y_idx.shape[0]
    n_classes = int(y_idx.max()) + 1
    n_val = max(int(np.ceil(validation_fraction * n_samples)), n_classes)
    splitter = StratifiedShuffleSplit(
        n_splits=1, test_size=min(n_val, n_samples - 1), random_state=rng
    )
    try:
        train, val = next(splitter.split(np.zeros((n_samples, 1)), y_idx))
    except ValueError as exc:
        raise ValueError(
            "early_stopping=True could not hold out a stratified "
            f"validation_fraction={validation_fraction} of the "
            f"{n_samples} samples ({exc}). Give more samples per "
            "class, a larger validation_fraction, or early_stopping=False."
        ) from exc
    if sample_weight is not None:
        _check_weighted_sides(y_idx, sample_weight, train, val,
                              validation_fraction, n_classes)
    return train, val


def _check_weighted_sides(y_idx, sample_weight, train, val, fraction, n_classes):
    """Both sides of the split need positive weight (two classes to train)."""
    xp, _ = namespace_and_device(sample_weight)
    positive = xp.astype(sample_weight > 0, sample_weight.dtype)
    trained = bincount(y_idx[train], take_rows(positive, train), n_classes)
    n_val = float(xp.sum(take_rows(positive, val)))
    if np.count_nonzero(trained) >= 2 and n_val > 0:
        return
    side = (
        "the validation side has no sample with a positive weight, so "
        "there is nothing to score"
        if n_val == 0
        else "the training side has samples of only "
        f"{np.count_nonzero(trained)} class(es) with a positive weight, so "
        "there is nothing to train"
    )
    raise ValueError(
        f"early_stopping=True held out validation_fraction={fraction} of the "
        f"samples, and {side} ({int(np.sum(trained)) + int(n_val)} of the "
        f"{y_idx.shape[0]} samples have a positive sample weight times class "
        "weight). Give more samples of each class a positive weight, change "
        "validation_fraction, or set early_stopping=False."
    )


def accuracy_scorer(objective, X_val, y_val, w_val):
    """``score(theta)``: the (weighted) validation accuracy at solver parameters.

    Computed in the namespace and on the device of ``X_val``; only the
    score comes to the host.

    Parameters
    ----------
    objective : LinearObjective
        Converts solver parameters to model parameters.
    X_val : {array, sparse matrix} of shape (n_val, n_features)
        Held-out samples.
    y_val : ndarray of shape (n_val,)
        Their class indices.
    w_val : array of shape (n_val,) or None
        Their sample weights.

    Returns
    -------
    score : callable

    Examples
    --------
    >>> import numpy as np
    >>> from skloss._holdout import accuracy_scorer
    >>> from skloss._objective import LinearObjective
    >>> from skloss.losses import LogLoss
    >>> X = np.array([[-1.0], [1.0]])
    >>> obj = LinearObjective(LogLoss(), X, np.array([0.0, 1.0]))
    >>> accuracy_scorer(obj, X, np.array([0, 1]), None)(np.array([[1.0], [0.0]]))
    1.0
    """
    xp, device = namespace_and_device(X_val)
    y_val = to_device(y_val, xp, device)
    # float64 where the device has it.
    count_dtype = float_dtypes(xp, device)[0]
    total = None if w_val is None else float(xp.sum(w_val))

    def score(theta):
        theta = objective.to_model(theta)
        # One BLAS thread: a multi-threaded product here leaves OpenBLAS's
        # threads spinning for about 0.1 s, in the way of the threaded epoch
        # that follows (200,000 x 100 with early stopping: 24% faster fits).
        with one_blas_thread():
            raw = X_val @ theta[:-1, :] + theta[-1, :]
        if raw.shape[1] == 1:
            pred = xp.astype(raw[:, 0] > 0, y_val.dtype)
        else:
            pred = xp.argmax(raw, axis=1)
        correct = xp.astype(pred == y_val, count_dtype)
        if not total:
            return float(xp.mean(correct))
        return float(xp.vecdot(xp.astype(w_val, count_dtype), correct)) / total

    return score
