"""Array API support: array-api-strict and PyTorch (CPU, CUDA) arrays.

With ``sklearn.set_config(array_api_dispatch=True)`` the estimator trains and
predicts in the namespace and on the device of ``X``. Every built-in loss and
every solver is compared with the NumPy fit of the same model: the same
parameters to a tight tolerance, outputs in the input's namespace, device
and dtype. array-api-strict's "device1" refuses conversion to NumPy, and its
"no_float64" device has no float64 (like PyTorch's "mps"), so both prove the
path never goes through NumPy and never needs float64. CUDA cases skip
without a GPU; PyTorch cases skip without PyTorch.
"""

import os

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.preprocessing import StandardScaler
from sklearn.utils._array_api import get_namespace_and_device
from sklearn.utils.estimator_checks import (
    check_array_api_input,
    check_array_api_input_and_values,
    check_array_api_same_namespace,
)

from skloss import GDLogisticClassifier, available_losses
from skloss.optim import SOLVERS

xs = pytest.importorskip("array_api_strict")

pytestmark = [
    pytest.mark.skipif(
        os.environ.get("SCIPY_ARRAY_API") != "1",
        reason="array API dispatch needs SCIPY_ARRAY_API=1 (set in conftest.py)",
    ),
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
]

try:
    import torch
except ImportError:  # pragma: no cover - torch is optional
    torch = None

HAS_CUDA = torch is not None and torch.cuda.is_available()
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
needs_cuda = pytest.mark.skipif(not HAS_CUDA, reason="no CUDA GPU")

# (library, device): where the data lives.
TARGETS = [
    pytest.param(("array_api_strict", "CPU_DEVICE"), id="strict-cpu"),
    pytest.param(("array_api_strict", "device1"), id="strict-device1"),
    pytest.param(("array_api_strict", "no_float64"), id="strict-no_float64"),
    pytest.param(("torch", "cpu"), id="torch-cpu", marks=needs_torch),
    pytest.param(("torch", "cuda"), id="torch-cuda", marks=needs_cuda),
]

BUILTIN_LOSSES = sorted(
    name
    for name, info in available_losses().items()
    if info["class"].__module__.startswith("skloss.losses")
)
METHODS = ("decision_function", "predict", "predict_proba", "predict_log_proba")


class Target:
    """Makes arrays of one library on one device, and reads them back."""

    def __init__(self, library, device_name):
        self.library = library
        if library == "torch":
            self.module = torch
            self.device = torch.device(device_name)
        else:
            self.module = xs
            self.device = xs.Device(device_name)
        self.float64 = device_name != "no_float64"

    def float_dtype(self, dtype):
        return dtype if self.float64 else np.float32

    def __call__(self, array):
        array = np.asarray(array)
        if array.dtype == np.float64 and not self.float64:
            array = array.astype(np.float32)
        if self.library == "torch":
            return torch.asarray(array, device=self.device)
        return xs.asarray(array, device=self.device)

    def numpy(self, array):
        if self.library == "torch":
            return array.cpu().numpy()
        return np.asarray(xs.asarray(array, device=xs.Device("CPU_DEVICE")))

    def assert_here(self, array, dtype=None):
        """``array`` is of this library, on this device (and of ``dtype``)."""
        with sklearn.config_context(array_api_dispatch=True):
            xp, _, device = get_namespace_and_device(array)
        assert self.library in xp.__name__, (xp.__name__, self.library)
        assert device == self.device, (device, self.device)
        if dtype is not None:
            assert self.numpy(array).dtype == dtype


@pytest.fixture(params=TARGETS)
def target(request):
    return Target(*request.param)


def _data(n_classes, dtype=np.float64, n_samples=60, seed=0):
    X, y = make_classification(
        n_samples=n_samples,
        n_features=5,
        n_informative=3,
        n_classes=n_classes,
        n_clusters_per_class=1,
        random_state=seed,
    )
    return StandardScaler().fit_transform(X).astype(dtype), y


def _fit_both(est, target, X, y, **fit_params):
    """The NumPy fit and the fit on ``target`` of clones of ``est``."""
    dtype = target.float_dtype(X.dtype)
    X = X.astype(dtype)
    fit_np = {k: np.asarray(v).astype(dtype) for k, v in fit_params.items()}
    ref = clone(est).fit(X, y, **fit_np)
    fit_xp = {k: target(v) for k, v in fit_np.items()}
    with sklearn.config_context(array_api_dispatch=True):
        got = clone(est).fit(target(X), target(y), **fit_xp)
    return ref, got, X


