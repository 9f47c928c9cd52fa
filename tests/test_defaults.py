"""Every loss and every solver trains right at its defaults (issue 11)."""

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import SGDClassifier

from skloss import GDLogisticClassifier

SOLVERS = ["gd", "nesterov", "sgd", "adam"]


@pytest.fixture(scope="module")
def small():
    return make_classification(200, 5, random_state=0)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("schedule", ["constant", "adaptive"])
def test_tol_none_runs_every_epoch_with_early_stopping(solver, schedule, small):
    # SGDClassifier's reference: tol=None runs max_iter epochs even with
    # early stopping (no validation test ends it).
    X, y = small
    ref = SGDClassifier(early_stopping=True, tol=None, max_iter=10,
                        random_state=0).fit(X, y)
    assert ref.n_iter_ == 10
    clf = GDLogisticClassifier(
        solver=solver, schedule=schedule, early_stopping=True, tol=None,
        max_iter=10, random_state=0,
    ).fit(X, y)
    assert clf.n_iter_ == ref.n_iter_
    assert len(clf.loss_curve_) == 10
    assert len(clf.validation_scores_) == 10


@pytest.mark.parametrize("solver", SOLVERS)
def test_tol_none_runs_every_epoch_past_the_optimum(solver, small):
    # Far more epochs than any stopping test would allow at the defaults.
    X, y = small
    clf = GDLogisticClassifier(solver=solver, tol=None, max_iter=300).fit(X, y)
    assert clf.n_iter_ == 300
