"""Progress: verbose lines and scikit-learn's callback API."""

import re
import warnings

import numpy as np
import pytest

from skloss import DivergenceError, GDLogisticClassifier

callback = pytest.importorskip("sklearn.callback")

SOLVERS = ["gd", "nesterov", "sgd", "adam"]


class Recorder:
    """Records hook calls (scikit-learn's FitCallback protocol)."""

    def __init__(self, stop_at=None):
        self.stop_at = stop_at
        self.events = []
        self.n_iters = []

    def setup(self, estimator, context):
        self.events.append(("setup", context.task_name))

    def teardown(self, estimator, context):
        self.events.append(("teardown", context.task_name))

    def on_fit_task_begin(self, estimator, context):
        self.events.append(("begin", context.task_name, context.task_id))

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
        self.events.append(("end", context.task_name, context.task_id))
        if context.task_name == "epoch" and fitted_estimator is not None:
            # The model of this epoch predicts.
            self.n_iters.append(fitted_estimator.n_iter_)
            fitted_estimator.decision_function(np.zeros((1, 30)))
        return self.stop_at is not None and context.task_id + 1 >= self.stop_at

    def count(self, kind, task="epoch"):
        return sum(1 for e in self.events if e[0] == kind and e[1] == task)


def test_the_estimator_supports_callbacks():
    assert isinstance(GDLogisticClassifier(), callback.CallbackSupportMixin)


@pytest.mark.parametrize("solver", SOLVERS)
def test_one_subtask_per_epoch(solver, cancer):
    X, y = cancer
    rec = Recorder()
    clf = GDLogisticClassifier(solver=solver, max_iter=7, tol=None, random_state=0)
    clf.set_callbacks(rec).fit(X, y)
    assert rec.count("begin") == rec.count("end") == clf.n_iter_ == 7
    assert rec.events[0] == ("setup", "fit")
    assert rec.events[1] == ("begin", "fit", 0)
    assert rec.events[-2] == ("end", "fit", 0)
    assert rec.events[-1] == ("teardown", "fit")
    epochs = [e[2] for e in rec.events if e[:2] == ("begin", "epoch")]
    assert epochs == list(range(7))
    assert rec.n_iters == list(range(1, 8))


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_callback_can_stop_the_fit(solver, cancer):
    X, y = cancer
    rec = Recorder(stop_at=3)
    clf = GDLogisticClassifier(solver=solver, random_state=0).set_callbacks(rec)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # stopped on request: no warning
        clf.fit(X, y)
    assert clf.n_iter_ == 3
    assert len(clf.loss_curve_) == 3


def test_partial_fit_is_one_subtask(cancer):
    X, y = cancer
    rec = Recorder()
    clf = GDLogisticClassifier(solver="sgd", random_state=0).set_callbacks(rec)
    clf.partial_fit(X, y, classes=[0, 1])
    clf.partial_fit(X, y)
    assert rec.count("begin") == rec.count("end") == 2
    assert rec.count("setup", "fit") == rec.count("teardown", "fit") == 2
    assert rec.n_iters == [1, 2]


def test_callbacks_are_torn_down_after_a_failed_fit(cancer):
    X, y = cancer
    rec = Recorder()
    clf = GDLogisticClassifier(learning_rate=1e6).set_callbacks(rec)
    with pytest.raises(DivergenceError):
        clf.fit(X, y)
    assert rec.events[-1] == ("teardown", "fit")
    # Every task that began also ended.
    assert rec.count("begin") == rec.count("end")
    assert rec.count("begin", "fit") == rec.count("end", "fit") == 1
    assert not hasattr(clf, "_callback_fit_ctx")


