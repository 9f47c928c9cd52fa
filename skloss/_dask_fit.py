"""``fit`` on a dask array: the data stay on the cluster.

:func:`fit_dask` is the estimator's fit for dask input. It checks ``X``
without computing it (dtype and shape from its metadata; finiteness from its
column moments, one reduction whose result the unweighted fit's statistics
reuse), finds the classes in the same computation, encodes the labels and builds
the targets and weights block by block, aligned with the row chunks of
``X``, and trains on the :class:`skloss._dask.DaskRoute` the objective
picks for dask data: each epoch one map over the row blocks and one tree
reduction of ``(cost, gradient)``. Only the ``(n_features + 1) x K``
parameters and gradients, and a few per-class or per-feature totals,
travel between the client and the workers.
"""

import math

import numpy as np
import scipy.sparse as sp
from sklearn import config_context
from sklearn.utils import check_random_state
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_feature_names, _check_n_features

from ._dask import (
    DaskRoute,
    import_dask_array,
    is_dask_array,
    persist_if_persisted,
    reduce_blocks,
    row_blocks,
)
from ._dask_stats import forget_moments, remember_moments, unweighted_moments
from ._fit_utils import warn_if_not_converged, warn_separated
from ._labels import encode_labels, targets
from ._model import initial_theta
from ._objective import LinearObjective
from ._penalties import make_penalty
from ._weights import _balanced as balanced_weights
from ._weights import _check_class_weights, check_sample_weight
from ._weights import _check_dict as check_class_weight_dict
from .optim import MINIBATCH_SOLVERS, EarlyStopping

_INCREMENTAL_HINT = (
    "solver={solver!r} on a dask array is not supported by fit: the "
    "mini-batch solvers draw random rows from all of X each step. Use "
    "solver='gd' or 'nesterov' (one map-reduce over the row blocks per "
    "epoch), or train block by block with "
    "dask_ml.wrappers.Incremental(GDLogisticClassifier(solver={solver!r})), "
    "which calls partial_fit once per block."
)


def _dask():
    import_dask_array()
    import dask

    return dask


# -- block functions (top level: they travel to worker processes) -----------

def _block_unique(y):
    return np.unique(y)


def _union(*parts):
    return np.unique(np.concatenate(parts))


def _block_weight_check(w):
    """``(min, max, all finite)`` of a block of sample weights."""
    if w.size == 0:
        return (math.inf, 0.0, True)
    return (float(w.min()), float(w.max()), bool(np.isfinite(w).all()))


def _combine_weight_checks(*parts):
    lows, highs, finite = zip(*parts, strict=True)
    return (min(lows), max(highs), all(finite))


def _block_counts(y_idx, w, n_classes):
    """Per class: weighted count and number of samples of positive weight."""
    if w is None:
        counts = np.bincount(y_idx, minlength=n_classes).astype(np.float64)
        return counts, counts.copy()
    return (
        np.bincount(y_idx, weights=w, minlength=n_classes),
        np.bincount(y_idx, weights=(w > 0), minlength=n_classes),
    )


def _encode_block(y, classes):
    return np.searchsorted(classes, y).astype(np.intp)


def _targets_block(y_idx, n_classes, mode, dtype):
    return targets(y_idx, n_classes, mode, dtype)


def _weights_block(y_idx, w, class_weight, dtype):
    per_sample = class_weight[y_idx].astype(dtype)
    return per_sample if w is None else w * per_sample


def _block_accuracy(X, y_idx, w, theta):
    """Weighted number of correct predictions and the block's total weight."""
    raw = X @ theta[:-1, :] + theta[-1, :]
    pred = (raw[:, 0] > 0).astype(np.intp) if raw.shape[1] == 1 else raw.argmax(1)
    correct = (pred == y_idx).astype(np.float64)
    if w is None:
        return float(correct.sum()), float(correct.shape[0])
    return float(w @ correct), float(w.sum())


def _block_separated(X, y, sw, params, multinomial):
    """Whether every weighted sample is on its side (per output for ovr)."""
    raw = X @ params[:-1, :] + params[-1, :]
    if y.ndim == 1:
        y = y[:, None]
    keep = slice(None) if sw is None else sw > 0
    raw, y = raw[keep], y[keep]
    if multinomial:
        return np.array([bool(np.all(raw.argmax(1) == y.argmax(1)))])
    return np.all((2.0 * y - 1.0) * raw > 0, axis=0)


