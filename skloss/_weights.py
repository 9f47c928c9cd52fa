"""Sample and class weights: checked, combined, in the namespace of X.

The cost normalises the weights to sum to one, so only their ratios matter;
class weights multiply sample weights.
"""

import numpy as np
from sklearn.utils import compute_class_weight
from sklearn.utils.validation import _check_sample_weight

from ._array_api import (
    bincount,
    float_dtypes,
    is_numpy,
    namespace_and_device,
    take_rows,
    to_device,
)


def check_sample_weight(sample_weight, X):
    """Checked sample weights, in the namespace and on the device of X.

    Parameters
    ----------
    sample_weight : array-like of shape (n_samples,) or None
        Non-negative weights.
    X : {array, sparse matrix} of shape (n_samples, n_features)
        The data they weigh.

    Returns
    -------
    sample_weight : array of shape (n_samples,) or None
        In the dtype of X; weights too large or too small for sums in it
        are scaled by an exact power of two (:func:`scaled_to_range`).

    Examples
    --------
    >>> import numpy as np
    >>> from skloss._weights import check_sample_weight
    >>> check_sample_weight([1, 2], np.zeros((2, 1)))
    array([1., 2.])
    """
    if sample_weight is None:
        return None
    xp, device = namespace_and_device(X)
    if not is_numpy(xp):
        sample_weight = to_device(sample_weight, xp, device)
    # Checked in the widest float of the device, so that weights too large
    # (or small) for X's dtype are scaled before they are cast to it.
    sample_weight = _check_sample_weight(
        sample_weight, X, dtype=float_dtypes(xp, device)[0],
        ensure_non_negative=True,
    )
    sample_weight = scaled_to_range(sample_weight, X.dtype)
    if sample_weight.dtype != X.dtype:
        xp, _ = namespace_and_device(sample_weight)
        sample_weight = xp.astype(sample_weight, X.dtype)
    return sample_weight


def _numpy_dtype(dtype):
    """The NumPy dtype of the same name (``torch.float32`` -> float32)."""
    try:
        return np.dtype(dtype)
    except TypeError:
        return np.dtype(str(dtype).split(".")[-1])


def scaled_to_range(weights, dtype):
    """Weights times an exact power of two that keeps their sums in ``dtype``.

    Only ratios of weights matter (the cost normalises them). Weights whose
    largest value lies outside the square root of ``dtype``'s range (above
    ``2 ** (maxexp // 2)`` or below ``2 ** (minexp // 2)``) are brought to a
    largest value in [0.5, 1), so that sums of them (the total, weighted
    class counts, products with class weights) neither overflow nor
    underflow; other weights are returned as they are, bit for bit.

    Parameters
    ----------
    weights : array of shape (n,)
        Finite, non-negative weights (any namespace).
    dtype : dtype
        The floating dtype the weights are used in.

    Returns
    -------
    weights : array of shape (n,)

    Examples
    --------
    >>> import numpy as np
    >>> from skloss._weights import scaled_to_range
    >>> scaled_to_range(np.array([2.0**600, 2.0**601]), np.float64)
    array([0.25, 0.5 ])
    >>> scaled_to_range(np.array([1.0, 2.0]), np.float32)
    array([1., 2.])
    """
    if weights.shape[0] == 0:
        return weights
    xp, _ = namespace_and_device(weights)
    peak = float(xp.max(weights))
    if not peak > 0:
        return weights
    exponent = int(np.frexp(peak)[1])
    info = np.finfo(_numpy_dtype(dtype))
    if info.minexp // 2 <= exponent <= info.maxexp // 2:
        return weights
    # Two exact steps: one factor 2 ** -exponent may not be representable.
    half = -exponent // 2
    weights = weights * float(np.ldexp(1.0, half))
    return weights * float(np.ldexp(1.0, -exponent - half))


