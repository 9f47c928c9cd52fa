"""Every fast path gives the result of the straightforward implementation.

The fast paths (issue 5, benchmarks/run.py) are: the in-place NumPy
branches of ``LogLoss.loss_gradient`` and ``SoftmaxCrossEntropy.loss_gradient``,
the cache-blocked epoch of ``LinearObjective`` and the diagonal
preconditioner used by ``solver="gd", learning_rate="auto"``.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from blocked_problems import blocked_problem
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

import skloss._kernels as kernels_module
from skloss._kernels import NumpyRoute
from skloss import GDLogisticClassifier
from skloss._objective import LinearObjective
from skloss._penalties import make_penalty
from skloss.losses import LogLoss, SoftmaxCrossEntropy


class _Plain(np.ndarray):
    """An ndarray subclass: losses take their generic (array API) branch."""


def _generic(loss, y, raw):
    out = loss.loss_gradient(y, raw.view(_Plain))
    return tuple(np.asarray(a) for a in out)


# -- losses ----------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(200,), (200, 3)])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
def test_log_loss_fast_path_matches_generic(dtype, shape, label_smoothing, rng):
    raw = (rng.standard_normal(shape) * 10).astype(dtype)
    raw.flat[:6] = [-800.0, -40.0, -0.0, 0.0, 50.0, 900.0]
    y = (rng.random(shape) < 0.5).astype(dtype)
    loss = LogLoss(label_smoothing=label_smoothing)
    fast = loss.loss_gradient(y, raw)
    slow = _generic(loss, y, raw)
    tol = 1e-6 if dtype == np.float32 else 1e-13
    for a, b in zip(fast, slow, strict=True):
        assert type(a) is np.ndarray and a.dtype == dtype and a.shape == shape
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
    np.testing.assert_array_equal(fast[0], loss.loss(y, raw))
    np.testing.assert_array_equal(fast[1], loss.gradient(y, raw))


def test_log_loss_fast_path_leaves_inputs_alone(rng):
    raw = rng.standard_normal(50)
    y = (raw > 0).astype(float)
    raw0, y0 = raw.copy(), y.copy()
    LogLoss().loss_gradient(y, raw)
    np.testing.assert_array_equal(raw, raw0)
    np.testing.assert_array_equal(y, y0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("scale", [1.0, 30.0, 1e3])  # 1e3: the max-shift path
@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
def test_softmax_fast_path_matches_generic(dtype, scale, label_smoothing, rng):
    raw = (rng.standard_normal((300, 5)) * scale).astype(dtype)
    y = np.eye(5, dtype=dtype)[rng.integers(0, 5, 300)]
    loss = SoftmaxCrossEntropy(label_smoothing=label_smoothing)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning may escape
        fast = loss.loss_gradient(y, raw)
    slow = _generic(loss, y, raw)
    tol = 2e-5 if dtype == np.float32 else 1e-12
    for a, b in zip(fast, slow, strict=True):
        assert a.dtype == dtype
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def test_softmax_fast_path_soft_targets_and_tiny_sums(rng):
    y = rng.dirichlet(np.ones(4), size=100)
    loss = SoftmaxCrossEntropy()
    for raw in (rng.standard_normal((100, 4)), rng.standard_normal((100, 4)) - 720):
        fast = loss.loss_gradient(y, raw)
        slow = _generic(loss, y, raw)
        for a, b in zip(fast, slow, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


# -- cache-blocked epoch -------------------------------------------------------
def _objectives(loss, X, y, sw, fit_intercept, monkeypatch):
    """The same objective with blocks of 256 rows, and in one pass."""
    kwargs = dict(
        sample_weight=sw,
        penalty=make_penalty("l2", 0.01),
        fit_intercept=fit_intercept,
    )
    monkeypatch.setattr(kernels_module, "_BLOCK_BYTES", 1)
    blocked = LinearObjective(loss, X, y, **kwargs)
    one_pass = LinearObjective(loss, X, y, **kwargs)
    one_pass.route = NumpyRoute()
    return blocked, one_pass


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("problem", ["binary", "ovr", "multinomial"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_blocked_epoch_matches_one_pass(
    dtype, problem, weighted, fit_intercept, rng, monkeypatch
):
    loss, X, y, sw = blocked_problem(problem, dtype, weighted, rng)
    blocked, one_pass = _objectives(loss, X, y, sw, fit_intercept, monkeypatch)
    assert blocked.route.block_rows == 217
    theta = blocked.zeros()
    theta[...] = 0.3 * rng.standard_normal(theta.shape)
    v1, g1 = blocked.smooth_value_gradient(theta)
    v2, g2 = one_pass.smooth_value_gradient(theta)
    tol = 1e-4 if dtype == np.float32 else 1e-12
    assert g1.dtype == dtype and g1.shape == theta.shape
    np.testing.assert_allclose(v1, v2, rtol=tol)
    np.testing.assert_allclose(g1, g2, rtol=tol, atol=tol * np.abs(g2).max())
    if not fit_intercept:
        assert np.all(g1[-1] == 0)


def test_blocked_path_only_for_dense_c_ordered_numpy(rng, monkeypatch):
    monkeypatch.setattr(kernels_module, "_BLOCK_BYTES", 1)
    X = rng.standard_normal((600, 3))
    y = (X[:, 0] > 0).astype(float)
    assert LinearObjective(LogLoss(), X, y).route.block_rows == 200
    assert LinearObjective(LogLoss(), np.asfortranarray(X), y).route.name == 'numpy'
    assert LinearObjective(LogLoss(), sp.csr_matrix(X), y).route.name == 'numpy'
    assert LinearObjective(LogLoss(), X[:257], y[:257]).route.block_rows == 129
    assert LinearObjective(LogLoss(), X[:256], y[:256]).route.name == 'numpy'


def test_blocked_fit_matches_logistic_regression(rng, monkeypatch):
    monkeypatch.setattr(kernels_module, "_BLOCK_BYTES", 1)
    X = rng.standard_normal((1000, 4))
    y = (X @ [1.0, -2.0, 0.5, 0.0] + rng.logistic(size=1000) > 0).astype(int)
    ref = LogisticRegression(tol=1e-12, max_iter=10_000).fit(X, y)
    clf = GDLogisticClassifier(alpha=1.0 / 1000, tol=1e-10, max_iter=20_000)
    clf.fit(X, y)
    np.testing.assert_allclose(clf.coef_, ref.coef_, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(clf.intercept_, ref.intercept_, rtol=1e-5, atol=1e-6)


# -- diagonal preconditioner ------------------------------------------------------
def _unscaled(rng, n=300, d=5):
    scales = np.logspace(-1, 1, d)
    Z = rng.standard_normal((n, d))
    X = Z * scales + 3.0
    y = (Z @ np.linspace(1, -1, d) > 0).astype(float)
    flip = rng.random(n) < 0.1
    y[flip] = 1 - y[flip]
    return X, y


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("penalty", ["l2", "elasticnet"])
@pytest.mark.parametrize("weighted", [False, True])
def test_preconditioned_cost_is_the_same_function(sparse, penalty, weighted, rng):
    X, y = _unscaled(rng)
    Xf = sp.csr_matrix(X) if sparse else X
    sw = rng.uniform(0.5, 2.0, X.shape[0]) if weighted else None
    obj = LinearObjective(
        LogLoss(),
        Xf,
        y,
        sample_weight=sw,
        penalty=make_penalty(penalty, 0.05, l1_ratio=0.5),
    )
    pre = obj.preconditioned()
    assert pre is not obj and pre.inv_scale is not None
    model = np.concatenate([rng.standard_normal((5, 1)), [[0.4]]])
    theta, theta_p = obj.from_model(model), pre.from_model(model)
    np.testing.assert_allclose(pre.to_model(theta_p), model, rtol=1e-12)
    np.testing.assert_allclose(pre.value(theta_p), obj.value(theta), rtol=1e-12)
    # The chain rule: d/dV = f * d/dW; the intercept row is unchanged.
    _, g = obj.smooth_value_gradient(theta)
    _, g_p = pre.smooth_value_gradient(theta_p)
    np.testing.assert_allclose(g_p[:-1], g[:-1] * pre.inv_scale[:, None], rtol=1e-10)
    np.testing.assert_allclose(g_p[-1], g[-1], rtol=1e-10)
    # The prox in V coordinates is the prox of the same L1 term in W.
    step = 0.3
    prox_p = pre.to_model(pre.prox(theta_p, step))
    f = pre.inv_scale[:, None]
    expected = model.copy()
    W = model[:-1]
    shrink = step * obj.penalty.l1 * f**2
    expected[:-1] = np.sign(W) * np.clip(np.abs(W) - shrink, 0, None)
    np.testing.assert_allclose(prox_p[:-1], expected[:-1], rtol=1e-12, atol=1e-15)


def test_preconditioner_skips_standardized_data(rng):
    X = rng.standard_normal((400, 3))
    X = (X - X.mean(0)) / X.std(0)
    obj = LinearObjective(LogLoss(), X, (X[:, 0] > 0).astype(float))
    assert obj.preconditioned() is obj


@pytest.mark.parametrize("sparse", [False, True])
def test_preconditioned_gd_matches_logistic_regression(sparse, rng):
    X, y = _unscaled(rng)
    n = X.shape[0]
    ref = LogisticRegression(C=1.0, tol=1e-12, max_iter=100_000).fit(X, y)
    Xf = sp.csr_matrix(X) if sparse else X
    clf = GDLogisticClassifier(alpha=1.0 / n, tol=1e-12, max_iter=50_000).fit(Xf, y)
    np.testing.assert_allclose(clf.coef_, ref.coef_, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(clf.intercept_, ref.intercept_, rtol=1e-5, atol=1e-6)


def test_preconditioned_l1_matches_plain_path(rng, monkeypatch):
    X, y = _unscaled(rng)
    kwargs = dict(penalty="l1", alpha=0.02, tol=1e-12, max_iter=200_000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fast = GDLogisticClassifier(**kwargs).fit(X, y)
        monkeypatch.setattr(LinearObjective, "preconditioned", lambda self: self)
        plain = GDLogisticClassifier(**kwargs).fit(X, y)
    assert fast.n_iter_ < plain.n_iter_
    np.testing.assert_array_equal(fast.coef_ == 0, plain.coef_ == 0)
    np.testing.assert_allclose(fast.coef_, plain.coef_, rtol=1e-6, atol=1e-8)


# -- warm start of "auto" on a strided subsample --------------------------------
def test_strided_objective_is_a_view_with_the_subsample_cost(rng):
    X = rng.standard_normal((100, 3))
    y = (X[:, 0] > 0).astype(float)
    sw = rng.uniform(0.5, 2.0, 100)
    obj = LinearObjective(LogLoss(), X, y, sample_weight=sw)
    sub = obj.strided(4, offset=1)
    assert np.shares_memory(sub.X, X) and sub.X.shape == (25, 3)
    direct = LinearObjective(LogLoss(), X[1::4], y[1::4], sample_weight=sw[1::4])
    direct.mean = obj.mean  # the subsample keeps the full data's centring
    theta = obj.zeros()
    theta[...] = rng.standard_normal(theta.shape)
    np.testing.assert_allclose(sub.value(theta), direct.value(theta), rtol=1e-12)
    assert LinearObjective(LogLoss(), sp.csr_matrix(X), y).strided(4) is None


@pytest.fixture
def warm_start_calls(monkeypatch):
    """gd's warm start enabled from 160 rows; the list of its subsample calls."""
    from skloss.optim import GradientDescent

    monkeypatch.setattr(GradientDescent, "_WARM_MIN_ROWS", 10)
    calls = []
    original = LinearObjective.strided_views
    monkeypatch.setattr(
        LinearObjective,
        "strided_views",
        lambda self, *a, **k: calls.append(a) or original(self, *a, **k),
    )
    return calls


