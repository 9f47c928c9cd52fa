"""LossFunctionDisplay: losses (and derivatives) against the margin."""

import numpy as np

from ..losses import Loss, get_loss
from ._base import import_pyplot


def _as_loss(loss):
    if isinstance(loss, Loss):
        return loss
    if isinstance(loss, type) and issubclass(loss, Loss):
        return loss()
    if isinstance(loss, str):
        return get_loss(loss)
    raise TypeError(
        f"Cannot plot {loss!r}: pass a registered loss name (see "
        "skloss.available_losses()), a Loss instance or a Loss subclass."
    )


def _label(spec, loss):
    return spec if isinstance(spec, str) else repr(loss)


def loss_against_margin(loss, margins, n_classes=3):
    """The loss and its derivative along the margin of the true class.

    For a binary loss, the margin is ``m = s * raw`` with ``s = +1`` for
    the positive class: the values are ``loss(1, m)`` and ``d loss / d m``.
    For a multiclass loss, the true class (class 0 of ``n_classes``) has
    logit ``m`` and every other logit is 0.

    Parameters
    ----------
    loss : Loss
    margins : ndarray of shape (n_points,)
    n_classes : int, default=3
        Classes of the multiclass picture.

    Returns
    -------
    values, derivatives : ndarray of shape (n_points,)

    Examples
    --------
    >>> import numpy as np
    >>> from skloss.losses import Hinge
    >>> from skloss.plotting._loss_function import loss_against_margin
    >>> loss_against_margin(Hinge(), np.array([-1.0, 0.5, 2.0]))
    (array([2. , 0.5, 0. ]), array([-1., -1., -0.]))
    """
    margins = np.asarray(margins, dtype=float)
    if loss.multiclass:
        raw = np.zeros((margins.shape[0], n_classes))
        raw[:, 0] = margins
        y = np.zeros_like(raw)
        y[:, 0] = 1.0
        grad = np.asarray(loss.gradient(y, raw), dtype=float)[:, 0]
    else:
        raw = margins.copy()
        y = np.ones_like(raw)
        grad = np.asarray(loss.gradient(y, raw), dtype=float)
    values = np.asarray(loss.loss(y, raw), dtype=float)
    return values.reshape(-1), grad.reshape(-1)


