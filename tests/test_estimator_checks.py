"""scikit-learn's estimator checks, with no expected failures."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skloss import GDLogisticClassifier

CONFIGURATIONS = [
    GDLogisticClassifier(),
    # A fixed step that suits the checks' unscaled data (|x| up to ~40).
    GDLogisticClassifier(learning_rate=0.01),
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