@pytest.mark.parametrize("weighted", [False, True])
def test_warm_started_gd_matches_logistic_regression(weighted, rng, warm_start_calls):
    calls = warm_start_calls
    X, y = _unscaled(rng, n=4000, d=5)
    sw = rng.uniform(0.5, 2.0, 4000) if weighted else None
    if weighted:
        sw *= 4000 / sw.sum()  # alpha = 1 / (C * sum(sw)) with C = 1
    ref = LogisticRegression(tol=1e-12, max_iter=100_000).fit(X, y, sample_weight=sw)
    clf = GDLogisticClassifier(alpha=1.0 / 4000, tol=1e-12, max_iter=50_000)
    clf.fit(X, y, sample_weight=sw)
    assert calls, "the warm start did not run"
    np.testing.assert_allclose(clf.coef_, ref.coef_, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(clf.intercept_, ref.intercept_, rtol=1e-5, atol=1e-6)


def test_warm_start_takes_no_full_gradient_at_the_start(rng, warm_start_calls,
                                                        monkeypatch):
    """The warm start moves theta before the whole data's gradient is
    needed: its initial cost is taken at zero coefficients (no pass over
    X) and no gradient of all the rows is computed there. Without the warm
    start (too few rows) that gradient is the first epoch's."""
    from skloss._kernels import NumpyRoute

    evaluated = []
    original = NumpyRoute.loss_gradient

    def recording(self, rows, loss, W, shift, like):
        evaluated.append((rows.X.shape[0], not np.any(W)))
        return original(self, rows, loss, W, shift, like)

    monkeypatch.setattr(NumpyRoute, "loss_gradient", recording)
    X, y = _unscaled(rng, n=4000, d=5)
    GDLogisticClassifier(alpha=1.0 / 4000).fit(X, y)
    assert warm_start_calls, "the warm start did not run"
    assert (4000, True) not in evaluated
    assert (4000 // 16, True) in evaluated  # the subsample's first epoch
    evaluated.clear()
    GDLogisticClassifier(alpha=1.0 / 150).fit(X[:150], y[:150])
    assert evaluated[0] == (150, True)


def test_no_warm_start_for_one_step(rng, warm_start_calls):
    """partial_fit runs one gd step per call: no hidden subsample solve."""
    calls = warm_start_calls
    X, y = _unscaled(rng, n=4000, d=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        GDLogisticClassifier(max_iter=1).fit(X, y)
        GDLogisticClassifier().partial_fit(X, y, classes=[0.0, 1.0])
    assert not calls
    GDLogisticClassifier(max_iter=2, tol=None).fit(X, y)
    assert calls


# -- column statistics ------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("order", ["C", "F"])
def test_column_means_by_one_product_equal_numpy_mean(dtype, order, rng):
    from skloss._scaling import DataStatistics

    X = np.asarray(rng.standard_normal((513, 7)) * np.logspace(-2, 2, 7) + 5.0,
                   dtype=dtype, order=order)
    mean = DataStatistics(X, None, 1.0 / 513, np).weighted_mean()
    assert mean.dtype == dtype
    np.testing.assert_allclose(mean, np.mean(X, axis=0, dtype=np.float64),
                               rtol=10 * np.finfo(dtype).eps * np.sqrt(513))
