"""The objective's value and gradient against independent references."""

import numpy as np
import pytest
import scipy.sparse as sp

from skloss._kernels import GenericRoute
from skloss._objective import LinearObjective
from skloss._penalties import make_penalty
from skloss.losses import LogLoss, SoftmaxCrossEntropy
from skloss.losses._guard import GuardedLoss


def _problem(rng, n_outputs, sparse):
    X = rng.normal(size=(30, 4)) + 2.0  # uncentred, so centring matters
    if sparse:
        X[X < 2.0] = 0.0
        X = sp.csr_matrix(X)
    labels = rng.integers(0, max(n_outputs, 2), size=30)
    if n_outputs == 1:
        y = (labels == 1).astype(float)
    else:
        y = np.eye(n_outputs)[labels]
    sw = rng.uniform(0.1, 3.0, size=30)
    return X, y, sw


def every_problem(test):
    """Parametrize ``test`` over losses, outputs, sparsity, intercept, weights."""
    for name, values in (
        ("weighted", [True, False]),
        ("fit_intercept", [True, False]),
        ("sparse", [False, True]),
        (
            "loss, n_outputs",
            [(LogLoss(), 1), (LogLoss(), 3), (SoftmaxCrossEntropy(), 3)],
        ),
    ):
        test = pytest.mark.parametrize(name, values)(test)
    return test


def _reference_cost(loss, X, y, sw, theta, l2, fit_intercept):
    """The cost written out directly on the model parameters."""
    X = X.toarray() if sp.issparse(X) else X
    W, b = theta[:-1], theta[-1] if fit_intercept else 0.0 * theta[-1]
    raw = X @ W + b
    if y.ndim == 1:
        raw = raw[:, 0]
    per_sample = loss.loss(y, raw)
    if per_sample.ndim == 2:
        per_sample = per_sample.sum(axis=1)
    return np.sum(sw * per_sample) / np.sum(sw) + 0.5 * l2 * np.sum(W * W)


@every_problem
def test_gradient_matches_finite_differences(
    loss, n_outputs, sparse, fit_intercept, weighted, rng
):
    X, y, sw = _problem(rng, n_outputs, sparse)
    l2 = 0.3
    obj = LinearObjective(
        loss, X, y, sample_weight=sw if weighted else None,
        penalty=make_penalty("l2", l2), fit_intercept=fit_intercept,
    )
    weights = sw if weighted else np.ones_like(sw)
    model = rng.normal(size=(X.shape[1] + 1, n_outputs))
    if not fit_intercept:
        model[-1] = 0.0
    theta = obj.from_model(model)

    # The value equals the cost written out on the model parameters.
    ref = _reference_cost(loss, X, y, weights, model, l2, fit_intercept)
    value, grad = obj.smooth_value_gradient(theta)
    np.testing.assert_allclose(value, ref, rtol=1e-12)

    # The gradient equals central finite differences of the value.
    eps = 1e-6
    numeric = np.zeros_like(theta)
    for idx in np.ndindex(theta.shape):
        step = np.zeros_like(theta)
        step[idx] = eps
        numeric[idx] = (obj.value(theta + step) - obj.value(theta - step)) / (2 * eps)
    if not fit_intercept:
        numeric[-1] = 0.0
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-8)


def test_centring_round_trip(rng):
    X, y, _ = _problem(rng, 3, sparse=False)
    obj = LinearObjective(LogLoss(), X, y)
    model = rng.normal(size=(5, 3))
    np.testing.assert_allclose(obj.to_model(obj.from_model(model)), model)
    # The centred parametrisation gives the same decision values.
    direct = X @ model[:-1] + model[-1]
    np.testing.assert_allclose(obj.raw(obj.from_model(model)), direct)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("magnitude", [1.0, 1e200])
