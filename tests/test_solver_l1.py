"""Every solver minimises the same L1-penalised cost (issue 11.9)."""

import warnings

import numpy as np
import pytest
from scipy.special import expit

from skloss import GDLogisticClassifier

ALPHA = 1e-2


@pytest.fixture(scope="module")
def scaled_cancer(cancer):
    # One column on a scale of 1e6: the objective rescales it internally
    # (per-feature L1 thresholds in its coordinates).
    X, y = cancer
    X = X.copy()
    X[:, 0] *= 1e6
    return X, y


def _cost(clf, X, y):
    z = X @ clf.coef_.ravel() + clf.intercept_[0]
    return float(np.mean(np.logaddexp(0.0, z) - y * z)
                 + ALPHA * np.abs(clf.coef_).sum())


@pytest.fixture(scope="module")
def l1_optimum(scaled_cancer):
    X, y = scaled_cancer
    ref = GDLogisticClassifier(
        solver="gd", penalty="l1", alpha=ALPHA, tol=1e-12, max_iter=20000
    ).fit(X, y)
    # Independent check of optimality (subgradient conditions).
    w = ref.coef_.ravel()
    residual = expit(X @ w + ref.intercept_[0]) - y
    g = X.T @ residual / X.shape[0]
    assert abs(residual.mean()) < 1e-9
    nonzero = w != 0
    # (The scaled column's gradient is met to 1e-12 in the solver's
    # coordinates, 2**20 times coarser in the user's.)
    atol = np.where(np.arange(w.size) == 0, 1e-5, 1e-7)
    assert np.all(np.abs(g + ALPHA * np.sign(w))[nonzero] <= atol[nonzero])
    assert np.all(np.abs(g[~nonzero]) <= ALPHA + 1e-9)
    assert nonzero.sum() < w.size  # the penalty is active
    return ref


@pytest.mark.parametrize("solver, max_iter, rtol", [
    ("gd", 1000, 1e-9), ("nesterov", 1000, 1e-9), ("adam", 1000, 2e-3),
])
def test_l1_reaches_the_same_optimum_on_rescaled_features(
    solver, max_iter, rtol, scaled_cancer, l1_optimum
):
    X, y = scaled_cancer
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = GDLogisticClassifier(
            solver=solver, penalty="l1", alpha=ALPHA, max_iter=max_iter,
            tol=None, random_state=0,
        ).fit(X, y)
    best = _cost(l1_optimum, X, y)
    assert _cost(clf, X, y) == pytest.approx(best, rel=rtol)
    # The same support: the rescaled column's coefficient is not held at
    # zero (or elsewhere) by a threshold of another scale.
    np.testing.assert_array_equal(clf.coef_ == 0, l1_optimum.coef_ == 0)


def test_prox_takes_a_step_per_coordinate(scaled_cancer):
    # An array of steps (Adam's) thresholds each coordinate as the scalar
    # prox with that coordinate's step would, rescaled features included.
    from skloss._objective import LinearObjective
    from skloss._penalties import make_penalty
    from skloss.losses import LogLoss

    X, y = scaled_cancer
    obj = LinearObjective(LogLoss(), X, y.astype(float),
                          penalty=make_penalty("l1", ALPHA))
    assert obj.inv_scale is not None
    rng = np.random.RandomState(0)
    theta = rng.normal(scale=1e-2, size=obj.zeros().shape)
    steps = rng.uniform(0.1, 2.0, size=theta.shape)
    out = obj.prox(theta, steps)
    for j in range(theta.shape[0]):
        np.testing.assert_array_equal(out[j], obj.prox(theta, steps[j, 0])[j])
