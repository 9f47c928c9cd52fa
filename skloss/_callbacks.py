"""Bridge from the solvers' per-epoch hooks to scikit-learn's callback API.

scikit-learn 1.9 added ``sklearn.callback`` (``set_callbacks``,
``ProgressBar``, ``ScoringMonitor``); with an older scikit-learn the
estimator simply has no callback support and this module does nothing.
"""

try:  # scikit-learn >= 1.9
    from sklearn.callback import CallbackSupportMixin

    HAS_SKLEARN_CALLBACKS = True
except ImportError:  # pragma: no cover - older scikit-learn

    class CallbackSupportMixin:
        """Stand-in without callbacks for scikit-learn < 1.9."""

    HAS_SKLEARN_CALLBACKS = False


class EpochCallbacks:
    """One callback subtask per epoch of a fit.

    Parameters
    ----------
    estimator : GDLogisticClassifier
        The estimator being fitted (it has ``_init_callback_context``).
    X, y : arrays
        The training data handed to the callbacks.
    metadata : dict or None
        ``{"sample_weight": ...}`` when sample weights were given.
    max_epochs : int
        The most epochs this fit can run (the subtask count).
    attributes : callable
        ``attributes(theta, epoch) -> dict`` of the fitted attributes of the
        model at solver parameters ``theta`` (evaluated lazily, only for
        callbacks that ask for a ``fitted_estimator``).

    Examples
    --------
    >>> from skloss._callbacks import EpochCallbacks
    >>> EpochCallbacks.__name__
    'EpochCallbacks'
    """

    def __init__(self, estimator, X, y, metadata, max_epochs, attributes):
        self.estimator = estimator
        self.X = X
        self.y = y
        self.metadata = metadata
        self.attributes = attributes
        self.root = None
        self.current = None
        if HAS_SKLEARN_CALLBACKS and hasattr(estimator, "_init_callback_context"):
            self.root = estimator._init_callback_context(max_subtasks=max_epochs)
            self.root.call_on_fit_task_begin(
                estimator=estimator, X=X, y=y, metadata=metadata
            )

    @property
    def active(self):
        return self.root is not None

    @property
    def per_epoch(self):
        """Whether epochs open subtasks: only when callbacks are set.

        As scikit-learn's own solvers do, an estimator without callbacks
        (none set, none propagated by a meta-estimator) skips the per-epoch
        bookkeeping.
        """
        return self.active and hasattr(self.estimator, "_skl_callbacks")

    def begin_epoch(self, epoch):
        """Open the subtask of ``epoch``."""
        self.current = self.root.subcontext(task_name="epoch")
        self.current.call_on_fit_task_begin(
            estimator=self.estimator, X=self.X, y=self.y, metadata=self.metadata
        )

    def end_epoch(self, epoch, theta, cost, step):
        """Close the subtask of ``epoch``; True when a callback asks to stop."""
        ctx, self.current = self.current, None
        return bool(
            ctx.call_on_fit_task_end(
                estimator=self.estimator,
                X=self.X,
                y=self.y,
                metadata=self.metadata,
                reconstruction_attributes=lambda: self.attributes(theta, epoch),
            )
        )

    def end_fit(self):
        """Close the root task, after the fitted attributes were stored."""
        self.root.call_on_fit_task_end(
            estimator=self.estimator,
            X=self.X,
            y=self.y,
            metadata=self.metadata,
            reconstruction_attributes={},
        )

    def abort(self):
        """Close open tasks after a failed fit (no fitted estimator)."""
        if self.current is not None:
            self.current.call_on_fit_task_end(estimator=self.estimator)
            self.current = None
        if self.root is not None:
            self.root.call_on_fit_task_end(estimator=self.estimator)
