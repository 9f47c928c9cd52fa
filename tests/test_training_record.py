"""The per-epoch record users plot: best_loss_, best_validation_score_,
best_epoch_ and step_sizes_ (names as in MLPClassifier where it has one)."""

import numpy as np
import pytest

from skloss import GDLogisticClassifier


@pytest.mark.parametrize("solver", ["gd", "nesterov", "sgd", "adam"])
def test_best_loss_and_step_sizes_follow_the_loss_curve(cancer, solver):
    X, y = cancer
    clf = GDLogisticClassifier(solver=solver, max_iter=15, tol=None,
                               random_state=0).fit(X, y)
    assert clf.best_loss_ == min(clf.loss_curve_)
    assert clf.best_validation_score_ is None and clf.best_epoch_ is None
    assert len(clf.step_sizes_) == clf.n_iter_ == len(clf.loss_curve_)
    assert all(s > 0 and np.isfinite(s) for s in clf.step_sizes_)


def test_fixed_learning_rate_is_the_recorded_step(cancer):
    X, y = cancer
    clf = GDLogisticClassifier(learning_rate=0.05, max_iter=4, tol=None).fit(X, y)
    assert clf.step_sizes_ == [0.05] * 4


def test_schedule_shows_in_the_step_sizes(cancer):
    X, y = cancer
    clf = GDLogisticClassifier(learning_rate=0.5, schedule="invscaling",
                               max_iter=6, tol=None).fit(X, y)
    steps = clf.step_sizes_
    assert steps[0] <= 0.5 and all(a > b for a, b in zip(steps, steps[1:]))


def test_early_stopping_keeps_the_best_epoch(cancer):
    X, y = cancer
    clf = GDLogisticClassifier(early_stopping=True, n_iter_no_change=3,
                               random_state=0).fit(X, y)
    scores = clf.validation_scores_
    assert clf.best_loss_ is None
    assert clf.best_validation_score_ == max(scores)
    # The first epoch reaching the maximum, 1-based, and within the run.
    assert clf.best_epoch_ == int(np.argmax(scores)) + 1
    assert 1 <= clf.best_epoch_ <= clf.n_iter_


def test_partial_fit_extends_the_record(cancer):
    X, y = cancer
    clf = GDLogisticClassifier(learning_rate=0.1)
    for _ in range(3):
        clf.partial_fit(X, y, classes=[0, 1])
    assert clf.step_sizes_ == [0.1] * 3
    assert clf.best_loss_ == min(clf.loss_curve_)
    refit = GDLogisticClassifier(learning_rate=0.1, max_iter=2, tol=None).fit(X, y)
    refit.partial_fit(X, y)
    assert len(refit.step_sizes_) == 3 == len(refit.loss_curve_)
