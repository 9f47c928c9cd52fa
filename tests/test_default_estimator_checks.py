"""scikit-learn's estimator checks at the defaults (issue 11, item 1).

Every solver with every other parameter at its default, and the matrix of
binary losses x solvers. Two configurations still fail one check each (on
dense and sparse data) at their defaults; they are listed with the reason
below (scikit-learn marks them as expected failures), so a fix shows up as
an unexpected pass.
"""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skloss import GDLogisticClassifier, available_losses
from skloss.losses._registry import is_builtin

SOLVERS = ("gd", "nesterov", "sgd", "adam")
BINARY_LOSSES = [
    name for name, info in available_losses().items()
    if is_builtin(info["class"]) and not info["multiclass"]
]

_EQUIVALENCE = (
    "gd 'auto' stops at max |gradient| <= tol = 1e-6; on the check's 15 x 30 "
    "separable problem, curved only by alpha = 1e-4 outside the quadratic "
    "pieces, the weighted and repeated fits then differ by 1e-4 (relative), "
    "the check allows 1e-7 (tol=1e-12 reaches 5e-9 in ~2200 epochs)"
)
KNOWN_FAILURES = {
    ("modified_huber", "gd"): {
        "check_sample_weight_equivalence_on_dense_data": _EQUIVALENCE,
        "check_sample_weight_equivalence_on_sparse_data": _EQUIVALENCE,
    },
    ("squared_hinge", "gd"): {
        "check_sample_weight_equivalence_on_dense_data": _EQUIVALENCE,
        "check_sample_weight_equivalence_on_sparse_data": _EQUIVALENCE,
    },
}


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
