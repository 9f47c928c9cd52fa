"""Array namespace and device helpers, in one place.

skloss computes in the array namespace (``xp``) and on the device of the
training data ``X`` when scikit-learn's ``array_api_dispatch`` is enabled
(``sklearn.set_config(array_api_dispatch=True)``), and in NumPy otherwise.
Everything the estimator needs to know about namespaces goes through these
helpers, which wrap scikit-learn's private ``sklearn.utils._array_api`` so
that a change there is absorbed here.

Labels are the exception: like scikit-learn, skloss encodes them on the host
(they may be strings), and only the integer class indices and the float
targets travel to the device.
"""

import numpy as np
import scipy.sparse as sp
from sklearn import get_config
from sklearn.utils._array_api import (
    _is_numpy_namespace,
    _max_precision_float_dtype,
    get_namespace_and_device,
    move_to,
)
from sklearn.utils._array_api import check_same_namespace as _check_same_namespace
from sklearn.utils._array_api import get_namespace as _get_namespace

try:  # scikit-learn's vendored copy, the one its dispatch uses
    from sklearn.externals.array_api_compat import is_array_api_obj as _is_array
except ImportError:  # pragma: no cover - older scikit-learn
    from array_api_compat import is_array_api_obj as _is_array

# The namespace get_namespace gives without dispatch (array_api_compat's
# NumPy wrapper).
_NUMPY = _get_namespace()[0]

__all__ = [
    "bincount",
    "check_same_namespace",
    "float_dtypes",
    "is_numpy",
    "namespace_and_device",
    "take_labels",
    "take_rows",
    "to_device",
    "to_host",
]


def namespace_and_device(*arrays):
    """The array namespace and device shared by ``arrays``.

    None entries and sparse matrices are ignored. Without array API dispatch
    (the default) the namespace is NumPy's and the device is None, whatever
    the inputs.

    Parameters
    ----------
    *arrays : arrays or None
        Arrays of one namespace and device.

    Returns
    -------
    xp : module
        The array namespace (array_api_compat's wrapper for NumPy, PyTorch
        and CuPy).
    device : object or None
        The device of the arrays (None for NumPy without dispatch).

    Examples
    --------
    >>> import numpy as np
    >>> from skloss._array_api import is_numpy, namespace_and_device
    >>> xp, device = namespace_and_device(np.zeros(3))
    >>> is_numpy(xp), device
    (True, None)
    """
    if not get_config()["array_api_dispatch"]:
        # The default: NumPy, whatever the inputs (a fast path for predict).
        return _NUMPY, None
    arrays = [a for a in arrays if a is not None and not sp.issparse(a)]
    xp, _, device = get_namespace_and_device(*arrays)
    return xp, device


def is_numpy(xp):
    """Whether ``xp`` computes with NumPy arrays (NumPy or its wrappers).

    Parameters
    ----------
    xp : module
        An array namespace.

    Returns
    -------
    bool

    Examples
    --------
    >>> import numpy as np
    >>> from skloss._array_api import is_numpy, namespace_and_device
    >>> is_numpy(namespace_and_device(np.zeros(2))[0])
    True
    """
    return _is_numpy_namespace(xp)


def float_dtypes(xp, device=None):
    """The float dtypes data may train in, highest precision first.

    float64 and float32 where the device has float64, else float32 alone
    (e.g. PyTorch's "mps" device): data of another dtype is converted to the
    first.

    Parameters
    ----------
    xp : module
        An array namespace.
    device : object, default=None
        A device of ``xp``.

    Returns
    -------
    list of dtypes

    Examples
    --------
    >>> import numpy as np
    >>> from skloss._array_api import float_dtypes
    >>> float_dtypes(np)
    [<class 'numpy.float64'>, <class 'numpy.float32'>]
    """
    if _max_precision_float_dtype(xp, device) == xp.float32:
        return [xp.float32]
    return [xp.float64, xp.float32]


def to_device(array, xp, device, dtype=None):
    """``array`` in namespace ``xp`` on ``device`` (a no-op when it is there).

    Transfers go through DLPack where the libraries support it, so moving
    between, e.g., CuPy and PyTorch on one GPU does not pass through the host.

    Parameters
    ----------
    array : array or None
        An array of any supported namespace and device; None is returned
        unchanged.
    xp : module
        The target namespace.
    device : object or None
        The target device.
    dtype : dtype of ``xp``, default=None
        When given, the result is cast to it (on the target device).

    Returns
    -------
    array or None

    Examples
    --------
    >>> import numpy as np
    >>> from skloss._array_api import namespace_and_device, to_device
    >>> xp, device = namespace_and_device(np.zeros(2))
    >>> to_device(np.arange(3), xp, device, dtype=xp.float32)
    array([0., 1., 2.], dtype=float32)
    """
    if array is None:
        return None
    if is_numpy(xp) and (isinstance(array, np.ndarray) or not _is_array(array)):
        # Lists, scalars, NumPy arrays and (without dispatch) anything else:
        # the plain NumPy path, exactly as before array API support.
        array = np.asarray(array)
    else:
        array = move_to(array, xp=xp, device=device)
    if dtype is not None and array.dtype != dtype:
        array = xp.astype(array, dtype)
    return array


