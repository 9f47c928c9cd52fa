"""Smoothing continuation: "auto" gradient descent on kinked costs.

A cost with kinks (hinge, the perceptron) has no vanishing gradient at its
optimum, and gradient steps on it stall above the optimum. Where the loss
offers smooth approximations (:meth:`skloss.Loss.smoothed`), "auto"
descends a sequence of them of decreasing width instead, each from the
last one's result. :class:`~skloss.optim.GradientDescent` takes this mixin.
"""

import math

from ._base import Epoch


class SmoothingContinuation:
    """The continuation stages of :class:`~skloss.optim.GradientDescent`.

    Uses the solver's ``learning_rate``, ``max_iter``, ``tol``,
    ``n_iter_no_change`` and ``_MEMORY``; the epochs of each stage come
    from the solver's own descent (``epochs`` in ``_run_auto``).

    Examples
    --------
    >>> from skloss.optim import GradientDescent
    >>> from skloss.optim._continuation import SmoothingContinuation
    >>> issubclass(GradientDescent, SmoothingContinuation)
    True
    """

    # Smoothing continuation on kinked costs (see _continuation): the first
    # and last widths of the approximations.
    _MU_START = 1.0
    _MU_END = 1e-4

    def _continues(self, objective):
        """Whether "auto" runs smoothing continuation (_continuation) on
        ``objective``: a kinked cost whose loss has smooth approximations,
        and more than a handful of epochs (partial_fit runs one per call)."""
        return (
            self.learning_rate == "auto"
            and (self.max_iter is None or self.max_iter >= 5)
            and hasattr(objective, "smoothed")
            and objective.loss.smoothness is None
            and objective.loss.smoothed(self._MU_START) is not None
        )

    def _continuation(self, objective, theta, frame, epochs, state, newton_ok):
        """Smoothing continuation on a kinked cost whose loss offers it.

        Descents on ``objective.smoothed(mu)`` (see
        :meth:`skloss.Loss.smoothed`) for ``mu`` from ``_MU_START`` down
        tenfold to ``_MU_END``, each from the last one's result; a stage
        ends when its gradient map is below ``mu / 100`` or its cost has not
        improved by ``tol`` for ``max(n_iter_no_change, _MEMORY)`` epochs;
        the last one at ``tol`` on its gradient map or on that plateau
        (``settled``). Without L1, where the approximation has a second
        derivative (:meth:`skloss.Loss.hessian`), every stage takes damped
        Newton steps from its first epoch (``newton_ok``): its quadratic
        pieces are settled in a few steps, where Barzilai-Borwein steps at
        curvature ``1 / mu`` ran out of epochs (hinge + L2 on breast cancer,
        ``alpha=1e-4``: SVC's optimum to 2e-5 in 125 epochs). Each epoch
        reports the exact cost (one more pass over the data) and, until the
        last stage, no gradient map (the approximation's optimum is not the
        cost's). On scikit-learn's test_sgd_l1 problem (hinge, L1) this
        reaches the linear programme's optimum, 0.400 with its exact zeros,
        where gradient steps on the kinked cost stalled at 0.435.
        """
        tol = 0.0 if self.tol is None else self.tol
        mu = self._MU_START
        while True:
            stage = objective.smoothed(mu)
            last = mu <= self._MU_END
            L = stage.smoothness()
            best, stale = math.inf, 0
            patience = max(self.n_iter_no_change, self._MEMORY)
            for point, smoothed_cost, used, grad_map, finite in epochs(
                stage, theta, record=state, smooth=True,
                safe=1.0 / max(L, 1e-12), newton_ok=newton_ok,
                newton_from=math.inf, newton_after=0,
            ):
                theta = point
                cost = objective.value(point)
                # The stage's own cost: the non-monotone search may raise it
                # for a few epochs, hence a patience of its memory.
                if smoothed_cost < best - tol:
                    best, stale = smoothed_cost, 0
                else:
                    stale += 1
                settled = stale >= patience
                if last:
                    yield Epoch(point, cost, used, grad_map, frame, finite,
                                settled=settled)
                    continue
                yield Epoch(point, cost, used, math.inf, frame, finite)
                if grad_map <= mu / 100 or settled:
                    break
            mu /= 10
