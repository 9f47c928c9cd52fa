"""skloss.plotting: the drawn data against the estimators' attributes."""

import sys
import warnings

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.experimental import enable_halving_search_cv  # noqa: E402, F401
from sklearn.model_selection import (  # noqa: E402
    GridSearchCV,
    HalvingGridSearchCV,
    RandomizedSearchCV,
)
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from skloss import GDLogisticClassifier, Loss, get_loss  # noqa: E402
from skloss.plotting import LossCurveDisplay, LossFunctionDisplay  # noqa: E402

X, y = make_classification(n_samples=120, n_features=5, random_state=0)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _fit(**params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return GDLogisticClassifier(random_state=0, **params).fit(X, y)


@pytest.mark.parametrize("pipeline", [False, True])
def test_loss_curve_matches_loss_curve_(pipeline):
    clf = GDLogisticClassifier(max_iter=40, tol=None)
    est = make_pipeline(StandardScaler(), clf) if pipeline else clf
    est.fit(X, y)
    disp = LossCurveDisplay.from_estimator(est)
    (line,) = disp.lines_
    np.testing.assert_array_equal(line.get_xdata(), np.arange(1, 41))
    np.testing.assert_array_equal(line.get_ydata(), clf.loss_curve_)
    # Without early stopping the kept weights are the last epoch's.
    np.testing.assert_array_equal(disp.kept_markers_[0].get_xydata(),
                                  [[40, clf.loss_curve_[-1]]])
    assert disp.ax_validation_ is None
    assert disp.figure_ is disp.ax_.figure
    assert line.get_label() == "log_loss"


def test_early_stopping_draws_validation_and_marks_best_epoch():
    clf = _fit(early_stopping=True, n_iter_no_change=3, learning_rate=0.05,
               max_iter=200)
    disp = LossCurveDisplay.from_estimator(clf)
    vline = disp.validation_lines_[0]
    np.testing.assert_array_equal(vline.get_ydata(), clf.validation_scores_)
    assert vline.axes is disp.ax_validation_
    # The weights kept are those of the first best validation score.
    best = int(np.argmax(clf.validation_scores_)) + 1
    assert disp.kept_markers_[0].get_xdata()[0] == best
    assert disp.kept_markers_[0].get_ydata()[0] == clf.loss_curve_[best - 1]
    hidden = LossCurveDisplay.from_estimator(clf, show_validation=False)
    assert hidden.ax_validation_ is None


def test_given_ax_and_several_estimators_on_one_axes():
    fig, ax = plt.subplots()
    a = _fit(loss="hinge", max_iter=30)
    b = _fit(loss="log_loss", max_iter=30)
    disp = LossCurveDisplay.from_estimator([a, b], ax=ax, log_scale=True)
    assert disp.ax_ is ax and disp.figure_ is fig
    assert ax.get_yscale() == "log"
    assert [line.get_label() for line in disp.lines_] == [
        "loss=hinge", "loss=log_loss"]
    for line, clf in zip(disp.lines_, [a, b], strict=True):
        np.testing.assert_array_equal(line.get_ydata(), clf.loss_curve_)
    # A second call on the same axes adds to it, as scikit-learn's Displays.
    c = _fit(loss="squared_hinge", max_iter=30)
    LossCurveDisplay.from_estimator(c, ax=ax, labels=["third"])
    assert len([ln for ln in ax.get_lines() if ln.get_linestyle() == "-"]) == 3


def _search(kind):
    pipe = make_pipeline(StandardScaler(),
                         GDLogisticClassifier(max_iter=25, random_state=0))
    grid = {"gdlogisticclassifier__learning_rate": [0.01, 0.1, 1.0, "auto"]}
    if kind == "grid":
        search = GridSearchCV(pipe, grid, cv=3)
    elif kind == "random":
        search = RandomizedSearchCV(pipe, grid, n_iter=3, cv=3, random_state=0)
    else:
        search = HalvingGridSearchCV(pipe, grid, cv=3, min_resources=40,
                                     factor=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return search.fit(X, y)


@pytest.mark.parametrize("kind", ["grid", "random", "halving"])
def test_from_search_one_curve_per_candidate(kind):
    search = _search(kind)
    disp = LossCurveDisplay.from_search(search, X, y)
    res = search.cv_results_
    # One curve per distinct candidate; halving lists them once per round.
    last = {}
    for i, params in enumerate(res["params"]):
        last[str(params)] = i
    rows = sorted(last.values())
    assert len(disp.lines_) == len(rows)
    for line, i in zip(disp.lines_, rows, strict=True):
        params = res["params"][i]
        lr = params["gdlogisticclassifier__learning_rate"]
        lr = f"{lr:g}" if isinstance(lr, float) else lr
        assert line.get_label() == f"learning_rate={lr}"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            ref = search.estimator.set_params(**params).fit(X, y)[-1]
        np.testing.assert_allclose(line.get_ydata(), ref.loss_curve_)
    np.testing.assert_array_equal(disp.scores, res["mean_test_score"][rows])
    # Coloured by score: the best candidate gets the top of the colour map.
    best = int(np.argmax(disp.scores))
    assert disp.colorbar_ is not None
    np.testing.assert_allclose(
        matplotlib.colors.to_rgba(disp.lines_[best].get_color()),
        matplotlib.colormaps["viridis"](1.0),
    )


def test_from_search_unfitted_and_multimetric():
    pipe = make_pipeline(StandardScaler(), GDLogisticClassifier(max_iter=30))
    grid = {"gdlogisticclassifier__learning_rate": [0.1, "auto"]}
    with pytest.raises(ValueError, match="not fitted"):
        LossCurveDisplay.from_search(GridSearchCV(pipe, grid), X, y)
    search = GridSearchCV(pipe, grid, cv=3, scoring=["accuracy", "roc_auc"],
                          refit="roc_auc")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X, y)
    disp = LossCurveDisplay.from_search(search, X, y)
    np.testing.assert_array_equal(disp.scores, search.cv_results_["mean_test_roc_auc"])


def test_from_estimator_rejects_unfitted_and_foreign_estimators():
    from sklearn.exceptions import NotFittedError
    from sklearn.linear_model import LogisticRegression

    with pytest.raises(NotFittedError):
        LossCurveDisplay.from_estimator(GDLogisticClassifier())
    with pytest.raises(TypeError, match="loss_curve_"):
        LossCurveDisplay.from_estimator(LogisticRegression().fit(X, y))
    with pytest.raises(ValueError, match="labels has 1 entries"):
        LossCurveDisplay(loss_curves=[[1.0], [2.0]], labels=["one"])


def _margin_reference(name, m):
    """Textbook losses of the margin m = y * raw, y in {-1, +1}."""
    return {
        "log_loss": np.log1p(np.exp(-m)),
        "hinge": np.maximum(0.0, 1.0 - m),
        "squared_hinge": np.maximum(0.0, 1.0 - m) ** 2,
        "perceptron": np.maximum(0.0, -m),
        "exponential": np.exp(-m),
    }[name]


@pytest.mark.parametrize(
    "name", ["log_loss", "hinge", "squared_hinge", "perceptron", "exponential"]
)
def test_loss_function_matches_textbook_margin_losses(name):
    disp = LossFunctionDisplay.from_losses(name, margin_range=(-2, 2), n_points=41)
    (line,) = disp.lines_
    m = np.linspace(-2, 2, 41)
    np.testing.assert_allclose(line.get_xdata(), m)
    np.testing.assert_allclose(line.get_ydata(), _margin_reference(name, m),
                               atol=1e-12)
    assert disp.derivative_lines_ is None


@pytest.mark.parametrize("name", ["log_loss", "focal", "modified_huber",
                                  "softmax_cross_entropy", "multiclass_focal"])
def test_loss_function_derivative_is_finite_difference(name):
    disp = LossFunctionDisplay.from_losses(
        [name], margin_range=(-2.5, 2.5), n_points=1001, derivative=True
    )
    m, values = disp.lines_[0].get_xdata(), disp.lines_[0].get_ydata()
    grad = disp.derivative_lines_[0].get_ydata()
    fd = np.gradient(values, m)
    # Central differences: O(h^2) where smooth, O(h) at a kink of the
    # second derivative (modified_huber at m = +-1); h = 0.005.
    np.testing.assert_allclose(grad[1:-1], fd[1:-1], atol=1e-2)
    assert disp.derivative_lines_[0].get_color() == disp.lines_[0].get_color()


def test_multiclass_loss_against_true_class_logit():
    disp = LossFunctionDisplay.from_losses("softmax_cross_entropy", n_classes=3,
                                           margin_range=(-1, 1), n_points=5)
    z = np.linspace(-1, 1, 5)
    ref = np.log(np.exp(z) + 2.0) - z
    np.testing.assert_allclose(disp.lines_[0].get_ydata(), ref)
    assert "logit" in disp.ax_.get_xlabel()
    with pytest.raises(ValueError, match="separate axes"):
        LossFunctionDisplay.from_losses(["hinge", "softmax_cross_entropy"])


class _HalfSquare(Loss):
    """A user's loss: (1 - m)^2 / 2 on both sides of the margin."""

    def loss(self, y, raw):
        return 0.5 * (1.0 - (2.0 * y - 1.0) * raw) ** 2

    def gradient(self, y, raw):
        s = 2.0 * y - 1.0
        return -s * (1.0 - s * raw)


def test_user_losses_instances_and_several_on_given_axes():
    fig, ax = plt.subplots()
    focal = get_loss("focal", gamma=5.0)
    disp = LossFunctionDisplay.from_losses([_HalfSquare, focal, "hinge"], ax=ax,
                                           margin_range=(-1, 3), n_points=9)
    assert disp.ax_ is ax and disp.figure_ is fig
    assert [line.get_label() for line in disp.lines_] == [
        "_HalfSquare()", "Focal(gamma=5.0)", "hinge"]
    m = np.linspace(-1, 3, 9)
    np.testing.assert_allclose(disp.lines_[0].get_ydata(), 0.5 * (1 - m) ** 2)
    relabelled = LossFunctionDisplay.from_losses(["hinge", focal],
                                                 labels=["a", "b"])
    assert [line.get_label() for line in relabelled.lines_] == ["a", "b"]
    with pytest.raises(ValueError, match="one label per loss"):
        LossFunctionDisplay.from_losses(["hinge", focal], labels=["a"])
    with pytest.raises(TypeError, match="registered loss name"):
        LossFunctionDisplay.from_losses([3.0])
    with pytest.raises(ValueError, match="low < high"):
        LossFunctionDisplay.from_losses("hinge", margin_range=(1, 0))


def test_loss_function_from_estimator_draws_fitted_loss():
    clf = _fit(loss="modified_huber", max_iter=20)
    disp = LossFunctionDisplay.from_estimator(clf, n_points=11)
    assert disp.lines_[0].get_label() == repr(clf.loss_)


@pytest.mark.parametrize("call", [
    lambda: LossFunctionDisplay.from_losses("hinge"),
    lambda: LossFunctionDisplay(margins=[0.0], values=[[1.0]],
                                derivatives=[[0.0]], labels=["a"]).plot(),
    lambda: LossCurveDisplay(loss_curves=[[1.0, 0.5]]).plot(),
    lambda: LossCurveDisplay.from_estimator(_fit(max_iter=5)),
])
def test_import_error_without_matplotlib_names_the_extra(monkeypatch, call):
    est_call = call
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"skloss\[plot\]"):
        est_call()
