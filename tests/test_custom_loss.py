"""Losses as hyperparameters, and a user's loss end to end.

The end-to-end story runs in real processes: a user module registers a
loss, GridSearchCV uses it by name with n_jobs=2 (loky worker processes
that never imported the module), the fitted model is pickled and loaded in
a fresh interpreter, and loading fails with a clear message where the
user's module is gone.
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.utils._param_validation import InvalidParameterError
from user_losses.mylosses import SmoothHinge

from skloss import GDLogisticClassifier, check_loss, get_loss
from skloss.losses import (
    Focal,
    Hinge,
    LogLoss,
    MulticlassHinge,
    SoftmaxCrossEntropy,
)

TESTS_DIR = Path(__file__).resolve().parent


def test_the_user_loss_passes_check_loss():
    check_loss(SmoothHinge())
    check_loss(SmoothHinge(width=0.25))


@pytest.mark.parametrize("loss", ["user_smooth_hinge", "user_huberized_hinge",
                                  SmoothHinge(width=0.5)])
def test_a_user_loss_trains_by_name_alias_or_instance(loss, cancer):
    X, y = cancer
    clf = GDLogisticClassifier(loss=loss, alpha=1e-2).fit(X, y)
    assert isinstance(clf.loss_, SmoothHinge)
    assert clf.score(X, y) > 0.95
    assert not hasattr(clf, "predict_proba")


def test_grid_over_loss_names_and_a_hyperparameter_of_one_of_them(cancer):
    X, y = cancer
    grid = {"loss": ["log_loss", "focal"], "loss__gamma": [0.5, 2.0]}
    search = GridSearchCV(GDLogisticClassifier(), grid, cv=2,
                          error_score="raise").fit(X, y)
    params = search.cv_results_["params"]
    assert len(params) == 4
    scores = search.cv_results_["mean_test_score"]
    # log_loss has no gamma: it is skipped, so both log_loss rows are one fit.
    log_rows = [i for i, p in enumerate(params) if p["loss"] == "log_loss"]
    assert scores[log_rows[0]] == scores[log_rows[1]]
    focal = [p for p in params if p["loss"] == "focal"]
    assert len(focal) == 2
    best = search.best_estimator_
    if best.loss_.__class__ is Focal:
        assert best.loss_.gamma == search.best_params_["loss__gamma"]


def test_grid_with_loss_instances(cancer):
    X, y = cancer
    grid = {"loss": [Focal(gamma=1.0), Hinge(), SmoothHinge(width=2.0)]}
    search = GridSearchCV(GDLogisticClassifier(), grid, cv=2).fit(X, y)
    assert len(search.cv_results_["params"]) == 3
    # The grid's instances are cloned, never trained in place.
    assert grid["loss"][0].get_params() == {"gamma": 1.0, "alpha": None}


def test_nested_hyperparameters_of_a_user_loss(cancer):
    X, y = cancer
    clf = GDLogisticClassifier(loss="user_smooth_hinge", alpha=1e-2)
    clf.set_params(loss__width=0.3)
    assert isinstance(clf.loss, SmoothHinge) and clf.loss.width == 0.3
    assert clf.get_params()["loss__width"] == 0.3
    clf.fit(X, y)
    assert clf.loss_.width == 0.3


def test_unknown_nested_names_are_errors():
    clf = GDLogisticClassifier(loss="log_loss")
    with pytest.raises(ValueError, match=r"LogLoss has no hyperparameter.*gamma"
                       r".*label_smoothing.*pos_weight"):
        clf.set_params(loss__gamma=2.0)
    # A name no registered loss has is a typo, even when loss is set too.
    with pytest.raises(ValueError, match="gamam"):
        GDLogisticClassifier().set_params(loss="focal", loss__gamam=2.0)


def test_clone_gives_an_independent_loss():
    clf = GDLogisticClassifier(loss=Focal(gamma=1.0))
    other = clone(clf).set_params(loss__gamma=3.0)
    assert clf.loss.gamma == 1.0 and other.loss.gamma == 3.0
    assert other.loss is not clf.loss


def test_invalid_loss_hyperparameters_fail_at_fit(cancer):
    X, y = cancer
    for loss in (Focal(gamma=-1.0), LogLoss(label_smoothing=1.5),
                 LogLoss(pos_weight=0.0)):
        with pytest.raises(InvalidParameterError, match="must be a float in"):
            GDLogisticClassifier(loss=loss).fit(X, y)


PROBA = {"log_loss", "modified_huber", "focal", "exponential", "brier",
         "softmax_cross_entropy", "multiclass_focal"}
NO_PROBA = {"hinge", "squared_hinge", "perceptron", "multiclass_hinge"}


@pytest.mark.parametrize("name", sorted(PROBA | NO_PROBA))
def test_predict_proba_only_with_a_probability_link(name, iris):
    X, y = iris
    unfitted = GDLogisticClassifier(loss=name)
    assert hasattr(unfitted, "predict_proba") == (name in PROBA)
    clf = GDLogisticClassifier(loss=name, max_iter=200, tol=1e-4)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X, y)
    assert hasattr(clf, "predict_proba") == (name in PROBA)
    assert hasattr(clf, "predict_log_proba") == (name in PROBA)
    assert clf.decision_function(X).shape == (len(y), 3)
    if name in PROBA:
        proba = clf.predict_proba(X)
        assert np.all((proba >= 0) & (proba <= 1))
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_multi_class_forms(iris):
    X, y = iris
    fit = lambda **kw: GDLogisticClassifier(max_iter=300, tol=1e-4, **kw).fit(X, y)  # noqa: E731
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # auto: the multinomial form where the loss has one.
        assert isinstance(fit(loss="hinge").loss_, MulticlassHinge)
        ovr = fit(loss="hinge", multi_class="ovr")
        assert isinstance(ovr.loss_, Hinge) and ovr.coef_.shape == (3, 4)
        # No multinomial form: one-vs-rest, one (n, K) matrix.
        assert isinstance(fit(loss="squared_hinge").loss_, type(get_loss(
            "squared_hinge")))
        assert isinstance(fit(loss=LogLoss(pos_weight=2.0)).loss_, LogLoss)
        # Shared hyperparameters travel to the multinomial form.
        smoothed = fit(loss=LogLoss(label_smoothing=0.1)).loss_
        assert isinstance(smoothed, SoftmaxCrossEntropy)
        assert smoothed.label_smoothing == 0.1
    with pytest.raises(ValueError, match="no multinomial form"):
        fit(loss="squared_hinge", multi_class="multinomial")
    with pytest.raises(ValueError, match="no one-vs-rest form"):
        fit(loss="multiclass_hinge", multi_class="ovr")


def test_ovr_is_one_vectorised_fit(iris):
    # One-vs-rest trains all classes at once: the (n, K) objective is the sum
    # of the K binary ones, so each column equals its own binary fit.
    X, y = iris
    kw = dict(loss="squared_hinge", alpha=1e-2, tol=1e-10, max_iter=5000)
    ovr = GDLogisticClassifier(multi_class="ovr", **kw).fit(X, y)
    for k in range(3):
        single = GDLogisticClassifier(**kw).fit(X, (y == k).astype(int))
        np.testing.assert_allclose(ovr.coef_[k], single.coef_[0], atol=1e-6)


# -- the end-to-end story in real processes ----------------------------------

TRAIN = """
import pickle, sys
import numpy as np
import user_losses.mylosses  # the user's module registers its loss
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import GridSearchCV
from sklearn.preprocessing import StandardScaler
from skloss import GDLogisticClassifier