def test_model_gradient_is_the_transpose_of_from_model(fit_intercept, magnitude, rng):
    # <model_gradient(g), m> = <g, from_model(m)> for every g and m, in the
    # centred coordinates, the preconditioned ones and those of extreme
    # columns (rescaled implicitly: inv_scale set).
    X, y, _ = _problem(rng, 3, sparse=False)
    X = X * rng.uniform(0.01, 100.0, 4)
    X[:, 1] *= magnitude
    obj = LinearObjective(LogLoss(), X, y, fit_intercept=fit_intercept,
                          penalty=make_penalty("l2", 0.1))
    views = (obj, obj.preconditioned())
    assert any(view.inv_scale is not None for view in views)
    for view in views:
        for _ in range(3):
            g, m = rng.normal(size=(2, 5, 3))
            np.testing.assert_allclose(np.sum(view.model_gradient(g) * m),
                                       np.sum(g * view.from_model(m)),
                                       rtol=1e-10)


@pytest.mark.parametrize("sparse", [False, True])
def test_smoothness_bounds_the_curvature(sparse, rng):
    X, y, sw = _problem(rng, 1, sparse)
    obj = LinearObjective(LogLoss(), X, y, sample_weight=sw,
                          penalty=make_penalty("l2", 0.1))
    L = obj.smoothness()
    Xd = X.toarray() if sparse else X
    Xc = np.column_stack([Xd - obj.mean, np.ones(Xd.shape[0])])
    # The largest curvature of the cost: 1/4 * lambda_max(Xc' S Xc) + l2.
    H = 0.25 * (Xc.T * (sw / sw.sum())) @ Xc
    H[:-1, :-1] += 0.1 * np.eye(X.shape[1])
    assert np.linalg.eigvalsh(H).max() <= L * (1 + 1e-12)


def test_prox_soft_thresholds_coefficients_only(rng):
    X, y, _ = _problem(rng, 1, sparse=False)
    obj = LinearObjective(LogLoss(), X, y, penalty=make_penalty("l1", 1.0))
    theta = np.array([[0.5], [-2.0], [0.05], [1.5], [3.0]])
    out = obj.prox(theta, 0.1)
    np.testing.assert_allclose(out[:-1, 0], [0.4, -1.9, 0.0, 1.4])
    assert out[-1, 0] == 3.0


def test_loss_contract_is_checked_once_per_fit_not_per_batch(monkeypatch, rng):
    from skloss import GDLogisticClassifier

    calls = []
    original = GuardedLoss._finite

    def counting(self, raw, outputs):
        calls.append(len(outputs) == 2)
        return original(self, raw, outputs)

    monkeypatch.setattr(GuardedLoss, "_finite", counting)
    X = rng.normal(size=(200, 3))
    y = (X[:, 0] > 0).astype(int)
    GDLogisticClassifier(solver="sgd", batch_size=20, max_iter=3, tol=None,
                         random_state=0).fit(X, y)
    # 30 mini-batches ran; the views of the cost share one check.
    assert sum(calls) == 1


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(
    "scales",
    [
        [1.0, 3.0, 0.01],
        [1.0, 0.0, 2.0],  # an all-zero column is ordinary
        [1.0, 1e-7, 2.0],  # below 2**-20
        [1.0, 1e7, 2.0],  # above 2**20
        [1e-30, 1.0, 1.0],  # squares underflow in float32
        [2.0**-20, 2.0**20, 1.0],  # the bounds themselves are ordinary
    ],
)
@pytest.mark.parametrize("sparse", [False, True])
def test_magnitude_check_matches_column_maxima(dtype, weighted, scales, sparse, rng):
    # The fast check (whole-array extremes and column mean squares) agrees
    # with its definition: every column's largest |x| in [2**-20, 2**20] or 0.
    X = (rng.uniform(-1.0, 1.0, size=(40, 3)) * np.array(scales)).astype(dtype)
    X[0] = np.sign(X[0]) * np.array(scales, dtype=dtype)  # reach each scale
    y = (rng.random(40) < 0.5).astype(dtype)
    w = rng.uniform(0.0, 2.0, 40) if weighted else None
    colmax = np.max(np.abs(X.astype(np.float64)), axis=0)
    lo, hi = 2.0**-20, 2.0**20
    expected = not np.any((colmax > hi) | ((colmax > 0) & (colmax < lo)))
    if sparse:
        X[X < 0.2 * np.array(scales, dtype=dtype)] = 0.0  # stored and implicit zeros
        colmax = np.max(np.abs(X.astype(np.float64)), axis=0)
        expected = not np.any((colmax > hi) | ((colmax > 0) & (colmax < lo)))
        X = sp.csr_matrix(X)
    obj = LinearObjective(LogLoss(), X, y, sample_weight=w)
    assert (obj.inv_scale is None and obj._sq_norm is None) == expected
    assert obj._stats.is_ordinary() == expected