def weight_total(sample_weight):
    """The sum of the weights, as a Python float.

    Examples
    --------
    >>> import numpy as np
    >>> from skloss._weights import weight_total
    >>> weight_total(np.array([0.5, 1.5]))
    2.0
    """
    if isinstance(sample_weight, np.ndarray):
        return float(np.sum(sample_weight))
    xp, _ = namespace_and_device(sample_weight)
    return float(xp.sum(sample_weight))


def _per_sample(class_weight, y_idx, X):
    """Per-sample weights ``class_weight[y_idx]`` in X's namespace and dtype."""
    xp, device = namespace_and_device(X)
    if is_numpy(xp):
        return class_weight[y_idx].astype(X.dtype)
    class_weight = to_device(class_weight, xp, device, dtype=X.dtype)
    return take_rows(class_weight, y_idx)


def _combine(sample_weight, class_weight, y_idx, X):
    """Sample weights times the class weight of each sample's class."""
    if class_weight is None:
        return sample_weight
    # Scaled like sample weights: {0: 1e308, 1: 1e308} sums to inf otherwise.
    class_weight = scaled_to_range(class_weight, X.dtype)
    per_sample = _per_sample(class_weight, y_idx, X)
    if sample_weight is None:
        return per_sample
    # Each factor is below 2 ** (maxexp // 2): the product is finite.
    return scaled_to_range(sample_weight * per_sample, X.dtype)


def _require_positive_total(sample_weight, what):
    if sample_weight is not None and not weight_total(sample_weight) > 0:
        raise ValueError(
            f"The sample weights (times class weights) {what}sum to zero, so "
            "the cost is undefined. Give at least one sample a positive weight."
        )


def _require_two_weighted_classes(sample_weight, y_idx, classes):
    xp, _ = namespace_and_device(sample_weight)
    positive = xp.astype(sample_weight > 0, sample_weight.dtype)
    present = classes[bincount(y_idx, positive, classes.shape[0]) > 0]
    if present.shape[0] < 2:
        raise ValueError(
            "Samples of at least 2 classes need a positive sample "
            f"weight, but only class(es) {present.tolist()} have one. "
            "Give samples of at least two classes a positive weight."
        )


def _check_dict(class_weight, classes):
    """A class_weight dict must map labels of y to finite weights >= 0."""
    unknown = [label for label in class_weight if label not in set(classes.tolist())]
    if unknown:
        raise ValueError(
            f"class_weight has label(s) {unknown} that are not classes "
            f"of y (classes: {classes.tolist()}). Use the labels of y "
            "as keys."
        )
    bad = []
    for label, weight in class_weight.items():
        try:
            ok = bool(np.isfinite(float(weight)) and float(weight) >= 0)
        except (TypeError, ValueError):
            ok = False
        if not ok:
            bad.append(f"class_weight[{label!r}] = {weight!r}")
    if bad:
        raise ValueError(
            "class_weight must be finite and non-negative, got "
            f"{', '.join(bad)}. Give each class in the dict a finite weight "
            ">= 0 (a class left out gets 1)."
        )


def _balanced(counts, n_classes):
    """``total / (n_classes * counts)``, and 1 for a class of weight zero.

    A class whose samples all have zero sample weight takes no part in the
    cost, whatever its class weight; 1 keeps the products finite (its
    "balanced" weight would be infinite).
    """
    xp, _ = namespace_and_device(counts)
    seen = counts > 0
    safe = xp.where(seen, counts, xp.ones_like(counts))
    return xp.where(seen, xp.sum(counts) / (n_classes * safe), xp.ones_like(counts))


