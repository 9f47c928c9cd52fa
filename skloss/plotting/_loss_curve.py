"""LossCurveDisplay: the training cost per epoch of fitted models."""

import warnings

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from ._base import final_classifier, import_pyplot, params_label


def _kept_epoch(clf):
    """The 1-based epoch whose weights the model holds."""
    best = getattr(clf, "best_epoch_", None)
    return len(clf.loss_curve_) if best is None else best


def _differing_params(classifiers):
    """Labels naming the parameters in which the classifiers differ."""
    params = [clf.get_params(deep=False) for clf in classifiers]
    keys = [
        k for k in params[0]
        if any(repr(p.get(k)) != repr(params[0][k]) for p in params[1:])
    ]
    if not keys:
        return [str(clf.loss) if isinstance(clf.loss, str) else repr(clf.loss)
                for clf in classifiers]
    return [params_label({k: p[k] for k in keys}) for p in params]


class LossCurveDisplay:
    """Training cost per epoch, and validation score under early stopping.

    Build it with :meth:`from_estimator` (fitted classifiers or pipelines)
    or :meth:`from_search` (one curve per candidate of a fitted grid or
    randomized search). ``plot`` draws one line per curve, marks the epoch
    whose weights the model kept (the last epoch, or the best validation
    epoch under early stopping) and, where there are validation scores,
    draws them dashed on a second y axis.

    Parameters
    ----------
    loss_curves : list of array-like
        The cost after each epoch, one list per model (``loss_curve_``).
    validation_scores : list of (array-like or None), default=None
        The validation score after each epoch, per model
        (``validation_scores_``); None entries for models without.
    kept_epochs : list of int, default=None
        Per model, the 1-based epoch whose weights it holds; None: the
        last epoch of each curve.
    labels : list of str, default=None
        Legend labels, one per model.
    scores : array-like, default=None
        A score per model (e.g. the mean cross-validated score of a search
        candidate): the lines are coloured by it and a colour bar is drawn.
    score_name : str, default="mean test score"
        The colour bar's label.

    Attributes
    ----------
    ax_ : matplotlib Axes
        The axes of the cost curves.
    figure_ : matplotlib Figure
    lines_ : list of matplotlib Line2D
        The cost curves, in the order of ``loss_curves``.
    kept_markers_ : list of matplotlib Line2D
        One marker per curve at the epoch whose weights were kept.
    ax_validation_ : matplotlib Axes or None
        The twin axes of the validation scores, when there are any.
    validation_lines_ : list of (matplotlib Line2D or None)
    colorbar_ : matplotlib Colorbar or None
        The colour bar of ``scores``.

    See Also
    --------
    LossFunctionDisplay : The losses themselves against the margin.
    sklearn.model_selection.ValidationCurveDisplay : Scores against one
        parameter, with cross-validation.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skloss import GDLogisticClassifier
    >>> from skloss.plotting import LossCurveDisplay
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> pipe = make_pipeline(StandardScaler(), GDLogisticClassifier())
    >>> disp = LossCurveDisplay.from_estimator(pipe.fit(X, y))
    >>> len(disp.lines_[0].get_ydata()) == pipe[-1].n_iter_
    True
    """

    def __init__(self, *, loss_curves, validation_scores=None, kept_epochs=None,
                 labels=None, scores=None, score_name="mean test score"):
        self.loss_curves = [np.asarray(c, dtype=float) for c in loss_curves]
        n = len(self.loss_curves)
        self.validation_scores = (
            [None] * n if validation_scores is None else list(validation_scores)
        )
        self.kept_epochs = (
            [len(c) for c in self.loss_curves] if kept_epochs is None
            else list(kept_epochs)
        )
        self.labels = labels
        self.scores = None if scores is None else np.asarray(scores, dtype=float)
        self.score_name = score_name
        for name, value in [("validation_scores", self.validation_scores),
                            ("kept_epochs", self.kept_epochs),
                            ("labels", labels), ("scores", self.scores)]:
            if value is not None and len(value) != n:
                raise ValueError(
                    f"{name} has {len(value)} entries but there are {n} loss "
                    "curves; give one per curve."
                )

    def plot(self, ax=None, *, log_scale=False, show_validation=True,
             cmap="viridis", **kwargs):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; None makes a new figure.
        log_scale : bool, default=False
            Use a logarithmic y axis for the cost (a costs' tail toward its
            optimum is easier to read; costs must be positive).
        show_validation : bool, default=True
            Draw the validation scores (dashed, right-hand axis) where the
            models have them.
        cmap : str or Colormap, default="viridis"
            Colours the lines by ``scores``, when given.
        **kwargs : dict
            Passed to ``Axes.plot`` for every cost curve.

        Returns
        -------
        display : LossCurveDisplay
        """
        plt = import_pyplot(f"{type(self).__name__}.plot")
        if ax is None:
            _, ax = plt.subplots()
        colors = [None] * len(self.loss_curves)
        norm = None
        if self.scores is not None:
            import matplotlib as mpl

            cmap = mpl.colormaps[cmap] if isinstance(cmap, str) else cmap
            lo, hi = np.nanmin(self.scores), np.nanmax(self.scores)
            norm = mpl.colors.Normalize(lo, hi if hi > lo else lo + 1e-12)
            colors = [cmap(norm(s)) for s in self.scores]
        self.lines_, self.kept_markers_ = [], []
        for i, curve in enumerate(self.loss_curves):
            epochs = np.arange(1, len(curve) + 1)
            style = dict(kwargs)
            if colors[i] is not None:
                style.setdefault("color", colors[i])
            if self.labels is not None:
                style.setdefault("label", self.labels[i])
            (line,) = ax.plot(epochs, curve, **style)
            kept = self.kept_epochs[i]
            (marker,) = ax.plot(
                [kept], [curve[kept - 1]], marker="o", linestyle="none",
                color=line.get_color(),
            )
            self.lines_.append(line)
            self.kept_markers_.append(marker)
        if log_scale:
            ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel("training cost")
        self.ax_validation_ = None
        self.validation_lines_ = [None] * len(self.loss_curves)
        if show_validation and any(v is not None for v in self.validation_scores):
            twin = ax.twinx()
            for i, scores in enumerate(self.validation_scores):
                if scores is None:
                    continue
                (vline,) = twin.plot(
                    np.arange(1, len(scores) + 1), scores, linestyle="--",
                    color=self.lines_[i].get_color(),
                )
                self.validation_lines_[i] = vline
            twin.set_ylabel("validation score (dashed)")
            # The cost axes (and its legend) in front of the twin.
            ax.set_zorder(twin.get_zorder() + 1)
            ax.patch.set_visible(False)
            self.ax_validation_ = twin
        self.colorbar_ = None
        if norm is not None:
            mappable = plt.cm.ScalarMappable(norm=norm, cmap=cmap)
            self.colorbar_ = ax.figure.colorbar(
                mappable, ax=[ax] if self.ax_validation_ is None
                else [ax, self.ax_validation_],
            )
            self.colorbar_.set_label(self.score_name)
        if self.labels is not None:
            ax.legend(title="o: weights kept")
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_estimator(cls, estimator, *, labels=None, ax=None, log_scale=False,
                       show_validation=True, **kwargs):
        """The curves of one or several fitted estimators.

        Parameters
        ----------
        estimator : estimator or list of estimators
            Fitted :class:`~skloss.GDLogisticClassifier` instances, or
            pipelines ending with one; their ``loss_curve_``,
            ``validation_scores_`` are drawn, nothing is refitted.
        labels : list of str, default=None
            One per estimator; None names the parameters in which the
            estimators differ (the loss, for one estimator).
        ax, log_scale, show_validation, **kwargs
            See :meth:`plot`.

        Returns
        -------
        display : LossCurveDisplay
        """
        import_pyplot(f"{cls.__name__}.from_estimator")
        estimators = (
            list(estimator) if isinstance(estimator, (list, tuple)) else [estimator]
        )
        classifiers = [final_classifier(e) for e in estimators]
        if labels is None:
            labels = _differing_params(classifiers)
        disp = cls(
            loss_curves=[clf.loss_curve_ for clf in classifiers],
            validation_scores=[clf.validation_scores_ for clf in classifiers],
            kept_epochs=[_kept_epoch(clf) for clf in classifiers],
            labels=labels,
        )
        return disp.plot(ax=ax, log_scale=log_scale,
                         show_validation=show_validation, **kwargs)

    @classmethod
    def from_search(cls, search, X, y, *, ax=None, log_scale=False,
                    show_validation=True, cmap="viridis", **fit_params):
        """One curve per candidate of a fitted search, coloured by its score.

        A search keeps only its best model, so each candidate is refitted
        once on ``X, y`` (the cost: one fit per candidate, on the data you
        pass, e.g. the training set the search saw); its curve is the cost
        of that fit. ConvergenceWarnings of these refits are silenced: the
        curve shows whether a candidate ran out of epochs.

        Parameters
        ----------
        search : GridSearchCV, RandomizedSearchCV or HalvingGridSearchCV
            Fitted, over a :class:`~skloss.GDLogisticClassifier` or a
            pipeline ending with one. Successive halving lists a candidate
            once per round; its last (largest-budget) score is used.
        X, y : array-like
            The data to refit each candidate on.
        ax, log_scale, show_validation, cmap
            See :meth:`plot`.
        **fit_params : dict
            Passed to each refit's ``fit`` (e.g. ``sample_weight``).

        Returns
        -------
        display : LossCurveDisplay
        """
        import_pyplot(f"{cls.__name__}.from_search")
        results = getattr(search, "cv_results_", None)
        if results is None:
            raise ValueError(
                f"{type(search).__name__} is not fitted: call fit before "
                "LossCurveDisplay.from_search."
            )
        key = "mean_test_score"
        if key not in results:
            if not isinstance(search.refit, str):
                raise ValueError(
                    "A multi-metric search must refit on one metric (refit="
                    "'<metric name>') so that candidates can be coloured by it."
                )
            key = f"mean_test_{search.refit}"
        candidates = {}
        for i, params in enumerate(results["params"]):
            # Later rows of successive halving have the larger budget.
            candidates[repr(sorted(params.items(), key=lambda kv: kv[0]))] = i
        rows = sorted(candidates.values())
        curves, val, kept, labels = [], [], [], []
        for i in rows:
            model = clone(search.estimator).set_params(**results["params"][i])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                model.fit(X, y, **fit_params)
            clf = final_classifier(model)
            curves.append(clf.loss_curve_)
            val.append(clf.validation_scores_)
            kept.append(_kept_epoch(clf))
            labels.append(params_label(results["params"][i]))
        name = key.replace("mean_test_", "mean test ").replace("_", " ")
        disp = cls(
            loss_curves=curves, validation_scores=val, kept_epochs=kept,
            labels=labels, scores=np.asarray(results[key])[rows],
            score_name=f"{name} (CV)",
        )
        return disp.plot(ax=ax, log_scale=log_scale,
                         show_validation=show_validation, cmap=cmap)
