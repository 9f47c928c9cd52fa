"""Label encoding: the fast path agrees with scikit-learn's checks."""

import numpy as np
import pytest
from sklearn.utils.multiclass import check_classification_targets

from skloss import GDLogisticClassifier
from skloss._labels import encode_labels


def _reference(y):
    check_classification_targets(y)
    return np.unique(y, return_inverse=True)


@pytest.mark.parametrize(
    "y",
    [
        np.array([0, 1, 1, 0, 1]),
        np.array([3, -2, 7, 7, 3], dtype=np.int8),
        np.array([5, 1, 9], dtype=np.uint64),
        np.array([True, False, True]),
        np.array([1.0, 0.0, 2.0, 2.0]),
        np.array([-1.0, 1.0], dtype=np.float32),
        np.array([2**40, 1, 2**40], dtype=np.float64),
        np.array(["b", "a", "b"]),
    ],
)
def test_encode_labels_matches_scikit_learn(y):
    classes, y_idx = encode_labels(y)
    ref_classes, ref_idx = _reference(y)
    np.testing.assert_array_equal(classes, ref_classes)
    assert classes.dtype == ref_classes.dtype
    np.testing.assert_array_equal(y_idx, ref_idx)
    np.testing.assert_array_equal(classes[y_idx], y)


@pytest.mark.filterwarnings("ignore:invalid value encountered in cast")
@pytest.mark.parametrize(
    "y",
    [np.array([0.5, 1.0, 0.0]), np.array([1e20, 0.0]), np.array([0.0, 1.0 + 1e-12])],
)
def test_encode_labels_rejects_continuous_targets_as_scikit_learn(y):
    with pytest.raises(ValueError, match="Unknown label type: continuous") as ours:
        encode_labels(y)
    with pytest.raises(ValueError) as ref:
        check_classification_targets(y)
    assert str(ours.value) == str(ref.value)


def test_encode_labels_rejects_bytes_labels():
    with pytest.raises(TypeError, match="bytes"):
        encode_labels(np.array([b"a", b"b"]))


def test_encode_labels_names_mixed_label_types():
    with pytest.raises(ValueError, match=r"mix of label types \(int, str\)"):
        encode_labels(np.array(["x", 1, "y"], dtype=object))


@pytest.mark.parametrize(
    "classes, match",
    [
        ([0, 1, np.nan], "missing value"),
        ([0, 1, None], "missing value"),
        (np.array([0.0, 1.0, np.nan]), "missing value"),
        (np.array([1, "a"], dtype=object), "cannot be sorted"),
        ([[0, 1]], "1-D"),
    ],
)
def test_partial_fit_classes_must_be_labels(classes, match):
    X, y = np.array([[0.0], [1.0], [2.0]]), np.array([0, 1, 0])
    clf = GDLogisticClassifier()
    with pytest.raises(ValueError, match=match):
        clf.partial_fit(X, y, classes=classes)
    assert not hasattr(clf, "classes_")