@every_problem
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_numpy_epoch_matches_the_generic_one(
    loss, n_outputs, sparse, fit_intercept, weighted, dtype, rng
):
    # The NumPy epoch (no array-API dispatch) computes the generic path's
    # value and gradient, in the data's dtype.
    X, y, sw = _problem(rng, n_outputs, sparse)
    X, y = X.astype(dtype), y.astype(dtype)
    obj = LinearObjective(
        loss, X, y, sample_weight=sw.astype(dtype) if weighted else None,
        penalty=make_penalty("l2", 0.1), fit_intercept=fit_intercept,
    )
    theta = rng.normal(size=(5, n_outputs)).astype(dtype)
    assert obj.route.name == "numpy"
    fast = obj.smooth_value_gradient(theta)
    obj.route = GenericRoute()  # force the generic path
    generic = obj.smooth_value_gradient(theta)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert fast[1].dtype == generic[1].dtype == dtype
    np.testing.assert_allclose(fast[0], generic[0], rtol=tol)
    np.testing.assert_allclose(fast[1], generic[1], rtol=tol, atol=tol)


def test_numpy_epoch_is_only_for_host_arrays(rng):
    X = rng.normal(size=(20, 3))
    y = (rng.random(20) < 0.5).astype(float)
    assert LinearObjective(LogLoss(), X, y).route.name == "numpy"
    assert LinearObjective(LogLoss(), sp.csr_matrix(X), y).route.name == "numpy"

    class Wrapped(np.ndarray):
        pass

    assert LinearObjective(LogLoss(), X.view(Wrapped), y).route.name == "generic"


@every_problem
def test_bound_curvature_bounds_the_true_curvature(
    loss, n_outputs, sparse, fit_intercept, weighted, rng
):
    # d' H d from finite differences of the gradient never exceeds the
    # bound; at theta = 0 (all decision values 0) the log loss's curvature
    # is exactly its smoothness 1/4, so there the bound is attained.
    X, y, sw = _problem(rng, n_outputs, sparse)
    obj = LinearObjective(
        loss, X, y, sample_weight=sw if weighted else None,
        penalty=make_penalty("l2", 0.1), fit_intercept=fit_intercept,
    )
    direction = rng.normal(size=(5, n_outputs))
    if not fit_intercept:
        direction[-1] = 0.0
    eps = 1e-6
    for theta in (obj.zeros(), rng.normal(size=(5, n_outputs))):
        g_plus = obj.smooth_value_gradient(theta + eps * direction)[1]
        g_minus = obj.smooth_value_gradient(theta - eps * direction)[1]
        true = np.sum(direction * (g_plus - g_minus)) / (2 * eps)
        bound = obj.bound_curvature(direction)
        assert true <= bound * (1 + 1e-6)
    if isinstance(loss, LogLoss):
        theta = obj.zeros()
        g_plus = obj.smooth_value_gradient(theta + eps * direction)[1]
        g_minus = obj.smooth_value_gradient(theta - eps * direction)[1]
        true = np.sum(direction * (g_plus - g_minus)) / (2 * eps)
        np.testing.assert_allclose(true, obj.bound_curvature(direction), rtol=1e-6)