@pytest.mark.parametrize("solver", SOLVERS)
def test_scoring_monitor_logs_every_epoch(solver, cancer):
    X, y = cancer
    monitor = callback.ScoringMonitor(scoring="accuracy")
    clf = GDLogisticClassifier(solver=solver, max_iter=5, tol=None, random_state=0)
    clf.set_callbacks(monitor).fit(X, y)
    rows = monitor.get_logs().data
    epochs = [r for r in rows if r["task_name"] == "epoch"]
    assert [r["task_id"] for r in epochs] == list(range(5))
    final = [r for r in rows if r["task_name"] == "fit"]
    assert final[0]["accuracy"] == clf.score(X, y)
    assert all(0.5 < r["accuracy"] <= 1.0 for r in epochs)


def test_progress_bar(cancer):
    pytest.importorskip("rich")
    X, y = cancer
    clf = GDLogisticClassifier(max_iter=5, tol=None)
    clf.set_callbacks(callback.ProgressBar()).fit(X, y)
    assert clf.n_iter_ == 5


@pytest.mark.parametrize("solver", SOLVERS)
def test_verbose_prints_one_line_per_epoch(solver, cancer, capsys):
    X, y = cancer
    clf = GDLogisticClassifier(
        solver=solver, max_iter=4, tol=None, verbose=1, random_state=0
    ).fit(X, y)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 4
    pattern = re.compile(
        r"-- Epoch (\d+), cost: ([0-9.e+-]+), step: ([0-9.e+-]+), "
        r"time: ([0-9.]+)s"
    )
    for epoch, line in enumerate(lines, start=1):
        match = pattern.fullmatch(line)
        assert match, line
        assert int(match[1]) == epoch
        assert float(match[2]) == pytest.approx(clf.loss_curve_[epoch - 1],
                                                rel=1e-7)
        assert float(match[3]) > 0


def test_verbose_epochs_count_on_across_partial_fit(cancer, capsys):
    X, y = cancer
    clf = GDLogisticClassifier(verbose=1, solver="sgd", random_state=0)
    clf.partial_fit(X, y, classes=[0, 1])
    clf.partial_fit(X, y)
    out = capsys.readouterr().out
    assert "-- Epoch 1," in out and "-- Epoch 2," in out


def test_silent_by_default(cancer, capsys):
    X, y = cancer
    GDLogisticClassifier(max_iter=3, tol=None).fit(X, y)
    assert capsys.readouterr().out == ""


def test_verbose_shows_the_validation_score(cancer, capsys):
    X, y = cancer
    clf = GDLogisticClassifier(
        early_stopping=True, max_iter=3, tol=None, verbose=1, random_state=0
    ).fit(X, y)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3
    for line, score in zip(lines, clf.validation_scores_, strict=True):
        assert f", validation score: {score:.6g}, time: " in line


def test_no_epoch_subtasks_without_callbacks(cancer, monkeypatch):
    from skloss._callbacks import EpochCallbacks

    opened = []
    original = EpochCallbacks.begin_epoch

    def counting(self, epoch):
        opened.append(epoch)
        return original(self, epoch)

    monkeypatch.setattr(EpochCallbacks, "begin_epoch", counting)
    X, y = cancer
    GDLogisticClassifier(max_iter=5, tol=None).fit(X, y)
    assert opened == []
    GDLogisticClassifier(max_iter=5, tol=None).set_callbacks(Recorder()).fit(X, y)
    assert len(opened) == 5


def test_callbacks_propagated_by_a_pipeline_see_every_epoch(cancer):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = cancer
    progress = callback.ProgressBar()
    pipe = make_pipeline(StandardScaler(), GDLogisticClassifier(max_iter=4, tol=None))
    if not hasattr(pipe, "set_callbacks"):
        pytest.skip("this scikit-learn's Pipeline does not propagate callbacks")
    seen = []
    clf = pipe[-1]
    original = clf._minimize

    def spy(*args, **kwargs):
        result, cbs = original(*args, **kwargs)
        seen.append(cbs.per_epoch)
        return result, cbs

    clf._minimize = spy
    pipe.set_callbacks(progress).fit(X, y)
    assert seen == [True]