def _and(*parts):
    return np.logical_and.reduce(parts)


def _aligned_blocks(*arrays):
    """Tuples of the i-th row block of each array (None for a None array)."""
    n_blocks = arrays[0].numblocks[0]
    columns = [row_blocks(a) or [None] * n_blocks for a in arrays]
    return list(zip(*columns, strict=True))


# -- validation --------------------------------------------------------------

def _check_X(da, X):
    """X with a float dtype, CSR or dense blocks, one column chunk."""
    if X.ndim != 2:
        raise ValueError(
            f"Expected a 2D dask array, got {X.ndim} dimensions; reshape it "
            "to (n_samples, n_features)."
        )
    if any(math.isnan(c) for c in X.chunks[0]):
        raise ValueError(
            "The dask array has unknown chunk sizes (e.g. after boolean "
            "indexing); call X.compute_chunk_sizes() before fit."
        )
    if X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(
            f"Found array with shape {X.shape}: fit needs at least one "
            "sample and one feature."
        )
    if X.dtype.kind not in "biuf":
        raise ValueError(
            f"X has dtype {X.dtype}; fit needs numbers (float32 is kept, "
            "other numbers become float64)."
        )
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    if sp.issparse(getattr(X, "_meta", None)) and X._meta.format != "csr":
        X = X.map_blocks(sp.csr_matrix, dtype=X.dtype)
    if X.numblocks[1] != 1:
        X = X.rechunk({1: -1})
    return X


def _as_rows(da, values, X, name):
    """A 1-D array (dask or NumPy) as a dask array chunked like X's rows."""
    if not is_dask_array(values):
        return da.from_array(np.asarray(values), chunks=(X.chunks[0],))
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim != 1 or values.shape[0] != X.shape[0]:
        raise ValueError(
            f"{name} has shape {values.shape}, expected ({X.shape[0]},): one "
            "value per row of X."
        )
    return values.rechunk((X.chunks[0],))


def prepare_dask_fit(estimator, X, y, sample_weight):
    """Checked dask data: ``(X, y_idx, classes, user_weight, moments)``.

    ``X`` float32 or float64 with one column chunk; ``y_idx`` the class
    index of each row and ``user_weight`` (or None) dask arrays chunked
    like the rows of ``X``; ``moments`` the unweighted column moments of
    ``X`` (see :func:`skloss._dask_stats.unweighted_moments`). Sets
    ``n_features_in_`` (and removes ``feature_names_in_``) as
    ``validate_data(reset=True)`` does. The checks and the classes come
    from one computation of small results.
    """
    da, dask = import_dask_array(), _dask()
    X = _check_X(da, X)
    _check_n_features(estimator, X, reset=True)
    _check_feature_names(estimator, X, reset=True)
    n = X.shape[0]
    # The column moments give finiteness (NaN and infinities reach the
    # maxima or minima) and are the unweighted fit's statistics.
    pending = {"moments": unweighted_moments(dask, X)}
    if is_dask_array(y):
        y = _as_rows(da, y, X, "y")
        pending["classes"] = reduce_blocks(
            dask, _block_unique, [(b,) for b in row_blocks(y)], combine=_union
        )
        classes = y_idx = None
    else:
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1 or y.shape[0] != n:
            raise ValueError(
                f"y has shape {y.shape}, expected ({n},): one label per row of X."
            )
        classes, y_idx = encode_labels(y)
        y_idx = da.from_array(y_idx, chunks=(X.chunks[0],))
    user_weight = None
    if sample_weight is not None and not is_dask_array(sample_weight):
        user_weight = check_sample_weight(sample_weight, X)
        user_weight = da.from_array(user_weight, chunks=(X.chunks[0],))
    elif sample_weight is not None:
        user_weight = _as_rows(da, sample_weight, X, "sample_weight")
        if user_weight.dtype.kind not in "biuf":
            raise ValueError(
                f"sample_weight has dtype {user_weight.dtype}; expected numbers."
            )
        user_weight = user_weight.astype(X.dtype)
        pending["weights"] = reduce_blocks(
            dask, _block_weight_check, [(b,) for b in row_blocks(user_weight)],
            combine=_combine_weight_checks,
        )
    (done,) = dask.compute(pending)
    col_hi, col_lo = done["moments"][:2]
    if not (np.all(np.isfinite(col_hi)) and np.all(np.isfinite(col_lo))):
        raise ValueError(
            "Input X contains NaN or infinity. Impute or drop those values "
            "(e.g. dask_ml.impute.SimpleImputer) before fit."
        )
    if "weights" in done:
        low, high, finite = done["weights"]
        if not finite or low < 0:
            raise ValueError(
                "sample_weight must be finite and non-negative; got "
                f"{'non-finite values' if not finite else f'a minimum of {low}'}."
            )
        exponent = np.frexp(high)[1]
        if exponent > np.finfo(X.dtype).maxexp // 2:
            # As check_sample_weight: only ratios matter; no overflow in sums.
            user_weight = user_weight * float(np.ldexp(1.0, -exponent))
    if y_idx is None:
        classes = done["classes"]
        check_classification_targets(classes)
        y_idx = y.map_blocks(_encode_block, classes, dtype=np.intp)
    return X, y_idx, classes, user_weight, done["moments"]


