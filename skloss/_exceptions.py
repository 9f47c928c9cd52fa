"""Exceptions raised by skloss."""


class DivergenceError(ValueError):
    """Training diverged: the cost became non-finite or grew without bound.

    Raised by every solver; a model fitted before the failed call is left
    exactly as it was. The message names the epoch, the step size in use and
    a step size that is safe for the data.

    Attributes
    ----------
    epoch : int
        The epoch (1-based) at which divergence was detected.
    learning_rate : float
        The step size in use.
    safe_learning_rate : float or None
        A step size for which gradient descent cannot diverge on this data,
        from the smoothness bound of the cost (None for non-smooth losses).

    Examples
    --------
    >>> from skloss import DivergenceError
    >>> issubclass(DivergenceError, ValueError)
    True
    """

    def __init__(self, message, *, epoch=None, learning_rate=None,
                 safe_learning_rate=None):
        super().__init__(message)
        self.epoch = epoch
        self.learning_rate = learning_rate
        self.safe_learning_rate = safe_learning_rate
