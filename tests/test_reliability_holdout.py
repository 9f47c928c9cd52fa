"""Early stopping's hold-out and sample weights (reliability item 12.7).

A split that leaves the training side without positive weight in two
classes, or the validation side without any positive weight, is a clear
error (it raised "initial cost is nan" or returned coef_ = 0 with
validation scores of 0); a split with weight on both sides is unchanged.
"""

import numpy as np
import pytest

from skloss import GDLogisticClassifier
from skloss._holdout import validation_split


def _data(n=60, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 3)
    y = (X[:, 0] + 0.5 * rng.randn(n) > 0).astype(int)
    return X, y


@pytest.mark.parametrize("seed", range(6))
def test_one_weighted_sample_per_class_cannot_be_split(seed):
    X, y = _data()
    sw = np.zeros(y.shape[0])
    sw[np.flatnonzero(y == 0)[seed]] = 1.0
    sw[np.flatnonzero(y == 1)[seed]] = 1.0
    clf = GDLogisticClassifier(
        early_stopping=True, validation_fraction=0.5, random_state=seed
    )
    with pytest.raises(ValueError, match=(
        r"early_stopping=True held out validation_fraction=0.5.*"
        r"2 of the 60 samples have a positive.*set early_stopping=False"
    )):
        clf.fit(X, y, sample_weight=sw)
    assert not hasattr(clf, "coef_")


def _split(y, seed):
    return validation_split(y, 0.2, np.random.RandomState(seed))


def test_a_validation_side_without_weight_is_named():
    X, y = _data()
    _, val = _split(y, 0)
    sw = np.ones(y.shape[0])
    sw[val] = 0.0
    with pytest.raises(ValueError, match="validation side has no sample"):
        GDLogisticClassifier(early_stopping=True, validation_fraction=0.2,
                             random_state=0).fit(X, y, sample_weight=sw)


def test_a_training_side_with_one_weighted_class_is_named():
    X, y = _data()
    train, _ = _split(y, 0)
    sw = np.ones(y.shape[0])
    sw[train[y[train] == 1]] = 0.0
    with pytest.raises(ValueError, match="training side has samples of only 1"):
        GDLogisticClassifier(early_stopping=True, validation_fraction=0.2,
                             random_state=0).fit(X, y, sample_weight=sw)


def test_class_weights_count_in_the_check():
    X, y = _data()
    train, _ = _split(y, 0)
    sw = np.ones(y.shape[0])
    sw[train[y[train] == 1]] = 0.0
    # With class 0 weighted zero by class_weight, no training sample has a
    # positive weight (the sample weights alone have two classes there).
    with pytest.raises(ValueError, match="training side has samples of only 0"):
        GDLogisticClassifier(
            early_stopping=True, validation_fraction=0.2, random_state=0,
            class_weight={0: 0.0},
        ).fit(X, y, sample_weight=sw)


def test_a_split_with_weight_on_both_sides_is_unchanged():
    X, y = _data()
    sw = np.random.RandomState(3).randint(0, 3, size=y.shape[0]).astype(float)
    split = validation_split(y, 0.2, np.random.RandomState(0))
    weighted = validation_split(y, 0.2, np.random.RandomState(0), sw)
    for a, b in zip(split, weighted, strict=True):
        np.testing.assert_array_equal(a, b)
    clf = GDLogisticClassifier(early_stopping=True, validation_fraction=0.2,
                               random_state=0).fit(X, y, sample_weight=sw)
    # The score of the kept weights is the weighted accuracy on the held-out
    # samples, computed here by hand.
    _, val = split
    correct = clf.predict(X[val]) == y[val]
    expected = np.sum(sw[val] * correct) / np.sum(sw[val])
    assert clf.best_validation_score_ == pytest.approx(expected, rel=1e-12)
