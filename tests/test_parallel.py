"""The threaded cache-blocked epoch (skloss._parallel and LinearObjective).

Threads are forced on small data (blocks of at most 256 rows, ``epoch_threads``
patched to 3) so that these tests are fast and exercise the threaded path
on any machine; no test asserts a time.
"""

import multiprocessing
import os
import threading
import time
import warnings

import numpy as np
import pytest
from blocked_problems import D, N, blocked_problem
from threadpoolctl import threadpool_limits

import skloss._kernels as kernels_module
from skloss._kernels import NumpyRoute
import skloss._parallel as parallel
from skloss import GDLogisticClassifier, Loss
from skloss._objective import LinearObjective
from skloss._penalties import make_penalty
from skloss.losses import LogLoss


@pytest.fixture
def threaded(monkeypatch):
    """Blocks of at most 256 rows on 3 threads; returns the run_blocks calls."""
    calls = []
    run_blocks = parallel.run_blocks

    def spy(fn, n_blocks, n_threads, first=0):
        calls.append((n_blocks, n_threads, first))
        return run_blocks(fn, n_blocks, n_threads, first)

    monkeypatch.setattr(kernels_module, "_BLOCK_BYTES", 1)
    monkeypatch.setattr(kernels_module, "epoch_threads", lambda n: min(n, 3))
    monkeypatch.setattr(kernels_module, "run_blocks", spy)
    return calls


def _problem(kind, dtype, weighted, fit_intercept, seed=0):
    rng = np.random.default_rng(seed)
    loss, X, y, sw = blocked_problem(kind, dtype, weighted, rng)
    obj = LinearObjective(
        loss, X, y, sample_weight=sw, penalty=make_penalty("l2", 0.01),
        fit_intercept=fit_intercept,
    )
    theta = obj.zeros()
    theta[...] = 0.3 * rng.standard_normal(theta.shape)
    return obj, theta


# -- run_blocks ------------------------------------------------------------------
def test_run_blocks_keeps_block_order():
    rng = np.random.default_rng(0)
    delays = rng.uniform(0, 2e-3, 40)

    def fn(i):
        time.sleep(delays[i])  # finish out of order
        return i, threading.get_ident()

    out = parallel.run_blocks(fn, 40, n_threads=3, first=2)
    assert [i for i, _ in out] == list(range(2, 40))
    assert parallel.run_blocks(fn, 3, n_threads=2, first=3) == []


@pytest.mark.parametrize("failing", [[0], [5], [4, 7], list(range(30))])
def test_run_blocks_raises_the_first_error_unchanged(failing):
    errors = {i: ValueError(f"block {i}") for i in failing}

    def fn(i):
        time.sleep(1e-4)
        if i in errors:
            raise errors[i]
        return i

    with pytest.raises(ValueError) as info:
        parallel.run_blocks(fn, 30, n_threads=3)
    assert info.value is errors[min(failing)]
    # The pool is still usable afterwards.
    assert parallel.run_blocks(lambda i: i, 10, n_threads=3) == list(range(10))


def test_epoch_threads_follows_the_blas_budget():
    with threadpool_limits(limits=1):
        assert parallel.epoch_threads(100) == 1
    assert parallel.epoch_threads(1) == 1
    assert 1 <= parallel.epoch_threads(100) <= max(os.cpu_count() or 1, 1) * 4