def _tolerance(dtype):
    # float32: rounding differences of a few ulps, amplified a little by the
    # step-size rules (Barzilai-Borwein, line searches) over the epochs.
    return dict(rtol=1e-9, atol=1e-11) if dtype == np.float64 else dict(
        rtol=1e-3, atol=1e-3
    )


def _assert_same_model(ref, got, target, X):
    """Same parameters and outputs; outputs of ``target``'s kind."""
    tol = _tolerance(X.dtype)
    for name in ("coef_", "intercept_"):
        target.assert_here(getattr(got, name), X.dtype)
        np.testing.assert_allclose(
            target.numpy(getattr(got, name)), getattr(ref, name), **tol,
            err_msg=name,
        )
    assert got.n_iter_ == ref.n_iter_
    np.testing.assert_allclose(got.loss_curve_, ref.loss_curve_, **tol)
    np.testing.assert_array_equal(got.classes_, ref.classes_)
    Xt = target(X)
    for method in METHODS:
        if not hasattr(ref, method):
            continue
        expected = getattr(ref, method)(X)
        with sklearn.config_context(array_api_dispatch=True):
            result = getattr(got, method)(Xt)
        target.assert_here(result, expected.dtype)
        result = target.numpy(result)
        if method == "predict":
            # Ties at a zero score could flip; the scores are compared above.
            assert np.mean(result == expected) > 0.95
        else:
            np.testing.assert_allclose(result, expected, **tol, err_msg=method)


@pytest.mark.parametrize("solver", sorted(SOLVERS))
@pytest.mark.parametrize("loss", BUILTIN_LOSSES)
@pytest.mark.parametrize(
    "target",
    # strict's "device1" is its CPU device with conversions to NumPy refused.
    [p for p in TARGETS if p.id != "strict-cpu"],
    indirect=True,
)
def test_every_loss_and_solver_matches_numpy(loss, solver, target):
    """Each loss and solver: the same model as NumPy's, on the input's device."""
    for n_classes in (2, 3):
        X, y = _data(n_classes)
        est = GDLogisticClassifier(
            loss=loss, solver=solver, max_iter=5, tol=None, random_state=0,
            batch_size=16,
        )
        ref, got, X = _fit_both(est, target, X, y)
        _assert_same_model(ref, got, target, X)


@pytest.mark.parametrize(
    "params",
    [
        dict(penalty="l1", alpha=0.01),
        dict(penalty="elasticnet", alpha=0.01, l1_ratio=0.5),
        dict(penalty=None, fit_intercept=False),
        dict(multi_class="ovr"),
        dict(learning_rate=0.5, schedule="invscaling"),
        dict(solver="sgd", momentum=0.9, nesterov=True, batch_size=16),
        dict(init="random", random_state=3),
        dict(class_weight="balanced"),
        dict(class_weight={0: 2.0, 1: 0.5, 2: 1.0}),
        dict(early_stopping=True, random_state=0, n_iter_no_change=3),
    ],
    ids=lambda p: ",".join(f"{k}={v}" for k, v in p.items()),
)
def test_options_match_numpy(params, target):
    """Penalties, schedules, init, class weights, early stopping on a device."""
    X, y = _data(3, n_samples=80)
    est = GDLogisticClassifier(max_iter=10, tol=None, random_state=0)
    est.set_params(**params)
    ref, got, X = _fit_both(est, target, X, y)
    _assert_same_model(ref, got, target, X)
    if params.get("early_stopping"):
        np.testing.assert_allclose(got.validation_scores_, ref.validation_scores_)