def _fit_weights(da, dask, class_weight, user_weight, y_idx, classes, dtype):
    """Training weights (dask, or None) and the per-class weighted counts."""
    K = classes.shape[0]
    if user_weight is None and class_weight is None:
        return None, None
    blocks = _aligned_blocks(y_idx, user_weight)
    (counts, positive), = dask.compute(
        reduce_blocks(dask, _block_counts, blocks, K)
    )
    if user_weight is not None and np.count_nonzero(positive) < 2:
        raise ValueError(
            "Samples of at least 2 classes need a positive sample weight, but "
            f"only class(es) {classes[positive > 0].tolist()} have one. Give "
            "samples of at least two classes a positive weight."
        )
    cw = None
    if class_weight == "balanced":
        # As the NumPy fit: a class of zero weight gets 1 (it adds nothing).
        cw = balanced_weights(counts, K)
    elif class_weight is not None:
        check_class_weight_dict(class_weight, classes)
        cw = compute_class_weight(class_weight, classes=classes, y=classes)
    _check_class_weights(cw)
    if cw is not None:
        user_weight = da.map_blocks(
            _weights_block, y_idx, user_weight, cw, dtype, dtype=dtype
        ) if user_weight is not None else y_idx.map_blocks(
            _weights_block, None, cw, dtype, dtype=dtype
        )
        counts = counts * cw
    if not counts.sum() > 0:
        raise ValueError(
            "The sample weights (times class weights) sum to zero, so the cost "
            "is undefined. Give at least one sample a positive weight."
        )
    return user_weight, counts


def _split_blocks(da, arrays, fraction, rng):
    """Training and validation parts of ``arrays``, by whole row blocks."""
    n_blocks = arrays[0].numblocks[0]
    n_val = max(int(np.ceil(fraction * n_blocks)), 1)
    if n_blocks < 2 or n_val >= n_blocks:
        raise ValueError(
            "early_stopping=True on a dask array holds out whole row blocks "
            f"(validation_fraction={fraction} of {n_blocks} block(s)), and "
            "needs at least one left to train on. Rechunk X into more row "
            "blocks, lower validation_fraction, or set early_stopping=False."
        )
    val = np.sort(rng.permutation(n_blocks)[:n_val])
    train = np.setdiff1d(np.arange(n_blocks), val)

    def take(a, idx):
        return None if a is None else da.concatenate([a.blocks[i] for i in idx])

    return [take(a, train) for a in arrays], [take(a, val) for a in arrays]


def _accuracy_scorer(objective, X, y_idx, w):
    """``score(theta)``: one map-reduce over the validation blocks."""
    route = DaskRoute(X, y_idx, w)

    def score(theta):
        theta = np.asarray(objective.to_model(theta))
        correct, total = route._reduce(_block_accuracy, theta)
        return correct / total if total > 0 else 0.0

    return score


def _warn_if_separated(objective, theta, mode, coef):
    """As :func:`skloss._fit_utils.warn_if_separated`, by one map-reduce."""
    W = objective._coef(theta)
    params = np.concatenate([W, objective._shift(theta, W)[None, :]])
    separated = objective.route._reduce(
        _block_separated, params, mode == "multinomial", combine=_and
    )
    if np.any(separated):
        warn_separated(coef)


