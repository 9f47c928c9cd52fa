"""scikit-learn's estimator checks with every built-in loss, no expected failures."""

from sklearn.utils.estimator_checks import parametrize_with_checks
from user_losses.mylosses import SmoothHinge  # noqa: F401 - registers it

from skloss import GDLogisticClassifier, available_losses
from skloss.losses._registry import is_builtin

BUILTIN_LOSSES = [
    name for name, info in available_losses().items() if is_builtin(info["class"])
]
# A user's loss, registered from its own module, passes the same checks.
USER_LOSSES = ["user_smooth_hinge"]

# Defaults everywhere, except:
# - perceptron: minimising the perceptron criterion is degenerate (the zero
#   model is a minimiser, see skloss.losses.Perceptron), so it is trained as
#   the batch perceptron algorithm, as its docstring recommends;
# - squared_hinge, modified_huber: the sample-weight equivalence checks
#   compare two fits to 1e-7 on 15 separable samples in 30 dimensions, where
#   only the support vectors curve these losses; with alpha=1e-4 the cost is
#   so ill-conditioned that tol=1e-6 on the gradient leaves ~1e-2 error in
#   the decision function. alpha=1e-2 and tol=1e-12 (an error of about
#   tol / alpha = 1e-10, well inside the check's 1e-7) make the check test
#   the weights, not the conditioning or where the solver happened to stop
#   (the user's smoothed hinge is piecewise quadratic too).
SETTINGS = {
    "perceptron": dict(learning_rate=1.0, penalty=None, tol=None, max_iter=100),
    "squared_hinge": dict(alpha=1e-2, tol=1e-12),
    "modified_huber": dict(alpha=1e-2, tol=1e-12),
    "user_smooth_hinge": dict(alpha=1e-2, tol=1e-12),
}


def test_every_builtin_loss_is_checked():
    # The list: 8 binary and 3 multiclass losses.
    assert len(BUILTIN_LOSSES) == 11


@parametrize_with_checks(
    [GDLogisticClassifier(loss=name, **SETTINGS.get(name, {}))
     for name in BUILTIN_LOSSES + USER_LOSSES]
)
def test_sklearn_compatible_with_loss(estimator, check):
    check(estimator)
