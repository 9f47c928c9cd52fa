"""Accelerated (proximal) gradient descent: Nesterov / FISTA with restart.

Each epoch takes one gradient step from an extrapolated point,

.. math::
    y_k = x_k + \\frac{t_{k-1} - 1}{t_k} (x_k - x_{k-1}), \\qquad
    x_{k+1} = \\operatorname{prox}_{s R_1}(y_k - s \\nabla f(y_k)),

with :math:`t_k = (1 + \\sqrt{1 + 4 t_{k-1}^2}) / 2` (Beck & Teboulle,
"A fast iterative shrinkage-thresholding algorithm", 2009). Momentum is
reset whenever the cost rises or the step opposes the momentum (adaptive
restart, O'Donoghue & Candès, 2015), which keeps the iteration monotone in
practice and fast on strongly convex problems.
"""

import math
from dataclasses import dataclass
from typing import ClassVar

from ._base import Epoch, Solver, SolverState
from ._parameters import all_finite, vdot


@dataclass
class NesterovState(SolverState):
    """The state of :class:`NesterovGradient`, carried across calls.

    Attributes
    ----------
    epoch, schedule
        See :class:`~skloss.optim.SolverState`.
    velocity : array or None
        The last displacement ``x_k - x_{k-1}`` (model coordinates between
        calls); None before the first epoch.
    t : float
        FISTA's momentum parameter :math:`t_k` (1 after a restart).
    step : float or None
        The last step size ("auto" tries 20% more first); None: start from
        ``1 / L``.

    Examples
    --------
    >>> from skloss.optim import NesterovState
    >>> NesterovState().t
    1.0
    """

    directions: ClassVar[tuple] = ("velocity",)

    velocity: object = None
    t: float = 1.0
    step: object = None


class NesterovGradient(Solver):
    """Accelerated proximal gradient descent (FISTA) with adaptive restart.

    Parameters
    ----------
    learning_rate : float or "auto"
        A fixed step size (times the schedule's factor), or "auto": start
        from ``1 / L`` (the objective's smoothness bound), try a 20% longer
        step each epoch and halve it until the standard sufficient-decrease
        test of backtracking FISTA holds. "auto" never diverges.
    **kwargs
        Passed to :class:`~skloss.optim.Solver` (max_iter, tol, schedule,
        ...). A schedule is ignored with "auto".

    Examples
    --------
    >>> import numpy as np
    >>> from skloss._objective import LinearObjective
    >>> from skloss.losses import LogLoss
    >>> from skloss.optim import NesterovGradient
    >>> X = np.array([[1.0], [-1.0], [2.0], [-0.5]])
    >>> y = np.array([1.0, 0.0, 0.0, 1.0])
    >>> obj = LinearObjective(LogLoss(), X, y)
    >>> res = NesterovGradient(tol=1e-10).minimize(obj, obj.zeros())
    >>> res.converged
    True
    """

    requires = Solver.requires + (
        "value", "smooth_value", "smooth_value_gradient", "nonsmooth_value",
        "prox", "smoothness", "mean_sq_norm",
    )
    State = NesterovState

    def __init__(self, learning_rate="auto", **kwargs):
        super().__init__(**kwargs)
        self.learning_rate = learning_rate
        if learning_rate == "auto":
            self.schedule = None

    def _plateau_rules(self, objective):
        # "auto": the sufficient-decrease search makes the cost monotone up
        # to restarts; stop on the gradient map like "gd" does.
        return self.learning_rate != "auto", True

    def _converged(self, epoch):
        return epoch.grad_map <= self.tol

    def _initial_step(self, objective):
        L = objective.smoothness()
        if L is None or not L > 0:
            L = objective.mean_sq_norm() + objective.penalty.l2
        return 1.0 / max(L, 1e-12)

    def _run(self, objective, theta, state, capabilities):
        xp = objective.xp
        auto = self.learning_rate == "auto"
        x = theta
        cost_prev = objective.value(x)
        yield cost_prev
        v = state.velocity
        if v is None:
            v = xp.zeros_like(x)
        t = state.t
        step = state.step or self._initial_step(objective)
        while True:
            t_next = (1.0 + math.sqrt(1.0 + 4.0 * t * t)) / 2.0
            y = x + ((t - 1.0) / t_next) * v
            f_y, g_y = objective.smooth_value_gradient(y)
            finite = all_finite(xp, g_y)
            if not finite:
                # Divergence (the base class raises): no line search on it.
                yield Epoch(y, f_y + objective.nonsmooth_value(y), step,
                            finite_gradient=False)
                return
            if auto:
                step = min(step * 1.2, 1e12)
                for _ in range(60):
                    x_new = objective.prox(y - step * g_y, step)
                    d = x_new - y
                    dd = vdot(xp, d, d)
                    f_new, g_new = objective.smooth_value_gradient(x_new)
                    if not math.isfinite(f_new):
                        step *= 0.5
                        continue
                    if abs(f_new - f_y) > 1e-9 * max(abs(f_y), 1.0):
                        ok = f_new <= f_y + vdot(xp, g_y, d) + dd / (2 * step)
                    else:
                        # Near the optimum the cost difference is lost in
                        # rounding; test the curvature along d instead (the
                        # same test for a quadratic).
                        ok = vdot(xp, d, g_new - g_y) <= dd / step
                    if ok or dd == 0.0:
                        break
                    step *= 0.5
                # The gradient at the new point is known: a NaN there (a
                # user loss's) is caught in this epoch, not the next.
                finite = all_finite(xp, g_new)
            else:
                step = float(self.learning_rate) * self._factor(state)
                x_new = objective.prox(y - step * g_y, step)
                d = x_new - y
                f_new = objective.smooth_value(x_new)
            cost = f_new + objective.nonsmooth_value(x_new)
            grad_map = float(xp.max(xp.abs(d))) / step
            v_new = x_new - x
            if cost > cost_prev or vdot(xp, -d, v_new) > 0:
                # Adaptive restart: drop the momentum.
                t = 1.0
            else:
                t = t_next
            x, v, cost_prev = x_new, v_new, cost
            state.velocity, state.t, state.step = v, t, step
            yield Epoch(x, cost, step, grad_map, finite_gradient=finite)
