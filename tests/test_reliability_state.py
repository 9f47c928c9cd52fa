"""A failed call leaves everything as before: the model and the generator.

Reliability items 12.12 (a ``RandomState`` passed as ``random_state`` is not
advanced by a failed fit) and 12.13 (an error in a callback's teardown,
raised by scikit-learn after the fit method returned, still leaves the
model from before the call).
"""

import numpy as np
import pytest
from test_divergence import assert_same, fitted_state

from skloss import DivergenceError, GDLogisticClassifier

callback = pytest.importorskip("sklearn.callback")


def _data():
    rng = np.random.RandomState(0)
    X = rng.randn(80, 3)
    y = (X[:, 0] + 0.5 * rng.randn(80) > 0).astype(int)
    return X, y


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_a_failed_call_does_not_advance_the_users_generator(method):
    X, y = _data()

    def make():
        return np.random.RandomState(0)

    def state(g):
        return g.get_state(legacy=False)

    g = make()
    clf = GDLogisticClassifier(
        solver="sgd", learning_rate=1e12, init="random", random_state=g
    )
    with pytest.raises(DivergenceError):
        if method == "fit":
            clf.fit(X, y)
        else:
            clf.partial_fit(X, y, classes=[0, 1])
    assert_same(state(g), state(make()), "generator")
    assert not hasattr(clf, "coef_")
    # The next call draws what it would have drawn without the failure.
    clf.set_params(learning_rate=0.1).partial_fit(X, y, classes=[0, 1])
    reference = GDLogisticClassifier(
        solver="sgd", learning_rate=0.1, init="random", random_state=make()
    ).partial_fit(X, y, classes=[0, 1])
    np.testing.assert_array_equal(clf.coef_, reference.coef_)
    np.testing.assert_array_equal(clf.intercept_, reference.intercept_)


class FailingTeardown:
    """A scikit-learn callback whose teardown raises."""

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        raise RuntimeError("teardown failed")

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
        return False


@pytest.mark.parametrize(
    "call",
    ["partial_fit", "warm_start", "fit"],
)
def test_a_failing_callback_teardown_keeps_the_previous_model(call):
    X, y = _data()
    clf = GDLogisticClassifier(solver="sgd", random_state=0, max_iter=5, tol=None)
    clf.fit(X, y)
    clf.set_callbacks(FailingTeardown())
    before = fitted_state(clf)
    with pytest.raises(RuntimeError, match="teardown failed"):
        if call == "partial_fit":
            clf.partial_fit(X, y)
        else:
            clf.set_params(warm_start=call == "warm_start").fit(X[::-1], y[::-1])
    assert_same(fitted_state(clf), before)
    assert not hasattr(clf, "_callback_fit_ctx")


def test_a_failing_teardown_on_a_first_call_leaves_no_model():
    X, y = _data()
    clf = GDLogisticClassifier(solver="sgd", random_state=0)
    clf.set_callbacks(FailingTeardown())
    with pytest.raises(RuntimeError, match="teardown failed"):
        clf.partial_fit(X, y, classes=[0, 1])
    assert not hasattr(clf, "coef_") and not hasattr(clf, "classes_")
