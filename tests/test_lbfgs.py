"""The limited-memory BFGS direction of "auto" gradient descent."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.preprocessing import StandardScaler

from skloss import GDLogisticClassifier
from skloss.optim import GradientDescent
from skloss.optim._lbfgs import LimitedMemoryBFGS


def _pairs(rng, n_params, n_pairs):
    """Curvature pairs of a quadratic with SPD Hessian: y = A s."""
    M = rng.standard_normal((n_params, n_params))
    A = M @ M.T + n_params * np.eye(n_params)
    return [(s, A @ s) for s in rng.standard_normal((n_pairs, n_params, 1))]


def _dense_bfgs_direction(pairs, g, H0=None):
    """-H g with H from the textbook BFGS update of the inverse Hessian,
    ``H <- (I - rho s y') H (I - rho y s') + rho s s'``, from ``H0`` or
    ``gamma I`` (gamma = s.y / y.y of the newest pair), as a full matrix."""
    n = g.shape[0]
    if H0 is None:
        s_new, y_new = pairs[-1]
        H = (s_new.T @ y_new).item() / (y_new.T @ y_new).item() * np.eye(n)
    else:
        H = H0
    for s, y in pairs:
        rho = 1.0 / (s.T @ y).item()
        V = np.eye(n) - rho * y @ s.T
        H = V.T @ H @ V + rho * s @ s.T
    return -H @ g


@pytest.mark.parametrize("n_pairs", [1, 3, 10, 14])
def test_direction_equals_the_textbook_bfgs_update(n_pairs):
    rng = np.random.default_rng(n_pairs)
    pairs = _pairs(rng, 6, n_pairs)
    bfgs = LimitedMemoryBFGS(np, memory=10)
    for s, y in pairs:
        assert bfgs.update(s, y)
    assert len(bfgs) == min(n_pairs, 10)
    g = rng.standard_normal((6, 1))
    # Only the newest `memory` pairs count.
    np.testing.assert_allclose(bfgs.direction(g),
                               _dense_bfgs_direction(pairs[-10:], g),
                               rtol=1e-10)


@pytest.mark.parametrize("n_pairs", [0, 1, 3, 12])
def test_direction_from_an_initial_matrix_equals_the_textbook_update(n_pairs):
    rng = np.random.default_rng(n_pairs)
    pairs = _pairs(rng, 6, n_pairs)
    M = rng.standard_normal((6, 6))
    H0 = M @ M.T + np.eye(6)
    bfgs = LimitedMemoryBFGS(np, memory=10, initial=lambda v: H0 @ v)
    assert bfgs.ready
    for s, y in pairs:
        assert bfgs.update(s, y)
    g = rng.standard_normal((6, 1))
    np.testing.assert_allclose(bfgs.direction(g),
                               _dense_bfgs_direction(pairs[-10:], g, H0),
                               rtol=1e-10)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_outputs", [1, 3])
def test_matrix_form_equals_the_two_loop_recursion(dtype, n_outputs):
    # The fast route (NumPy, no initial matrix) against the readable one,
    # through pairs added, evicted at `memory`, skipped and forgotten.
    rng = np.random.default_rng(n_outputs)
    n = 7 * n_outputs
    M = rng.standard_normal((n, n))
    A = M @ M.T + np.eye(n)
    bfgs = LimitedMemoryBFGS(np, memory=4)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for step in range(12):
        s = rng.standard_normal((7, n_outputs)).astype(dtype)
        y = (A @ s.ravel()).reshape(s.shape).astype(dtype)
        bfgs.update(s, -y if step == 5 else y)  # step 5: skipped
        if step == 8:
            bfgs.reset()
            continue
        g = rng.standard_normal((7, n_outputs)).astype(dtype)
        fast = bfgs.direction(g)
        assert fast.dtype == dtype and fast.shape == g.shape
        readable = bfgs._two_loop_direction(g)
        np.testing.assert_allclose(fast, readable, rtol=tol,
                                   atol=tol * np.abs(readable).max())


def test_a_failed_initial_matrix_alone_is_forgotten():
    s = np.array([[1.0], [0.0]])
    bfgs = LimitedMemoryBFGS(np, initial=lambda v: 3.0 * v)
    assert bfgs.update(s, 2 * s)
    bfgs.failed()  # with pairs: the pairs go, the initial matrix stays
    assert len(bfgs) == 0 and bfgs.ready
    np.testing.assert_allclose(bfgs.direction(s), -3.0 * s)
    bfgs.failed()  # alone: it goes too, and the caller takes its own step
    assert not bfgs.ready and bfgs.direction(s) is None


def test_pairs_without_positive_curvature_are_skipped():
    bfgs = LimitedMemoryBFGS(np)
    s = np.array([[1.0], [0.0]])
    assert not bfgs.update(s, -s)  # s.y < 0
    assert not bfgs.update(s, np.array([[0.0], [1.0]]))  # s.y = 0
    assert bfgs.direction(s) is None  # no pairs: the caller's step
    assert bfgs.update(s, 2 * s)
    np.testing.assert_allclose(bfgs.direction(s), -0.5 * s)
    bfgs.reset()
    assert len(bfgs) == 0


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def test_auto_reaches_the_barzilai_borwein_optimum_in_fewer_epochs(
        digits, monkeypatch):
    # The readable route: memory 0 keeps no pair, every step is
    # Barzilai-Borwein's. Ten classes, 650 coefficients: no Newton finish.
    X, y = digits
    params = dict(alpha=1.0 / X.shape[0], tol=1e-8, max_iter=2000)
    fast = GDLogisticClassifier(**params).fit(X, y)
    monkeypatch.setattr(GradientDescent, "_LBFGS_MEMORY", 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        readable = GDLogisticClassifier(**params).fit(X, y)
    np.testing.assert_allclose(fast.loss_curve_[-1], readable.loss_curve_[-1],
                               rtol=1e-10)
    # The cost is alpha-strongly convex: 4e-13 apart in cost bounds the
    # weights to sqrt(2 * 4e-13 / alpha) = 4e-5 of each other.
    np.testing.assert_allclose(fast.coef_, readable.coef_, atol=1e-4)
    # Measured: 141 against 217 epochs.
    assert fast.n_iter_ < 0.75 * readable.n_iter_
    assert any(step == 1.0 for step in fast.step_sizes_)
    assert not any(step == 1.0 for step in readable.step_sizes_[1:])
