"""Divergence: when a cost or gradient says training has failed, and the
:class:`~skloss.DivergenceError` that says so, with a safe step to use."""

import math

from .._exceptions import DivergenceError

# A cost this many times the initial cost (plus one) counts as divergence.
_RUNAWAY_FACTOR = 1e4


class DivergenceChecks:
    """The divergence tests of :class:`~skloss.optim.Solver`.

    Uses the solver's ``safe_step(objective)`` for the advice.

    Examples
    --------
    >>> from skloss.optim import Solver
    >>> from skloss.optim._divergence import DivergenceChecks
    >>> issubclass(Solver, DivergenceChecks)
    True
    """

    def _check_divergence(self, objective, epoch, cost, cost0, step):
        if math.isfinite(cost) and cost <= _RUNAWAY_FACTOR * (abs(cost0) + 1.0):
            return
        self._raise_divergence(objective, epoch, cost, cost0, step)

    def _raise_divergence(self, objective, epoch, cost, cost0, step,
                          what="cost"):
        safe = self.safe_step(objective)
        advice = (
            f"A step size of at most {safe:.3g} is safe for this data, or use "
            "learning_rate='auto'."
            if safe is not None
            else "Lower the learning rate, or use learning_rate='auto'."
        )
        if what == "gradient":
            what = "gradient is not finite (the cost "
            # At weights where the cost is finite: the loss's gradient (a
            # user loss) or data overflowing in it, not the step size.
            advice = (
                "Check the loss's gradient for NaN or overflow at these "
                "weights (skloss.check_loss tests a loss) and the data for "
                "huge values."
            )
        elif not math.isfinite(cost):
            what = "cost is not finite ("
        elif cost <= _RUNAWAY_FACTOR * (abs(cost0) + 1.0):
            what = "cost rose above its starting value and stopped improving ("
        else:
            what = "cost grew without bound ("
        raise DivergenceError(
            f"Training diverged at epoch {epoch}: the {what}"
            f"{cost:.4g}, from {cost0:.4g} at the start) with learning rate "
            f"{step:.4g}. {advice} The model was left as it was before fit.",
            epoch=epoch,
            learning_rate=step,
            safe_learning_rate=safe,
        )