def fit_sample_weight(class_weight, sample_weight, X, y, classes, y_idx):
    """The training weights of a fit: checked sample weights times class weights.

    Parameters
    ----------
    class_weight : dict, "balanced" or None
        The estimator's ``class_weight``. "balanced" uses the
        sample-weighted class counts, so an integer weight equals repeating
        the sample.
    sample_weight : array of shape (n_samples,) or None
        Checked by :func:`check_sample_weight`.
    X : {array, sparse matrix} of shape (n_samples, n_features)
        The training data.
    y : ndarray of shape (n_samples,)
        The labels, on the host.
    classes : ndarray of shape (n_classes,)
        The sorted classes.
    y_idx : ndarray of shape (n_samples,)
        The index of each label in ``classes``.

    Returns
    -------
    sample_weight : array of shape (n_samples,) or None

    Examples
    --------
    >>> import numpy as np
    >>> from skloss._weights import fit_sample_weight
    >>> y = np.array([0, 0, 0, 1])
    >>> fit_sample_weight("balanced", None, np.zeros((4, 1)), y,
    ...                   np.array([0, 1]), y)
    array([0.66666667, 0.66666667, 0.66666667, 2.        ])
    """
    if sample_weight is not None:
        _require_two_weighted_classes(sample_weight, y_idx, classes)
    if isinstance(class_weight, dict):
        _check_dict(class_weight, classes)
    cw = None
    if class_weight == "balanced" and not (
        sample_weight is None or isinstance(sample_weight, np.ndarray)
    ):
        # compute_class_weight's formula, with the weighted class counts
        # summed on the device.
        cw = _balanced(bincount(y_idx, sample_weight, classes.shape[0]),
                       classes.shape[0])
    elif class_weight == "balanced" and sample_weight is not None:
        # compute_class_weight gives a class of zero weight an infinite one.
        counts = np.bincount(y_idx, weights=sample_weight,
                             minlength=classes.shape[0])
        cw = _balanced(counts, classes.shape[0])
    elif class_weight is not None:
        cw = compute_class_weight(class_weight, classes=classes, y=y)
    _check_class_weights(cw)
    sample_weight = _combine(sample_weight, cw, y_idx, X)
    _require_positive_total(sample_weight, "")
    return sample_weight


def _check_class_weights(cw):
    """The per-class weights (None: none) must be finite and non-negative."""
    if cw is not None and (np.any(cw < 0) or not np.all(np.isfinite(cw))):
        raise ValueError(f"class_weight must be finite and non-negative, got {cw}.")


def running_sample_weight(class_weight, sample_weight, y_idx, classes, X, counts):
    """The training weights of one partial_fit batch, and the running counts.

    With ``class_weight="balanced"`` the class weights come from the running
    (sample-weighted) class counts of all batches so far,
    ``n_seen / (n_classes * count[c])``.

    Parameters
    ----------
    class_weight : dict, "balanced" or None
        The estimator's ``class_weight``.
    sample_weight : array of shape (n_samples,) or None
        Checked by :func:`check_sample_weight`.
    y_idx : ndarray of shape (n_samples,)
        The index of each label in ``classes``.
    classes : ndarray of shape (n_classes,)
        All the classes of the stream.
    X : {array, sparse matrix} of shape (n_samples, n_features)
        The batch.
    counts : ndarray of shape (n_classes,) or None
        The running class counts before this batch.

    Returns
    -------
    sample_weight : array of shape (n_samples,) or None
    counts : ndarray of shape (n_classes,) or None

    Examples
    --------
    >>> import numpy as np
    >>> from skloss._weights import running_sample_weight
    >>> w, counts = running_sample_weight("balanced", None, np.array([0, 1, 1]),
    ...                                   np.array([0, 1]), np.zeros((3, 1)), None)
    >>> counts
    array([1., 2.])
    """
    n_classes = classes.shape[0]
    cw = None
    if class_weight == "balanced":
        batch = bincount(y_idx, sample_weight, n_classes)
        counts = batch if counts is None else counts + batch
        cw = _balanced(counts, n_classes)
    elif isinstance(class_weight, dict):
        _check_dict(class_weight, classes)
        cw = np.ones(n_classes)
        for label, weight in class_weight.items():
            cw[np.flatnonzero(classes == label)[0]] = weight
    _check_class_weights(cw)
    sample_weight = _combine(sample_weight, cw, y_idx, X)
    _require_positive_total(sample_weight, "of this batch ")
    return sample_weight, counts