# -- threaded epochs -------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kind", ["binary", "ovr", "multinomial"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_threaded_epoch_matches_one_pass(
    dtype, kind, weighted, fit_intercept, threaded
):
    obj, theta = _problem(kind, dtype, weighted, fit_intercept)
    one_pass, _ = _problem(kind, dtype, weighted, fit_intercept)
    one_pass.route = NumpyRoute()
    v1, g1 = obj.smooth_value_gradient(theta)  # block 0 checked serially
    v2, g2 = obj.smooth_value_gradient(theta)  # every block threaded
    v0, g0 = one_pass.smooth_value_gradient(theta)
    assert threaded == [(6, 3, 1), (6, 3, 0)]
    tol = 1e-4 if dtype == np.float32 else 1e-12
    for value, grad in ((v1, g1), (v2, g2)):
        assert grad.dtype == dtype and grad.shape == theta.shape
        np.testing.assert_allclose(value, v0, rtol=tol)
        np.testing.assert_allclose(grad, g0, rtol=tol, atol=tol * np.abs(g0).max())
    if not fit_intercept:
        assert np.all(g2[-1] == 0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kind", ["binary", "multinomial"])
def test_threaded_epoch_is_bit_identical(kind, dtype, threaded, monkeypatch):
    obj, theta = _problem(kind, dtype, True, True)
    results = [obj.smooth_value_gradient(theta) for _ in range(10)]
    for value, grad in results[1:]:
        assert value == results[0][0]
        np.testing.assert_array_equal(grad, results[0][1])
    # The same blocks summed in the same order on one thread.
    monkeypatch.setattr(kernels_module, "epoch_threads", lambda n: 1)
    value, grad = obj.smooth_value_gradient(theta)
    assert value == results[0][0]
    np.testing.assert_array_equal(grad, results[0][1])


def test_threaded_fits_are_reproducible(threaded):
    obj, _ = _problem("multinomial", np.float64, False, True)
    X, y = obj.X, obj.y.argmax(axis=1)
    fits = [
        GDLogisticClassifier(solver=solver, max_iter=30, tol=None, random_state=0)
        .fit(X, y)
        for solver in ("gd", "gd", "nesterov", "nesterov")
    ]
    assert threaded  # full-data epochs went through the threads
    for a, b in (fits[:2], fits[2:]):
        np.testing.assert_array_equal(a.coef_, b.coef_)
        np.testing.assert_array_equal(a.intercept_, b.intercept_)


def test_threadpool_limits_gives_the_serial_epoch(monkeypatch):
    monkeypatch.setattr(kernels_module, "_BLOCK_BYTES", 1)
    calls = []
    monkeypatch.setattr(
        kernels_module, "run_blocks", lambda *args, **kw: calls.append(args)
    )
    obj, theta = _problem("multinomial", np.float64, False, True)
    with threadpool_limits(limits=1):
        for _ in range(2):
            obj.smooth_value_gradient(theta)
    assert calls == []


def test_small_data_takes_no_thread(monkeypatch):
    def fail(*args, **kwargs):  # pragma: no cover - fails the test if reached
        raise AssertionError("no thread logic for one-pass epochs")

    monkeypatch.setattr(kernels_module, "epoch_threads", fail)
    monkeypatch.setattr(kernels_module, "run_blocks", fail)
    obj, theta = _problem("multinomial", np.float64, False, True)
    assert obj.route.name == 'numpy'
    obj.smooth_value_gradient(theta)


# -- faults ----------------------------------------------------------------------
# The classifier clones its loss (attributes other than parameters are not
# kept): the call count and the error live here.
_FAILURE = {"lock": threading.Lock(), "calls": 0, "error": None}


class _FailsOnBlock(Loss):
    """Log loss that raises on its call number ``fail_at`` (from 0)."""

    smoothness = 0.25
    thread_safe = True  # its state is behind a lock

    def __init__(self, fail_at=3):
        self.fail_at = fail_at

    def loss_gradient(self, y, raw):
        with _FAILURE["lock"]:
            calls = _FAILURE["calls"]
            _FAILURE["calls"] += 1
        if calls >= self.fail_at:
            raise _FAILURE["error"]
        return LogLoss().loss_gradient(y, raw)


def _failing_loss(fail_at):
    _FAILURE.update(calls=0, error=ValueError("user loss failed"))
    return _FailsOnBlock(fail_at)


@pytest.mark.parametrize("fail_at", [0, 3, 8])
def test_loss_error_in_a_worker_propagates_unchanged(fail_at, threaded):
    obj, theta = _problem("binary", np.float64, False, True)
    loss = _failing_loss(fail_at)
    obj.loss = loss
    with pytest.raises(ValueError) as info:
        obj.smooth_value_gradient(theta)
        obj.smooth_value_gradient(theta)
    assert info.value is _FAILURE["error"]


def test_loss_contract_checked_before_threads(threaded):
    class WrongShape(Loss):
        smoothness = 0.25

        def loss_gradient(self, y, raw):
            return np.zeros(raw.shape[0] + 1), np.zeros_like(raw)

    obj, theta = _problem("binary", np.float64, False, True)
    obj.loss = WrongShape()
    with pytest.raises(ValueError, match="breaks the loss contract"):
        obj.smooth_value_gradient(theta)
    assert threaded == []


def test_failed_threaded_refit_keeps_the_model(threaded):
    obj, _ = _problem("binary", np.float64, False, True)
    X, y = obj.X, obj.y.astype(int)
    est = GDLogisticClassifier(max_iter=20, tol=None).fit(X, y)
    coef, intercept = est.coef_.copy(), est.intercept_.copy()
    loss = _failing_loss(4)
    est.set_params(loss=loss)
    with pytest.raises(ValueError) as info:
        est.fit(X, y)
    assert info.value is _FAILURE["error"]
    np.testing.assert_array_equal(est.coef_, coef)
    np.testing.assert_array_equal(est.intercept_, intercept)


# -- fork --------------------------------------------------------------------------
_FORKED = {}  # the objective (it holds a module: not picklable), inherited


def _epoch_in_child():
    value, grad = _FORKED["obj"].smooth_value_gradient(_FORKED["theta"])
    return value, grad, parallel._state["pid"] == os.getpid()


@pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="no fork"
)
def test_threaded_epoch_after_fork(threaded):
    obj, theta = _problem("multinomial", np.float64, True, True)
    expected = obj.smooth_value_gradient(theta)  # the parent's pool exists
    assert parallel._state["workers"] >= 2
    _FORKED.update(obj=obj, theta=theta)
    with warnings.catch_warnings():
        # Python 3.12+ warns about fork() in a process with threads: that
        # is the situation under test.
        warnings.simplefilter("ignore", DeprecationWarning)
        with multiprocessing.get_context("fork").Pool(1) as pool:
            value, grad, own_pool = pool.apply_async(_epoch_in_child).get(
                timeout=60
            )
    assert own_pool  # the child made its own pool ...
    assert value == expected[0]  # ... and computed the same epoch
    np.testing.assert_array_equal(grad, expected[1])
    assert parallel._state["pid"] == os.getpid()



