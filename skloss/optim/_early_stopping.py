"""Early stopping on a held-out score, keeping the best weights."""

import math


class EarlyStopping:
    """Track a validation score per epoch and remember the best weights.

    Training stops once ``n_iter_no_change`` consecutive epochs have not
    raised the score above ``best + tol``; the solver then returns the
    weights of the best epoch (the first epoch reaching the best score).

    Parameters
    ----------
    score : callable
        ``score(theta) -> float``, higher is better (e.g. validation
        accuracy of the model with solver parameters ``theta``).
    n_iter_no_change : int, default=5
        Epochs without improvement before stopping.
    tol : float or None, default=1e-6
        The improvement that counts (None: any increase).

    Attributes
    ----------
    scores_ : list of float
        The score after each epoch.
    best_score_ : float
        The best score so far.
    best_epoch_ : int
        The (1-based) epoch of the best score; 0 before any epoch.
    best_theta_ : array or None
        A copy of the weights at ``best_epoch_``.

    Examples
    --------
    >>> from skloss.optim import EarlyStopping
    >>> es = EarlyStopping(lambda theta: -abs(theta - 3), n_iter_no_change=2)
    >>> [es.update(epoch, theta) for epoch, theta in enumerate([1, 3, 4, 5], 1)]
    [False, False, False, True]
    >>> es.best_epoch_, es.best_theta_
    (2, 3)
    """

    def __init__(self, score, n_iter_no_change=5, tol=1e-6):
        self.score = score
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.scores_ = []
        self.best_score_ = -math.inf
        self.best_epoch_ = 0
        self.best_theta_ = None
        self._no_improve = 0

    def update(self, epoch, theta):
        """Score ``theta`` after ``epoch``; True means stop training.

        Parameters
        ----------
        epoch : int
            The 1-based epoch just finished.
        theta : array
            The weights after it (copied when they are the best so far).

        Returns
        -------
        stop : bool
        """
        score = float(self.score(theta))
        self.scores_.append(score)
        tol = 0.0 if self.tol is None else self.tol
        if score > self.best_score_ + tol or self.best_theta_ is None:
            self._no_improve = 0
        else:
            self._no_improve += 1
        if score > self.best_score_ or self.best_theta_ is None:
            self.best_score_ = score
            self.best_epoch_ = epoch
            self.best_theta_ = theta.copy() if hasattr(theta, "copy") else theta
        return self._no_improve >= self.n_iter_no_change
