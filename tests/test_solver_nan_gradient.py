"""A non-finite gradient mid-fit is divergence, for every solver (issue 12.6)."""

import copy

import numpy as np
import pytest
from scipy.special import expit

from skloss import DivergenceError, GDLogisticClassifier, Loss

SOLVERS = ["gd", "nesterov", "sgd", "adam"]


class NaNGradientAfter(Loss):
    """Log loss whose gradient turns NaN after ``after`` gradient calls.

    The count lives in a shared list, so clones and copies count together.
    """

    is_convex = True
    smoothness = 0.25

    def __init__(self, after=3, calls=None):
        self.after = after
        self.calls = calls

    def loss(self, y, raw):
        with np.errstate(invalid="ignore"):  # at the NaN weights
            return np.logaddexp(0.0, raw) - y * raw

    def gradient(self, y, raw):
        self.calls.append(1)
        with np.errstate(invalid="ignore"):
            grad = expit(raw) - y
        if len(self.calls) > self.after:
            grad = np.full_like(grad, np.nan)
        return grad


def _fitted_state(clf):
    return copy.deepcopy(
        {k: v for k, v in vars(clf).items() if k not in clf.get_params()}
    )


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("learning_rate", ["auto", 0.1])
def test_a_nan_gradient_mid_fit_raises_and_keeps_the_model(
    solver, learning_rate, cancer
):
    X, y = cancer
    clf = GDLogisticClassifier(
        solver=solver, learning_rate=learning_rate, max_iter=50, tol=None,
        random_state=0, batch_size=100,
    ).fit(X, y)
    before = _fitted_state(clf)
    calls = []
    clf.set_params(loss=NaNGradientAfter(after=4, calls=calls))
    with pytest.raises(DivergenceError, match="not finite") as info:
        clf.fit(X, y)
    if solver in ("gd", "nesterov"):  # the mini-batch ones see NaN weights
        assert "the gradient is not finite" in str(info.value)
        assert "check_loss" in str(info.value)
    # Caught at once, not after max_iter epochs of step halving.
    assert len(calls) <= 4 + 70
    after = {k: v for k, v in vars(clf).items() if k not in clf.get_params()}
    assert sorted(after) == sorted(before)
    for key in ("coef_", "intercept_", "_theta"):
        assert after[key].tobytes() == before[key].tobytes()
    assert after["loss_curve_"] == before["loss_curve_"]


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_nan_gradient_in_partial_fit_raises_and_keeps_the_model(solver,
                                                                  cancer):
    X, y = cancer
    calls = []
    clf = GDLogisticClassifier(
        solver=solver, loss=NaNGradientAfter(after=10**9, calls=calls),
        random_state=0, batch_size=100,
    )
    for _ in range(2):
        clf.partial_fit(X, y, classes=[0, 1])
    before = _fitted_state(clf)
    clf.loss.after = len(calls) + 1
    with pytest.raises(DivergenceError, match="not finite"):
        clf.partial_fit(X, y)
    after = {k: v for k, v in vars(clf).items() if k not in clf.get_params()}
    for key in ("coef_", "intercept_", "_theta"):
        assert after[key].tobytes() == before[key].tobytes()
    assert after["n_iter_"] == before["n_iter_"] == 2
