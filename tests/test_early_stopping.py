"""Early stopping: a stratified hold-out, scores per epoch, best weights."""

import math

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.model_selection import StratifiedShuffleSplit

from skloss import GDLogisticClassifier
from skloss.optim import EarlyStopping

pytest.importorskip("sklearn.callback")

SOLVERS = ["gd", "nesterov", "sgd", "adam"]


class EpochRecorder:
    """Keeps the model of every epoch (scikit-learn callback protocol)."""

    def __init__(self):
        self.models = []

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
        if context.task_name == "epoch":
            self.models.append(
                (fitted_estimator.coef_.copy(), fitted_estimator.intercept_.copy())
            )


@pytest.fixture(scope="module")
def noisy():
    # Few informative features, label noise and no penalty: the model
    # overfits, so validation accuracy peaks and then stalls or falls.
    X, y = make_classification(
        300, 40, n_informative=3, n_redundant=0, flip_y=0.2, random_state=0
    )
    return X, y


def holdout(y, fraction, seed):
    n_val = max(math.ceil(fraction * len(y)), len(np.unique(y)))
    split = StratifiedShuffleSplit(
        n_splits=1, test_size=n_val, random_state=np.random.RandomState(seed)
    )
    return next(split.split(np.zeros((len(y), 1)), y))


@pytest.mark.parametrize("solver", SOLVERS)
def test_restores_the_weights_of_the_best_epoch(solver, noisy):
    X, y = noisy
    rec = EpochRecorder()
    clf = GDLogisticClassifier(
        solver=solver, penalty=None, early_stopping=True, n_iter_no_change=4,
        validation_fraction=0.2, random_state=0, max_iter=300,
        learning_rate=0.5 if solver in ("gd", "nesterov", "sgd") else 0.05,
    )
    clf.set_callbacks(rec).fit(X, y)
    scores = clf.validation_scores_
    assert len(scores) == clf.n_iter_ == len(rec.models)
    best = int(np.argmax(scores))  # the first epoch reaching the maximum
    # Training stopped n_iter_no_change epochs after the best one ...
    assert clf.n_iter_ == best + 1 + 4
    # ... and the model is that of the best epoch, not the last.
    assert clf.coef_.tobytes() == rec.models[best][0].tobytes()
    assert clf.intercept_.tobytes() == rec.models[best][1].tobytes()
    assert not np.array_equal(clf.coef_, rec.models[-1][0])
    # The scores are accuracies on a stratified 20% hold-out.
    train, val = holdout(y, 0.2, 0)
    assert np.bincount(y[val]).tolist() == [30, 30]
    assert clf.score(X[val], y[val]) == scores[best]
    # loss_curve_ still records every epoch run.
    assert len(clf.loss_curve_) == clf.n_iter_


def test_validation_scores_are_sample_weighted(noisy):
    X, y = noisy
    sw = np.random.default_rng(0).uniform(0.5, 2.0, size=len(y))
    rec = EpochRecorder()
    clf = GDLogisticClassifier(
        early_stopping=True, random_state=1, learning_rate=0.5, max_iter=20,
        penalty=None,
    ).set_callbacks(rec)
    clf.fit(X, y, sample_weight=sw)
    _, val = holdout(y, 0.1, 1)
    for (coef, intercept), score in zip(
        rec.models, clf.validation_scores_, strict=True
    ):
        pred = (X[val] @ coef.ravel() + intercept[0] > 0).astype(int)
        expected = np.sum(sw[val] * (pred == y[val])) / np.sum(sw[val])
        assert score == pytest.approx(expected, rel=1e-12)


def test_tol_sets_the_improvement_that_counts(noisy):
    X, y = noisy
    # An improvement of 0.5 in accuracy never happens: stop after exactly
    # n_iter_no_change + 1 epochs and keep the best of them.
    clf = GDLogisticClassifier(
        solver="sgd", early_stopping=True, tol=0.5, n_iter_no_change=3,
        random_state=0,
    ).fit(X, y)
    assert clf.n_iter_ == 4


def test_without_early_stopping_there_are_no_scores(noisy):
    X, y = noisy
    clf = GDLogisticClassifier(max_iter=3, tol=None).fit(X, y)
    assert clf.validation_scores_ is None


def test_too_few_samples_for_a_holdout():
    # Class 1 has a single sample: it cannot be in both parts.
    X = np.arange(7.0).reshape(-1, 1)
    y = np.array([0, 1, 2, 0, 2, 0, 2])
    with pytest.raises(ValueError, match="could not hold out a stratified"):
        GDLogisticClassifier(early_stopping=True).fit(X, y)


def test_early_stopping_class_keeps_the_first_best():
    es = EarlyStopping(lambda theta: theta[0], n_iter_no_change=2, tol=0.0)
    thetas = [np.array([v]) for v in (0.5, 0.7, 0.7, 0.6)]
    stops = [es.update(epoch, t) for epoch, t in enumerate(thetas, start=1)]
    assert stops == [False, False, False, True]
    assert es.best_epoch_ == 2
    assert es.best_theta_ is not thetas[1] and es.best_theta_[0] == 0.7
    assert es.scores_ == [0.5, 0.7, 0.7, 0.6]


def test_validation_product_runs_on_one_blas_thread(noisy, blas_thread_entries):
    # The validation product sits between threaded epochs: it holds BLAS to
    # the calling thread (one_blas_thread), and scores as before.
    import skloss._holdout as holdout

    X, y = noisy
    params = dict(early_stopping=True, max_iter=6, tol=None, random_state=0)
    reference = GDLogisticClassifier(**params).fit(X, y)
    entered = blas_thread_entries(holdout)
    again = GDLogisticClassifier(**params).fit(X, y)
    assert len(entered) == 6  # once per epoch's score
    assert again.validation_scores_ == reference.validation_scores_
    np.testing.assert_array_equal(again.coef_, reference.coef_)