class LossFunctionDisplay:
    """Losses, and optionally their derivatives, against the margin.

    The picture of why losses train differently: hinge is zero past a
    margin of 1, log loss never is, focal loss flattens on well-classified
    samples, exponential loss explodes on misclassified ones. Binary losses
    are drawn against the margin ``y * raw`` (``y`` in {-1, +1}); multiclass
    losses against the true class's logit, the other logits at 0. Binary and
    multiclass losses go on separate axes (their x axes differ).

    Parameters
    ----------
    margins : ndarray of shape (n_points,)
    values : list of ndarray
        The loss at ``margins``, one array per loss.
    derivatives : list of ndarray
        The derivative with respect to the margin, one array per loss.
    labels : list of str
    multiclass : bool, default=False
        Whether these are multiclass losses (sets the x label).

    Attributes
    ----------
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    lines_ : list of matplotlib Line2D
        One loss curve per loss.
    derivative_lines_ : list of matplotlib Line2D or None
        The derivatives (dashed, same colour), when drawn.

    See Also
    --------
    LossCurveDisplay : The training cost per epoch.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skloss.plotting import LossFunctionDisplay
    >>> disp = LossFunctionDisplay.from_losses(["log_loss", "hinge", "focal"])
    >>> [line.get_label() for line in disp.lines_]
    ['log_loss', 'hinge', 'focal']
    """

    def __init__(self, *, margins, values, derivatives, labels, multiclass=False):
        self.margins = np.asarray(margins, dtype=float)
        self.values = list(values)
        self.derivatives = list(derivatives)
        self.labels = list(labels)
        self.multiclass = multiclass

    def plot(self, ax=None, *, derivative=False, **kwargs):
        """Draw the losses.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; None makes a new figure.
        derivative : bool, default=False
            Also draw each derivative, dashed in the loss's colour.
        **kwargs : dict
            Passed to ``Axes.plot`` for every loss curve.

        Returns
        -------
        display : LossFunctionDisplay
        """
        plt = import_pyplot(f"{type(self).__name__}.plot")
        if ax is None:
            _, ax = plt.subplots()
        self.lines_ = []
        self.derivative_lines_ = [] if derivative else None
        for values, grad, label in zip(
            self.values, self.derivatives, self.labels, strict=True
        ):
            (line,) = ax.plot(self.margins, values, label=label, **kwargs)
            self.lines_.append(line)
            if derivative:
                (dline,) = ax.plot(self.margins, grad, linestyle="--",
                                   color=line.get_color(),
                                   label=f"d/dm {label}")
                self.derivative_lines_.append(dline)
        ax.axhline(0.0, color="0.8", linewidth=0.8, zorder=0)
        ax.axvline(0.0, color="0.8", linewidth=0.8, zorder=0)
        ax.set_xlabel("logit of the true class (others at 0)" if self.multiclass
                      else "margin y * raw (y in {-1, +1})")
        ax.set_ylabel("loss" + (" and derivative (dashed)" if derivative else ""))
        ax.legend()
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_losses(cls, losses, *, labels=None, margin_range=(-3.0, 3.0),
                    n_points=301, n_classes=3, derivative=False, ax=None,
                    **kwargs):
        """Losses given by name, instance or class.

        Parameters
        ----------
        losses : str, Loss, Loss subclass, or a list of them
            Registered names (hyperparameters at their defaults), instances
            (e.g. ``Focal(gamma=5)``) or user-defined ``Loss`` subclasses;
            all binary or all multiclass.
        labels : list of str, default=None
            Legend labels, one per loss; None: the name given, or the
            instance's repr.
        margin_range : (float, float), default=(-3.0, 3.0)
        n_points : int, default=301
        n_classes : int, default=3
            Classes of the multiclass picture.
        derivative : bool, default=False
            Also draw the derivatives.
        ax, **kwargs
            See :meth:`plot`.

        Returns
        -------
        display : LossFunctionDisplay
        """
        import_pyplot(f"{cls.__name__}.from_losses")
        specs = losses if isinstance(losses, (list, tuple)) else [losses]
        if not specs:
            raise ValueError("Pass at least one loss to draw.")
        resolved = [_as_loss(s) for s in specs]
        if labels is None:
            labels = [_label(s, loss) for s, loss in zip(specs, resolved,
                                                         strict=True)]
        elif len(labels) != len(resolved):
            raise ValueError(f"Got {len(labels)} labels for {len(resolved)} "
                             "losses; give one label per loss.")
        kinds = {bool(loss.multiclass) for loss in resolved}
        if len(kinds) > 1:
            raise ValueError(
                "Binary and multiclass losses have different x axes (margin "
                "vs true-class logit): draw them on separate axes."
            )
        lo, hi = margin_range
        if not lo < hi:
            raise ValueError(f"margin_range must be (low, high) with low < high; "
                             f"got {margin_range!r}.")
        margins = np.linspace(lo, hi, n_points)
        pairs = [loss_against_margin(loss, margins, n_classes) for loss in resolved]
        disp = cls(
            margins=margins,
            values=[p[0] for p in pairs],
            derivatives=[p[1] for p in pairs],
            labels=labels,
            multiclass=kinds.pop(),
        )
        return disp.plot(ax=ax, derivative=derivative, **kwargs)

    @classmethod
    def from_estimator(cls, estimator, *, ax=None, derivative=False, **kwargs):
        """The loss a fitted classifier (or pipeline) was trained with.

        Parameters
        ----------
        estimator : GDLogisticClassifier or Pipeline
            Fitted; its ``loss_`` is drawn (the multinomial form for a
            multiclass fit).
        ax, derivative, **kwargs
            See :meth:`from_losses`.

        Returns
        -------
        display : LossFunctionDisplay
        """
        from ._base import final_classifier

        clf = final_classifier(estimator)
        return cls.from_losses([clf.loss_], ax=ax, derivative=derivative, **kwargs)