def fit_dask(estimator, X, y, sample_weight=None):
    """Fit ``estimator`` on a dask array without computing it to the client.

    The same steps as the estimator's NumPy fit (same solver, same
    coordinates, same per-block kernel), so the result equals the NumPy
    fit of the same data up to the order of floating-point sums. With
    ``early_stopping=True`` the validation set is a random choice of whole
    row blocks (not a stratified sample).

    Parameters
    ----------
    estimator : GDLogisticClassifier
    X : dask array of shape (n_samples, n_features)
    y : dask or NumPy array of shape (n_samples,)
    sample_weight : dask or NumPy array of shape (n_samples,), default=None

    Returns
    -------
    estimator
    """
    if estimator.solver in MINIBATCH_SOLVERS:
        raise ValueError(_INCREMENTAL_HINT.format(solver=estimator.solver))
    # The blocks are NumPy (or CSR) and so are the parameters on the client:
    # no array-API dispatch to the dask namespace.
    with config_context(array_api_dispatch=False):
        return _fit(estimator, X, y, sample_weight)


def _fit(estimator, X, y, sample_weight):
    X, y_idx, classes, user_weight, moments = prepare_dask_fit(
        estimator, X, y, sample_weight
    )
    remember_moments(X, moments)
    try:
        return _train(estimator, X, y, y_idx, classes, user_weight)
    finally:
        forget_moments(X)


def _train(estimator, X, y, y_idx, classes, user_weight):
    da, dask = import_dask_array(), _dask()
    if classes.shape[0] < 2:
        raise ValueError(
            "This solver needs samples of at least 2 classes in the data, but "
            f"the data contains only one class: {classes[0]!r}. Pass data "
            "with at least two classes."
        )
    weight, counts = _fit_weights(
        da, dask, estimator.class_weight, user_weight, y_idx, classes, X.dtype
    )
    loss, mode = estimator._resolve_loss(classes.shape[0])
    rng = check_random_state(estimator.random_state)
    X_tr, y_tr, w_tr = X, y_idx, weight
    early = None
    if estimator.early_stopping:
        # Scored with the user's weights only, as the NumPy fit does.
        (X_tr, y_tr, w_tr, _), (X_val, y_val, _, w_val) = _split_blocks(
            da, [X, y_idx, weight, user_weight], estimator.validation_fraction, rng
        )
        X_tr, X_val = persist_if_persisted(X, X_tr, X_val)
    K = classes.shape[0]
    if mode == "binary":
        T = y_tr.map_blocks(_targets_block, K, mode, X.dtype, dtype=X.dtype)
    else:
        T = y_tr.map_blocks(
            _targets_block, K, mode, X.dtype, dtype=X.dtype, new_axis=1,
            chunks=(y_tr.chunks[0], (K,)),
        )
    objective = estimator._in_training_coordinates(LinearObjective(
        loss, X_tr, T, sample_weight=w_tr,
        penalty=make_penalty(estimator.penalty, estimator.alpha, estimator.l1_ratio),
        fit_intercept=estimator.fit_intercept,
        own_coordinates=estimator.learning_rate == "auto",  # as the NumPy fit
    ))
    if estimator.early_stopping:
        early = EarlyStopping(
            _accuracy_scorer(objective, X_val, y_val, w_val),
            n_iter_no_change=estimator.n_iter_no_change, tol=estimator.tol,
        )
    solver = estimator._make_solver(objective, rng, estimator.max_iter, estimator.tol)
    # The class counts (class_weight="balanced") are the weighted counts
    # already reduced.
    result = estimator._train(
        solver, objective, initial_theta(estimator, objective, classes, mode, rng),
        (X, y, user_weight), (classes, loss, mode), continued=False,
        rng=getattr(solver, "random_state", None),
        counts=counts if estimator.class_weight == "balanced" else None,
        early_stopping=early,
    )
    warn_if_not_converged(
        estimator, result, objective,
        scaler="dask_ml.preprocessing.StandardScaler",
    )
    if estimator.penalty is None or not estimator.alpha > 0:
        _warn_if_separated(objective, result.theta, mode, estimator.coef_)
    return estimator