@pytest.mark.parametrize("solver", ["gd", "nesterov"])
def test_large_data_paths_match_numpy(solver, target):
    """Data large enough for gd's warm start on a strided subsample and
    NumPy's cache-blocked epochs: the same model on every device."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((80_000, 10))
    y = (X[:, 0] + 0.5 * rng.standard_normal(80_000) > 0).astype(int)
    est = GDLogisticClassifier(solver=solver, max_iter=3, tol=None)
    ref, got, X = _fit_both(est, target, X, y)
    _assert_same_model(ref, got, target, X)


def test_sample_weight_on_device(target):
    X, y = _data(3)
    sw = np.random.default_rng(0).uniform(0.0, 2.0, size=y.shape[0])
    sw[:5] = 0.0
    for class_weight in (None, "balanced"):
        est = GDLogisticClassifier(max_iter=10, tol=None, class_weight=class_weight)
        ref, got, X_ = _fit_both(est, target, X, y, sample_weight=sw)
        _assert_same_model(ref, got, target, X_)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept(dtype, target):
    """float32 trains in float32; float64 where the device has it."""
    X, y = _data(2, dtype=dtype)
    est = GDLogisticClassifier(max_iter=5, tol=None)
    ref, got, X = _fit_both(est, target, X, y)
    expected = target.float_dtype(dtype)
    assert X.dtype == expected
    _assert_same_model(ref, got, target, X)
    assert target.numpy(got._theta).dtype == expected


def test_integer_data_trains_in_the_device_float(target):
    """Integer X becomes float64, or float32 on a device without float64."""
    X = np.random.default_rng(0).integers(-3, 4, size=(40, 3))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    Xf = X.astype(target.float_dtype(np.float64))
    ref = GDLogisticClassifier(max_iter=5, tol=None).fit(Xf, y)
    with sklearn.config_context(array_api_dispatch=True):
        got = GDLogisticClassifier(max_iter=5, tol=None).fit(target(X), target(y))
    _assert_same_model(ref, got, target, Xf)


@pytest.mark.parametrize(
    "labels",
    [
        np.array([3, 7, 11]),
        np.array(["cat", "dog", "emu"]),
        np.array([-1.0, 0.0, 2.0]),
        np.array([False, True]),
    ],
    ids=["int", "str", "float", "bool"],
)
def test_labels_are_encoded_on_the_host(labels, target):
    """classes_ is a NumPy array; predict gives labels of the input's kind."""
    X, y_idx = _data(labels.shape[0])
    X = X.astype(target.float_dtype(X.dtype))
    y = labels[y_idx]
    est = GDLogisticClassifier(max_iter=10, tol=None)
    ref = clone(est).fit(X, y)
    Xt = target(X)
    y_in = y if labels.dtype.kind == "U" else target(y)
    with sklearn.config_context(array_api_dispatch=True):
        got = clone(est).fit(Xt, y_in)
        pred = got.predict(Xt)
        if target.float64 or labels.dtype.kind == "U":
            # scikit-learn 1.9's accuracy_score casts to the namespace's
            # default float, float64 in array-api-strict even on its
            # "no_float64" device (PyTorch's default, float32, is fine).
            # PyTorch counts in its default float32.
            assert got.score(Xt, y_in) == pytest.approx(ref.score(X, y), abs=1e-6)
    assert isinstance(got.classes_, np.ndarray)
    np.testing.assert_array_equal(got.classes_, ref.classes_)
    if labels.dtype.kind == "U":
        assert isinstance(pred, np.ndarray)  # strings cannot live on a device
    else:
        target.assert_here(pred)
        pred = target.numpy(pred)
    np.testing.assert_array_equal(pred, ref.predict(X))


def test_warm_start_and_partial_fit_on_device(target):
    X, y = _data(3)
    Xt, yt = target(X), target(y)
    dtype = target.float_dtype(X.dtype)
    classes = np.unique(y)
    ref = GDLogisticClassifier(max_iter=3, tol=None, warm_start=True)
    got = clone(ref)
    ref.fit(X.astype(dtype), y).fit(X.astype(dtype), y)
    with sklearn.config_context(array_api_dispatch=True):
        got.fit(Xt, yt).fit(Xt, yt)
    _assert_same_model(ref, got, target, X.astype(dtype))

    ref = GDLogisticClassifier(solver="sgd", batch_size=16, random_state=0)
    got = clone(ref)
    for _ in range(3):
        ref.partial_fit(X.astype(dtype), y, classes=classes)
        with sklearn.config_context(array_api_dispatch=True):
            got.partial_fit(Xt, yt, classes=target(classes))
    _assert_same_model(ref, got, target, X.astype(dtype))


