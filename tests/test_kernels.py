"""Every route of skloss._kernels computes what the generic route computes."""

import threading

import numpy as np
import pytest
import scipy.sparse as sp
from blocked_problems import blocked_problem

import skloss._kernels as kernels
from skloss import GDLogisticClassifier, Loss
from skloss._kernels import (
    BatchRows,
    BlockedRoute,
    GenericRoute,
    NumpyRoute,
    Rows,
    route,
)
from skloss._objective import LinearObjective
from skloss.losses import LogLoss
from skloss.losses._guard import GuardedLoss

ROUTES = {
    "numpy": lambda: NumpyRoute(),
    "blocked": lambda: BlockedRoute(37),  # 600 rows: 16 full blocks and a short one
}


def _rows(kind, dtype, weighted, fit_intercept, rng):
    loss, X, y, sw = blocked_problem(kind, dtype, weighted, rng)
    X, y = X[:600], y[:600]
    if sw is not None:
        sw = sw[:600] / sw[:600].sum()
    scale = None if sw is not None else 1.0 / X.shape[0]
    rows = Rows(X, y, sw, scale, fit_intercept, np)
    K = 1 if y.ndim == 1 else y.shape[1]
    W = (0.3 * rng.standard_normal((X.shape[1], K))).astype(dtype)
    shift = (0.1 * rng.standard_normal(K)).astype(dtype)
    return loss, rows, W, shift


