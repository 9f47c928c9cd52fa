"""scikit-learn's estimator checks at the defaults (issue 11, item 1).

Every solver with every other parameter at its default, and the matrix of
binary losses x solvers, with zero expected failures. (gd's Newton finish
is what lets modified Huber and squared hinge pass the sample-weight
equivalence checks, which need the optimum to 1e-7: see
tests/test_newton.py.)
"""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skloss import GDLogisticClassifier, available_losses
from skloss.losses._registry import is_builtin

SOLVERS = ("gd", "nesterov", "sgd", "adam")
BINARY_LOSSES = [
    name for name, info in available_losses().items()
    if is_builtin(info["class"]) and not info["multiclass"]
]

# (loss, solver) -> {check name: reason} for configurations that fail a
# check at their defaults; none do.
KNOWN_FAILURES = {}


def _expected_failures(estimator):
    return KNOWN_FAILURES.get((estimator.loss, estimator.solver), {})


# log_loss is the default loss: its row is "every solver at its defaults";
# every loss at the default solver (gd) is its column. The multiclass losses
# at their defaults are in test_loss_estimator_checks.py.
@parametrize_with_checks(
    [GDLogisticClassifier(loss=loss, solver=s)
     for loss in BINARY_LOSSES for s in SOLVERS],
    expected_failed_checks=_expected_failures,
)
def test_sklearn_compatible_at_defaults(estimator, check):
    check(estimator)