def to_host(array):
    """``array`` as a NumPy array in host memory.

    Used for labels only (they may be strings), as scikit-learn does; the
    training data never takes this path.

    Parameters
    ----------
    array : array-like
        An array of any supported namespace and device, or a list.

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> from skloss._array_api import to_host
    >>> to_host(["a", "b"])
    array(['a', 'b'], dtype='<U1')
    """
    if isinstance(array, np.ndarray) or not _is_array(array):
        return np.asarray(array)
    return move_to(array, xp=np, device="cpu")


def check_same_namespace(X, estimator, method, attribute="coef_"):
    """Raise when ``X`` is not of the namespace and device the model was fit on.

    A no-op without array API dispatch. The error names the estimator and
    the method, and says how to move the estimator (scikit-learn's
    ``move_estimator_to``).

    Parameters
    ----------
    X : array-like or sparse matrix
        The data passed to ``method``.
    estimator : estimator
        The fitted estimator.
    method : str
        The name of the calling method, for the message.
    attribute : str, default="coef_"
        A fitted array attribute of ``estimator``.

    Raises
    ------
    ValueError
        When namespaces or devices differ.

    Examples
    --------
    >>> import numpy as np
    >>> from skloss import GDLogisticClassifier
    >>> from skloss._array_api import check_same_namespace
    >>> clf = GDLogisticClassifier().fit([[0.0], [1.0]], [0, 1])
    >>> check_same_namespace(np.zeros((1, 1)), clf, "predict") is None
    True
    """
    _check_same_namespace(X, estimator, attribute=attribute, method=method)


def take_labels(classes, indices):
    """The labels ``classes[indices]``, where ``indices`` live.

    Class labels are kept on the host (they may be strings). Numeric and
    boolean labels are sent to the namespace and device of ``indices`` and
    the result stays there; other labels (strings, objects) cannot live on a
    device, so the indices come to the host and the result is a NumPy array,
    as in scikit-learn.

    Parameters
    ----------
    classes : array of shape (n_classes,)
        The class labels, on the host (or numeric labels anywhere).
    indices : array of int of shape (n_samples,)
        Class indices, in any namespace and on any device.

    Returns
    -------
    labels : array of shape (n_samples,)

    Examples
    --------
    >>> import numpy as np
    >>> from skloss._array_api import take_labels
    >>> take_labels(np.array(["no", "yes"]), np.array([1, 0, 1]))
    array(['yes', 'no', 'yes'], dtype='<U3')
    """
    xp, device = namespace_and_device(indices)
    if is_numpy(xp):
        return to_host(classes)[np.asarray(indices)]
    if isinstance(classes, np.ndarray) and classes.dtype.kind not in "biuf":
        return classes[to_host(indices)]
    # Numeric labels, on the host or (after move_estimator_to) on a device.
    return xp.take(to_device(classes, xp, device), indices, axis=0)


def take_rows(X, indices):
    """The rows ``indices`` of ``X`` (dense array of any namespace, or CSR).

    Parameters
    ----------
    X : array or sparse matrix of shape (n_samples, ...)
        Data in any namespace, on any device.
    indices : array of int of shape (n_rows,)
        Row indices, on the host or on the device of ``X``.

    Returns
    -------
    rows : array or sparse matrix of shape (n_rows, ...)

    Examples
    --------
    >>> import numpy as np
    >>> from skloss._array_api import take_rows
    >>> take_rows(np.arange(6).reshape(3, 2), np.array([2, 0]))
    array([[4, 5],
           [0, 1]])
    """
    if X is None:
        return None
    if sp.issparse(X) or isinstance(X, np.ndarray):
        return X[np.asarray(indices)]
    xp, device = namespace_and_device(X)
    return xp.take(X, to_device(indices, xp, device), axis=0)


def bincount(indices, weights, n_bins):
    """Weighted counts per bin, as a float64 NumPy array on the host.

    ``numpy.bincount`` for NumPy input; on other namespaces the sums are
    computed on the device (one comparison per bin, no scatter needed) and
    only the ``n_bins`` totals come to the host.

    Parameters
    ----------
    indices : array of int of shape (n_samples,)
        Bin of each sample, in ``range(n_bins)``; on the host or on the
        device of ``weights``.
    weights : array of shape (n_samples,) or None
        Weight of each sample (None counts samples).
    n_bins : int
        Number of bins.

    Returns
    -------
    counts : numpy.ndarray of shape (n_bins,)

    Examples
    --------
    >>> import numpy as np
    >>> from skloss._array_api import bincount
    >>> bincount(np.array([0, 2, 2]), np.array([1.0, 0.5, 0.25]), 3)
    array([1.  , 0.  , 0.75])
    """
    if weights is None or isinstance(weights, np.ndarray):
        indices = to_host(indices)
        weights = None if weights is None else np.asarray(weights)
        return np.bincount(indices, weights=weights, minlength=n_bins).astype(
            np.float64
        )
    xp, device = namespace_and_device(weights)
    indices = to_device(indices, xp, device)
    bins = xp.arange(n_bins, dtype=indices.dtype, device=device)
    hits = indices[:, None] == bins[None, :]
    zero = xp.zeros((), dtype=weights.dtype, device=device)
    counts = xp.sum(xp.where(hits, weights[:, None], zero), axis=0)
    return to_host(counts).astype(np.float64)
