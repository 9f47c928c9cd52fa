"""Errors that name the problem, and inputs that were wrongly refused.

Reliability item 12.16: class weights that are not finite numbers >= 0
(named by class, in fit and partial_fit), "balanced" with a class of zero
sample weight (no number given by the user: trained, as scikit-learn's
formula allows), mixed label types, a warm start or partial_fit after the
loss changed the model's form, and parameters given as
``fractions.Fraction``.
"""

from fractions import Fraction

import numpy as np
import pytest
from sklearn.utils._param_validation import InvalidParameterError

from skloss import GDLogisticClassifier


def _data(n=60, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 3)
    y = (X[:, 0] + 0.5 * rng.randn(n) > 0).astype(int)
    return X, y


@pytest.mark.parametrize("weight", [np.inf, np.nan, -1.0, "heavy"])
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_a_bad_class_weight_is_named_by_its_class(weight, method):
    X, y = _data()
    clf = GDLogisticClassifier(class_weight={0: weight, 1: 1.0})
    match = rf"finite and non-negative, got class_weight\[0\] = {weight!r}\. Give"
    with pytest.raises(ValueError, match=match.replace("'", ".")) as info:
        if method == "fit":
            clf.fit(X, y)
        else:
            clf.partial_fit(X, y, classes=[0, 1])
    assert "initial cost" not in str(info.value)
    assert "sum to zero" not in str(info.value)
    assert not hasattr(clf, "coef_")


def test_balanced_with_a_class_of_zero_sample_weight_trains():
    """The class without weight takes no part; the others are balanced."""
    X, _ = _data(90)
    y = np.arange(90) % 3
    y[X[:, 0] > 1] = 2
    sw = np.random.RandomState(2).randint(1, 4, size=90).astype(float)
    sw[y == 0] = 0.0
    fitted = GDLogisticClassifier(class_weight="balanced").fit(
        X, y, sample_weight=sw
    )
    # The textbook formula, n_weighted / (n_classes * weighted count), for
    # the classes that have weight; any weight for class 0.
    counts = np.bincount(y, weights=sw)
    expected_cw = {c: sw.sum() / (3 * counts[c]) for c in (1, 2)}
    expected = GDLogisticClassifier(class_weight={0: 1.0, **expected_cw}).fit(
        X, y, sample_weight=sw
    )
    np.testing.assert_allclose(fitted.coef_, expected.coef_, rtol=1e-12)
    np.testing.assert_allclose(fitted.intercept_, expected.intercept_, rtol=1e-12)


@pytest.mark.parametrize("labels", [[1, "a"], ["a", 1], [2.5, "b", "c"]])
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_mixed_label_types_are_named(labels, method):
    X, _ = _data()
    y = np.empty(60, dtype=object)
    y[:] = (labels * 60)[:60]
    clf = GDLogisticClassifier()
    with pytest.raises(ValueError, match=r"mix of label types .*str.*one type"):
        if method == "fit":
            clf.fit(X, y)
        else:
            clf.partial_fit(X, y, classes=labels)


def test_other_bad_labels_keep_their_message():
    X, _ = _data()
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        GDLogisticClassifier().fit(X, np.linspace(0, 1, 60))


@pytest.mark.parametrize("method", ["warm_start", "partial_fit"])
def test_a_changed_model_form_is_named(method):
    X, y = _data()
    clf = GDLogisticClassifier(warm_start=method == "warm_start").fit(X, y)
    clf.set_params(loss="softmax_cross_entropy")
    with pytest.raises(ValueError) as info:
        if method == "warm_start":
            clf.fit(X, y)
        else:
            clf.partial_fit(X, y)
    message = str(info.value)
    assert "same classes" not in message and "shape" not in message
    assert "binary model (one decision function)" in message
    assert "multinomial model (2 coupled decision functions)" in message
    assert "SoftmaxCrossEntropy" in message and "LogLoss" in message
    assert ("warm_start=False" if method == "warm_start" else "Call fit") in message


PARAMS = [
    {"learning_rate": Fraction(1, 10)},
    {"alpha": Fraction(1, 100)},
    {"penalty": "elasticnet", "l1_ratio": Fraction(1, 2), "alpha": Fraction(1, 50)},
    {"tol": Fraction(1, 1000)},
    {"solver": "sgd", "momentum": Fraction(1, 2), "random_state": 0},
    {"early_stopping": True, "validation_fraction": Fraction(1, 5),
     "random_state": 0},
]


@pytest.mark.parametrize("params", PARAMS)
def test_fraction_parameters_train_as_their_float(params):
    X, y = _data()
    as_float = {k: float(v) if isinstance(v, Fraction) else v
                for k, v in params.items()}
    expected = GDLogisticClassifier(max_iter=200, **as_float).fit(X, y)
    fitted = GDLogisticClassifier(max_iter=200, **params).fit(X, y)
    assert fitted.coef_.dtype == np.float64
    np.testing.assert_array_equal(fitted.coef_, expected.coef_)
    np.testing.assert_array_equal(fitted.intercept_, expected.intercept_)
    stream = GDLogisticClassifier(**params).partial_fit(X, y, classes=[0, 1])
    reference = GDLogisticClassifier(**as_float).partial_fit(X, y, classes=[0, 1])
    np.testing.assert_array_equal(stream.coef_, reference.coef_)


@pytest.mark.parametrize(
    "param, value",
    [("learning_rate", Fraction(-1, 10)), ("validation_fraction", Fraction(3, 2))],
)
def test_fraction_parameters_out_of_range_are_refused(param, value):
    X, y = _data()
    with pytest.raises(InvalidParameterError, match=param):
        GDLogisticClassifier(**{param: value}).fit(X, y)