@pytest.mark.parametrize("name", sorted(ROUTES))
@pytest.mark.parametrize("kind", ["binary", "ovr", "multinomial"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("zero", [False, True], ids=["W", "zero W"])
def test_route_equals_generic(name, kind, dtype, weighted, fit_intercept, zero, rng):
    # Zero coefficients (a fit's start) take the shift as decision values
    # without a product with X; the reference takes the product with the
    # tiniest coefficients, whose decision values round to the same.
    loss, rows, W, shift = _rows(kind, dtype, weighted, fit_intercept, rng)
    W_ref = W
    if zero:
        W, W_ref = np.zeros_like(W), np.full_like(W, np.finfo(dtype).tiny)
    like = np.empty((W.shape[0] + 1, W.shape[1]), dtype=dtype)
    fast, ref = ROUTES[name](), GenericRoute()
    v1, g1 = fast.loss_gradient(rows, GuardedLoss(loss), W, shift, like)
    v0, g0 = ref.loss_gradient(rows, GuardedLoss(loss), W_ref, shift, like)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert g1.dtype == dtype and g1.shape == like.shape
    np.testing.assert_allclose(v1, v0, rtol=tol)
    np.testing.assert_allclose(g1, g0, rtol=tol, atol=tol * np.abs(g0).max())
    if not fit_intercept:
        assert np.all(g1[-1] == 0)
    checked = GuardedLoss(loss)
    checked.checked = True  # the blocked mean loss only runs once checked
    np.testing.assert_allclose(
        fast.mean_loss(rows, checked, W, shift),
        ref.mean_loss(rows, checked, W_ref, shift), rtol=tol,
    )
    np.testing.assert_allclose(
        fast.mean_square(rows, W, shift), ref.mean_square(rows, W_ref, shift),
        rtol=tol,
    )


def test_generic_route_against_textbook_sums(rng):
    # An independent reference: the weighted mean log loss and its gradient
    # written out with the sigmoid.
    X = rng.standard_normal((50, 3))
    y = (rng.random(50) < 0.5).astype(float)
    sw = rng.uniform(0.5, 2.0, 50)
    sw /= sw.sum()
    W, shift = rng.standard_normal((3, 1)), np.array([0.2])
    z = X @ W[:, 0] + shift[0]
    p = 1.0 / (1.0 + np.exp(-z))
    value = np.sum(sw * (np.logaddexp(0.0, z) - y * z))
    g = sw * (p - y)
    rows = Rows(X, y, sw, None, True, np)
    v, grad = GenericRoute().loss_gradient(
        rows, GuardedLoss(LogLoss()), W, shift, np.empty((4, 1))
    )
    np.testing.assert_allclose(v, value, rtol=1e-12)
    np.testing.assert_allclose(grad[:-1, 0], X.T @ g, rtol=1e-12)
    np.testing.assert_allclose(grad[-1, 0], g.sum(), rtol=1e-12)


def test_route_is_chosen_by_the_data(monkeypatch):
    monkeypatch.setattr(kernels, "_BLOCK_BYTES", 1)
    X, y = np.zeros((600, 3)), np.zeros(600)
    assert route(X, y).name == "blocked" and route(X, y).block_rows == 200
    assert route(np.asfortranarray(X), y).name == "numpy"
    assert route(sp.csr_matrix(X), y).name == "numpy"

    class Wrapped(np.ndarray):
        pass

    assert route(X.view(Wrapped), y).name == "generic"


def test_batch_rows_renormalise_weights(rng):
    X, y = rng.standard_normal((10, 2)), np.arange(10.0)
    sw = np.arange(1.0, 11.0)
    sw /= sw.sum()
    gather = BatchRows(Rows(X, y, sw, None, True, np), 4)
    rows, weight = gather(np.array([0, 3, 5]))
    np.testing.assert_allclose(weight, (1 + 4 + 6) / 55)
    np.testing.assert_allclose(rows.sw, np.array([1.0, 4.0, 6.0]) / 11.0)
    np.testing.assert_array_equal(rows.X, X[[0, 3, 5]])
    zero = BatchRows(Rows(X, y, np.zeros(10), None, True, np), 4)
    assert zero(np.array([1, 2])) is None


# The classifier clones its loss: the threads that called it are kept here.
_CALLERS = []


class _Stateful(Loss):
    """Log loss that keeps its decision values on ``self`` between calls.

    Correct when called from one thread; wrong when two threads interleave
    ``loss`` and ``gradient`` (issue 12, item 8).
    """

    smoothness = 0.25

    def loss(self, y, raw):
        _CALLERS.append(threading.get_ident())
        self.raw_ = raw
        return LogLoss().loss(y, raw)

    def gradient(self, y, raw):
        return LogLoss().gradient(y, self.raw_)


class _DeclaredSafe(_Stateful):
    thread_safe = True

    def gradient(self, y, raw):
        return LogLoss().gradient(y, raw)


def test_user_loss_runs_on_one_thread_unless_thread_safe(monkeypatch, rng):
    monkeypatch.setattr(kernels, "_BLOCK_BYTES", 1)
    monkeypatch.setattr(kernels, "epoch_threads", lambda n: min(n, 3))
    threaded = []
    real = kernels.run_blocks

    def spy(fn, n_blocks, n_threads, first=0):
        threaded.append(n_blocks)
        return real(fn, n_blocks, n_threads, first)

    monkeypatch.setattr(kernels, "run_blocks", spy)
    X = rng.standard_normal((3000, 4))
    y = (X[:, 0] + 0.3 * rng.standard_normal(3000) > 0).astype(int)
    _CALLERS.clear()
    est = GDLogisticClassifier(loss=_Stateful(), max_iter=30, tol=None).fit(X, y)
    assert set(_CALLERS) == {threading.get_ident()}
    unsafe_threaded = len(threaded)  # loss-free sums (curvature) may thread
    ref = GDLogisticClassifier(max_iter=30, tol=None).fit(X, y)
    np.testing.assert_array_equal(est.coef_, ref.coef_)
    threaded.clear()
    safe = GDLogisticClassifier(loss=_DeclaredSafe(), max_iter=30, tol=None)
    safe.fit(X, y)
    # Declared thread-safe: every epoch's loss blocks go to the threads too.
    assert len(threaded) >= unsafe_threaded + 30
    np.testing.assert_array_equal(safe.coef_, ref.coef_)


def test_objective_uses_the_route_it_chose(monkeypatch, rng):
    monkeypatch.setattr(kernels, "_BLOCK_BYTES", 1)
    X = rng.standard_normal((600, 3))
    y = (X[:, 0] > 0).astype(float)
    obj = LinearObjective(LogLoss(), X, y)
    assert obj.route.name == "blocked"
    # Views on other rows choose their own route: 257 rows are still
    # blocked, every other row of a strided view is not C-contiguous.
    assert obj.batch(np.arange(257)).route.name == "blocked"
    assert obj.strided(2).route.name == "numpy"