def test_one_blas_thread_limits_this_thread_and_restores(monkeypatch):
    # With per-thread BLAS controls, the context sets this thread's limit to
    # 1 and gives it back to the process-wide setting (0) on exit, errors
    # included; without controls it does nothing.
    calls = []
    controls = [(lambda: 2, calls.append, None)]
    monkeypatch.setitem(parallel._state, "blas", controls)
    with parallel.one_blas_thread():
        assert calls == [1]
    assert calls == [1, 0]
    with pytest.raises(ValueError, match="inside"), parallel.one_blas_thread():
        raise ValueError("inside")
    assert calls == [1, 0, 1, 0]
    monkeypatch.setitem(parallel._state, "blas", [])
    with parallel.one_blas_thread():
        pass
    assert calls == [1, 0, 1, 0]


def test_serial_blas_sets_the_process_count_once_and_restores_it(monkeypatch):
    # Nested (or concurrent) threaded epochs: the first sets one thread,
    # the last restores the count it found, errors included.
    calls = []
    controls = [(lambda: 2, None, calls.append)]
    monkeypatch.setitem(parallel._state, "blas", controls)
    with parallel.serial_blas():
        with parallel.serial_blas():
            assert calls == [1]
        assert calls == [1]
    assert calls == [1, 2]
    with pytest.raises(ValueError, match="inside"), parallel.serial_blas():
        raise ValueError("inside")
    assert calls == [1, 2, 1, 2] and parallel._serial["depth"] == 0


