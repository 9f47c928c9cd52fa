"""scikit-learn's estimator checks, with no expected failures."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skloss import GDLogisticClassifier

CONFIGURATIONS = [
    GDLogisticClassifier(),
    # A fixed step is textbook descent on the checks' raw, uncentred data
    # (|x| up to ~40): below its safe step 1 / L, about 2e-4; accelerated,
    # as plain descent at that step needs far more epochs than max_iter.
    GDLogisticClassifier(solver="nesterov", learning_rate=1e-4),
    GDLogisticClassifier(penalty=None),
    GDLogisticClassifier(class_weight="balanced"),
    GDLogisticClassifier(solver="nesterov"),
    GDLogisticClassifier(solver="nesterov", penalty="l1"),
    GDLogisticClassifier(solver="sgd", random_state=0),
    GDLogisticClassifier(solver="sgd", momentum=0.9, nesterov=True, random_state=0),
    GDLogisticClassifier(solver="adam", penalty="elasticnet", random_state=0),
]


@parametrize_with_checks(CONFIGURATIONS)
def test_sklearn_compatible(estimator, check):
    check(estimator)