def test_predict_needs_the_fit_namespace(target):
    """Predicting on NumPy data a model fit on a device names the fix."""
    X, y = _data(2)
    with sklearn.config_context(array_api_dispatch=True):
        est = GDLogisticClassifier(max_iter=3).fit(target(X), target(y))
        for method in METHODS:
            with pytest.raises(ValueError, match=f"{method}\\(\\) must use the same"):
                getattr(est, method)(X.astype(target.float_dtype(X.dtype)))


def test_device1_refuses_numpy():
    """The guard the device1 cases rely on: its arrays do not convert."""
    X = xs.asarray(np.zeros((2, 2)), device=xs.Device("device1"))
    with pytest.raises(RuntimeError):
        np.asarray(X)


@needs_torch
def test_torch_never_converts_to_numpy(monkeypatch):
    """No tensor goes through ``__array__`` or ``.numpy()`` in fit or predict."""
    X, y = _data(3)
    Xt, yt = torch.asarray(X), torch.asarray(y)

    def refuse(*args, **kwargs):
        raise AssertionError("a tensor was converted to NumPy")

    monkeypatch.setattr(torch.Tensor, "__array__", refuse)
    monkeypatch.setattr(torch.Tensor, "numpy", refuse)
    with sklearn.config_context(array_api_dispatch=True):
        for solver in sorted(SOLVERS):
            est = GDLogisticClassifier(solver=solver, max_iter=3, batch_size=16)
            est.fit(Xt, yt)
            for method in METHODS:
                getattr(est, method)(Xt)


@needs_torch
def test_without_dispatch_the_numpy_path_is_unchanged():
    """Without dispatch, torch CPU input is converted and NumPy is used."""
    X, y = _data(3)
    ref = GDLogisticClassifier(max_iter=10, tol=None).fit(X, y)
    got = GDLogisticClassifier(max_iter=10, tol=None).fit(
        torch.asarray(X), torch.asarray(y)
    )
    for name in ("coef_", "intercept_"):
        assert isinstance(getattr(got, name), np.ndarray)
        np.testing.assert_array_equal(getattr(got, name), getattr(ref, name))
    pred = got.predict_proba(torch.asarray(X))
    assert isinstance(pred, np.ndarray)
    np.testing.assert_array_equal(pred, ref.predict_proba(X))


def test_sparse_with_dispatch_stays_numpy():
    X, y = _data(3)
    ref = GDLogisticClassifier(max_iter=10, tol=None).fit(X, y)
    with sklearn.config_context(array_api_dispatch=True):
        got = GDLogisticClassifier(max_iter=10, tol=None).fit(sp.csr_matrix(X), y)
        proba = got.predict_proba(sp.csr_matrix(X))
    assert isinstance(got.coef_, np.ndarray) and isinstance(proba, np.ndarray)
    np.testing.assert_allclose(got.coef_, ref.coef_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(proba, ref.predict_proba(X), rtol=1e-10, atol=1e-12)


# scikit-learn's own array API checks, with values compared to NumPy and with
# sample weights (check_estimator runs them without, from the tag).
SKLEARN_CHECKS = [
    pytest.param("array_api_strict", "CPU_DEVICE", "float64", id="strict-cpu"),
    pytest.param("array_api_strict", "device1", "float32", id="strict-device1"),
    pytest.param("torch", "cpu", "float64", id="torch-cpu", marks=needs_torch),
    pytest.param("torch", "cpu", "float32", id="torch-cpu-32", marks=needs_torch),
    pytest.param("torch", "cuda", "float32", id="torch-cuda", marks=needs_cuda),
]


@pytest.mark.parametrize("solver", sorted(SOLVERS))
@pytest.mark.parametrize("namespace, device, dtype", SKLEARN_CHECKS)
def test_sklearn_array_api_checks(namespace, device, dtype, solver):
    est = GDLogisticClassifier(solver=solver, max_iter=20, tol=None, random_state=0)
    name = type(est).__name__
    if namespace == "array_api_strict" and dtype == "float64":
        # With values: not on PyTorch, whose score() (scikit-learn's
        # accuracy_score) counts in float32, PyTorch's default float.
        check_array_api_input_and_values(
            name, est, array_namespace=namespace, device_name=device,
            dtype_name=dtype, check_sample_weight=True,
        )
    else:
        check_array_api_input(
            name, est, array_namespace=namespace, device_name=device,
            dtype_name=dtype, check_sample_weight=True,
        )
    check_array_api_same_namespace(name, est, namespace, device)