X, y = load_breast_cancer(return_X_y=True)
X = StandardScaler().fit_transform(X)[:, :6]
# By name, with its hyperparameter, in loky worker processes.
search = GridSearchCV(GDLogisticClassifier(loss="user_smooth_hinge"),
                      {"loss__width": [0.5, 2.0]}, cv=2, n_jobs=2,
                      error_score="raise").fit(X, y)
# A grid over names whose base estimator uses a built-in loss: the workers
# learn where the user loss lives from the pickled estimator.
names = GridSearchCV(GDLogisticClassifier(),
                     {"loss": ["log_loss", "user_smooth_hinge"],
                      "loss__width": [0.5]}, cv=2, n_jobs=2,
                     error_score="raise").fit(X, y)
assert np.all(np.isfinite(names.cv_results_["mean_test_score"]))
model = search.best_estimator_
assert type(model.loss_).__name__ == "SmoothHinge"
with open(sys.argv[1], "wb") as f:
    pickle.dump(model, f)
np.save(sys.argv[2], model.decision_function(X))
print("trained", search.best_params_)
"""

LOAD = """
import pickle, sys
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.preprocessing import StandardScaler
from skloss import get_loss

X, y = load_breast_cancer(return_X_y=True)
X = StandardScaler().fit_transform(X)[:, :6]
assert "user_losses" not in sys.modules
with open(sys.argv[1], "rb") as f:
    model = pickle.load(f)
np.testing.assert_array_equal(model.decision_function(X), np.load(sys.argv[2]))
# Loading re-registered the loss: the model refits by name.
assert type(get_loss("user_smooth_hinge")).__name__ == "SmoothHinge"
model.fit(X, y)
print("loaded")
"""

LOAD_MISSING = """
import pickle, sys
from skloss import LossNotFoundError
try:
    with open(sys.argv[1], "rb") as f:
        pickle.load(f)
except LossNotFoundError as exc:
    print("ERROR:", exc)
else:
    raise SystemExit("loaded without the user's module")
"""


def _run(script, args, tmp_path, with_user_module):
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    if with_user_module:
        env["PYTHONPATH"] = str(TESTS_DIR)
    path = tmp_path / "script.py"
    path.write_text(textwrap.dedent(script))
    out = subprocess.run(
        [sys.executable, str(path), *map(str, args)], cwd=tmp_path, env=env,
        capture_output=True, text=True, timeout=240,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def test_user_loss_end_to_end_in_fresh_processes(tmp_path):
    model, scores = tmp_path / "model.pkl", tmp_path / "scores.npy"
    assert "trained" in _run(TRAIN, [model, scores], tmp_path, True)
    assert "loaded" in _run(LOAD, [model, scores], tmp_path, True)
    message = _run(LOAD_MISSING, [model], tmp_path, False)
    assert "'user_smooth_hinge'" in message
    assert "user_losses.mylosses" in message
    assert "register_loss('user_smooth_hinge', SmoothHinge)" in message


def test_the_twenty_line_example_of_the_docs_runs(cancer):
    # The first code block of "Your own loss in twenty lines", run as is.
    text = (TESTS_DIR.parent / "docs" / "losses.rst").read_text()
    section = text.split("Your own loss in twenty lines")[1]
    lines = section.split(".. code-block:: python")[1].splitlines()[1:]
    # The block ends at the first non-blank line that is not indented.
    end = next(i for i, line in enumerate(lines) if line and not line[0].isspace())
    code = textwrap.dedent("\n".join(lines[:end]))
    assert len([line for line in code.splitlines() if line.strip()]) <= 30
    namespace = {}
    try:
        exec(compile(code, "docs/losses.rst", "exec"), namespace)
        X, y = cancer
        clf = namespace["clf"].set_params(alpha=1e-2).fit(X, y)
        assert clf.loss_.width == 0.5 and clf.score(X, y) > 0.95
    finally:
        from skloss import unregister_loss

        unregister_loss("smooth_hinge")