@pytest.mark.parametrize("batch_size, limited", [(32, True), (10_000, False)])
def test_small_minibatches_run_blas_on_one_thread(
    batch_size, limited, monkeypatch, blas_thread_entries
):
    # Mini-batch steps of small batches hold BLAS to the calling thread (the
    # products are too small to gain from threads); large batches do not.
    import skloss.optim._minibatch as minibatch

    entered = blas_thread_entries(minibatch)
    monkeypatch.setattr(minibatch, "_BLOCK_BYTES", 32 * D * 8)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N, D))
    y = (X[:, 0] > 0).astype(int)
    reference = GDLogisticClassifier(
        solver="sgd", batch_size=batch_size, max_iter=3, tol=None, random_state=0
    ).fit(X, y)
    assert bool(entered) == limited
    if limited:
        assert len(entered) == 3  # once per epoch
    monkeypatch.setattr(minibatch, "one_blas_thread", parallel.one_blas_thread)
    again = GDLogisticClassifier(
        solver="sgd", batch_size=batch_size, max_iter=3, tol=None, random_state=0
    ).fit(X, y)
    np.testing.assert_array_equal(reference.coef_, again.coef_)


@pytest.mark.parametrize("kind", ["binary", "ovr", "multinomial"])
@pytest.mark.parametrize("weighted", [False, True])
def test_blocked_bound_curvature_matches_one_pass(kind, weighted, threaded):
    # The curvature of gd's first step runs on the epoch's blocks and
    # threads, with the one-pass value.
    obj, theta = _problem(kind, np.float64, weighted, True)
    blocked = obj.bound_curvature(theta)
    assert threaded and threaded[-1][1] == 3  # ran on the threads
    obj._rows_cache = (obj.X, None)  # the one-pass path
    np.testing.assert_allclose(blocked, obj.bound_curvature(theta), rtol=1e-12)


@pytest.mark.parametrize("kind", ["binary", "ovr", "multinomial"])
@pytest.mark.parametrize("weighted", [False, True])
def test_blocked_value_matches_one_pass(kind, weighted, threaded):
    # The cost alone (nesterov's fixed steps, the start of every solver)
    # runs on the epoch's blocks and threads once the loss was checked.
    obj, theta = _problem(kind, np.float64, weighted, True)
    first = obj.smooth_value(theta)  # checks the loss: one pass, no threads
    assert not threaded
    obj.smooth_value_gradient(theta)  # the check is done after this
    calls = len(threaded)
    blocked = obj.smooth_value(theta)
    assert len(threaded) == calls + 1 and threaded[-1][1] == 3
    np.testing.assert_allclose(blocked, first, rtol=1e-12)
    obj._rows_cache = (obj.X, None)  # the one-pass path
    np.testing.assert_allclose(blocked, obj.smooth_value(theta), rtol=1e-12)


@pytest.mark.skipif(parallel._blas_controls() is None,
                    reason="BLAS cannot be limited per thread: epochs are serial")
def test_float32_fits_are_reproducible_on_threads(monkeypatch):
    # OpenBLAS does not always honour the thread-local limit while several
    # threads call it: a product split over two BLAS threads sums in another
    # order. Threaded epochs run with one BLAS thread process-wide.
    monkeypatch.setattr(kernels_module, "_BLOCK_BYTES", 2**16)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40_000, 64)).astype(np.float32)
    y = (X[:, :8].sum(axis=1) + rng.standard_normal(40_000) > 0).astype(int)
    fits = [GDLogisticClassifier(max_iter=30, tol=None).fit(X, y) for _ in range(3)]
    for other in fits[1:]:
        np.testing.assert_array_equal(other.coef_, fits[0].coef_)
        assert other.loss_curve_ == fits[0].loss_curve_
    # The process's BLAS thread count is restored after the epochs.
    with parallel.serial_blas():
        pass
    assert parallel._serial["depth"] == 0
