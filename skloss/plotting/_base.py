"""Helpers shared by the Displays: matplotlib, estimators, labels."""

from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted


def import_pyplot(caller):
    """``matplotlib.pyplot``, or an ImportError naming the ``plot`` extra.

    Parameters
    ----------
    caller : str
        The name of the method that needs matplotlib (for the message).

    Returns
    -------
    pyplot : module

    Examples
    --------
    >>> from skloss.plotting._base import import_pyplot
    >>> import_pyplot("LossCurveDisplay.plot").__name__
    'matplotlib.pyplot'
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            f"{caller} requires matplotlib, which is not installed. Install "
            'the plot extra: pip install "skloss[plot]" (or pip install '
            "matplotlib)."
        ) from exc
    return plt


def final_classifier(estimator):
    """The fitted skloss classifier of ``estimator`` (a pipeline's last step).

    Parameters
    ----------
    estimator : GDLogisticClassifier or Pipeline
        Fitted; a pipeline must end with the classifier.

    Returns
    -------
    classifier : GDLogisticClassifier

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skloss import GDLogisticClassifier
    >>> from skloss.plotting._base import final_classifier
    >>> pipe = make_pipeline(StandardScaler(), GDLogisticClassifier())
    >>> pipe = pipe.fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
    >>> type(final_classifier(pipe)).__name__
    'GDLogisticClassifier'
    """
    clf = estimator[-1] if isinstance(estimator, Pipeline) else estimator
    check_is_fitted(clf)
    if not hasattr(clf, "loss_curve_"):
        raise TypeError(
            f"{type(clf).__name__} has no loss_curve_: pass a fitted "
            "GDLogisticClassifier, or a Pipeline ending with one."
        )
    return clf


def short_param_name(name):
    """``"step__sub__learning_rate"`` -> ``"learning_rate"``.

    Examples
    --------
    >>> from skloss.plotting._base import short_param_name
    >>> short_param_name("gdlogisticclassifier__learning_rate")
    'learning_rate'
    """
    return name.rsplit("__", 1)[-1]


def params_label(params):
    """A legend label from a dict of parameters, prefixes dropped.

    Examples
    --------
    >>> from skloss.plotting._base import params_label
    >>> params_label({"clf__learning_rate": 0.1, "clf__loss": "hinge"})
    'learning_rate=0.1, loss=hinge'
    """
    return ", ".join(
        f"{short_param_name(k)}={_short_value(v)}" for k, v in params.items()
    )


def _short_value(value):
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, str):
        return value
    return repr(value)
