"""Full-batch (proximal) gradient descent.

A float ``learning_rate`` gives textbook fixed-step descent,
``theta <- prox(theta - lr * grad)``. ``learning_rate="auto"`` starts from
``1 / L`` (L bounds the smoothness of the cost) and then takes
Barzilai-Borwein steps, safeguarded by a non-monotone backtracking line
search (Wright, Nowak & Figueiredo, "Sparse reconstruction by separable
approximation", 2009), so no step size needs tuning. "auto" also iterates
in standardized coordinates (a diagonal preconditioner that keeps the
optimum), uses adaptive (ABBmin) Barzilai-Borwein steps on smooth costs and,
on large dense data, warm-starts from a solve on every 16th sample.
"""

import math
from collections import deque

import numpy as np

from ._base import Solver, vdot


class GradientDescent(Solver):
    """Full-batch proximal gradient descent.

    Parameters
    ----------
    learning_rate : float or "auto"
        Fixed step size, or "auto" for safeguarded Barzilai-Borwein steps.
    **kwargs
        Passed to :class:`~skloss.optim.Solver` (max_iter, tol, schedule,
        ...). A schedule multiplies a float learning rate at each epoch; it
        is ignored with "auto", whose line search picks every step.

    Examples
    --------
    >>> import numpy as np
    >>> from skloss._objective import LinearObjective
    >>> from skloss.losses import LogLoss
    >>> from skloss.optim import GradientDescent
    >>> X = np.array([[1.0], [-1.0], [2.0], [-0.5]])
    >>> y = np.array([1.0, 0.0, 0.0, 1.0])
    >>> obj = LinearObjective(LogLoss(), X, y)
    >>> res = GradientDescent(learning_rate="auto", tol=1e-10).minimize(
    ...     obj, obj.zeros())
    >>> res.converged
    True
    """

    # Sufficient-decrease constant and memory of the non-monotone search.
    _SIGMA = 1e-4
    _MEMORY = 10
    # Warm start of "auto" on large data (see _run_auto): sample stride,
    # least rows of the subsample, its gradient tolerance and epoch budget.
    _WARM_STRIDE = 16
    _WARM_MIN_ROWS = 5000
    _WARM_TOL = 1e-4
    _WARM_MAX_ITER = 50

    def __init__(self, learning_rate="auto", **kwargs):
        super().__init__(**kwargs)
        self.learning_rate = learning_rate
        if learning_rate == "auto":
            self.schedule = None
        self._grad_map = math.inf
        # Barzilai-Borwein costs are not monotone: stop on the gradient only.
        self.stop_on_plateau = learning_rate != "auto"

    def _initial_cost(self, objective, theta0):
        # The first epoch starts with the cost and gradient at theta0 (in
        # the coordinates it iterates in): evaluate them once, here, and
        # hand them to _run (one pass over X less per fit).
        solver_objective, theta = objective, theta0
        if self.learning_rate == "auto":
            solver_objective, theta = self._coordinates(objective, theta0)
        f, g = solver_objective.smooth_value_gradient(theta)
        self._start = (objective, theta0, solver_objective, theta, f, g)
        return f + solver_objective.nonsmooth_value(theta)

    def _take_start(self, objective, theta0):
        """The evaluation of _initial_cost, if it was made at this point."""
        start, self._start = getattr(self, "_start", None), None
        if start is not None and start[0] is objective and start[1] is theta0:
            return start[2:]
        return None

    @staticmethod
    def _coordinates(objective, theta):
        """The objective "auto" iterates on, and ``theta`` in its coordinates.

        Diagonal preconditioning: standardized coordinates (the optimum is
        the same); parameters are reported in the caller's.
        """
        precondition = getattr(objective, "preconditioned", None)
        inner = objective if precondition is None else precondition()
        if inner is not objective:
            theta = inner.from_model(objective.to_model(theta))
        return inner, theta

    def minimize(self, objective, theta0, **kwargs):
        if self.learning_rate == "auto":
            # A non-smooth cost (hinge, perceptron, Crammer-Singer) has no
            # vanishing gradient at its optimum: the gradient test never
            # fires, so "auto" also stops when the best cost stops improving
            # (the non-monotone line search keeps the best cost decreasing),
            # and a start at a kink (the perceptron's zero model, cost 0) is
            # not divergence.
            smooth = objective.smoothness() is not None
            self.stop_on_plateau = not smooth
            self.plateau_is_divergence = smooth
        return super().minimize(objective, theta0, **kwargs)

    def _converged(self, objective, theta, cost, step):
        return self.tol is not None and self._grad_map <= self.tol

    def _run(self, objective, theta, state):
        if self.learning_rate == "auto":
            yield from self._run_auto(objective, theta)
        else:
            yield from self._run_fixed(objective, theta, state)

    @staticmethod
    def _first_step(objective, g, safe):
        """The first step of "auto": exact on the cost's upper bound along -g.

        ``g.g / (g' H g)`` with ``H`` the smoothness bound's curvature
        along ``g`` (one product with X) minimises that upper bound along the
        gradient, a descent step typically several times longer than the
        global ``1 / L``; it saves Barzilai-Borwein a few epochs of finding
        the scale (breast cancer: 35 -> 30 evaluations).
        """
        curvature = getattr(objective, "bound_curvature", None)
        if curvature is None:
            return safe
        c = curvature(g)
        gg = vdot(objective.xp, g, g)
        if c is None or not (math.isfinite(c) and c > 0 and gg > 0):
            return safe
        step = gg / c
        return step if math.isfinite(step) and step > 0 else safe

    def _grad_map_norm(self, xp, d, step):
        size = float(np.abs(d).max() if type(d) is np.ndarray else xp.max(xp.abs(d)))
        # A step that underflowed to zero says nothing about convergence.
        return size / step if step > 0 else math.inf

    def _run_fixed(self, objective, theta, state):
        xp = objective.xp
        start = self._take_start(objective, theta)
        if start is not None:
            g = start[3]
        else:
            _, g = objective.smooth_value_gradient(theta)
        while True:
            step = float(self.learning_rate) * self._factor(state)
            theta_new = objective.prox(theta - step * g, step)
            f_new, g = objective.smooth_value_gradient(theta_new)
            self._grad_map = self._grad_map_norm(xp, theta_new - theta, step)
            theta = theta_new
            yield theta, f_new + objective.nonsmooth_value(theta), step

    def _run_auto(self, objective, theta):
        outer = objective
        self._inner = None
        begin = self._take_start(outer, theta)
        if begin is not None:
            objective, theta, f0, g0 = begin
        else:
            objective, theta = self._coordinates(outer, theta)
            f0 = g0 = None
        theta_begin = theta
        xp = objective.xp
        L = objective.smoothness()
        if L is None or not L > 0:
            L = objective.mean_sq_norm() + objective.penalty.l2
        safe = 1.0 / max(L, 1e-12)
        smooth = objective.loss.smoothness is not None
        has_l1 = objective.penalty.has_l1

        def epochs(objective, theta, f=None, g=None):
            """Accepted steps: (theta, f, cost, step used, gradient map).

            ``f, g``: the smooth cost and gradient at ``theta`` if known.
            """
            if g is None:
                f, g = objective.smooth_value_gradient(theta)
            step = self._first_step(objective, g, safe) if smooth else safe
            recent = deque(
                [f + objective.nonsmooth_value(theta)], maxlen=self._MEMORY
            )
            # Smooth costs: adaptive Barzilai-Borwein (ABBmin, Frassoldati,
            # Zanni & Zanghirati 2008, with the adaptive threshold of
            # Bonettini, Zanella & Zanni 2009): the short step (smallest
            # recent BB2) when BB2 / BB1 is small, the long BB1 step
            # otherwise. Non-smooth costs alternate BB1 and BB2, which
            # settles closer to a kinked optimum.
            short_steps = deque(maxlen=3)
            tau = 0.5
            use_bb1 = True
            while True:
                f_ref = max(recent)
                accepted = False
                for _ in range(60):
                    theta_new = objective.prox(theta - step * g, step)
                    d = theta_new - theta
                    dd = vdot(xp, d, d)
                    f_new, g_new = objective.smooth_value_gradient(theta_new)
                    cost = (
                        f_new + objective.nonsmooth_value(theta_new) if has_l1
                        else f_new
                    )
                    # dd == 0 first: a step that underflowed to 0 moves nothing.
                    if dd == 0.0 or (
                        math.isfinite(cost)
                        and cost <= f_ref - self._SIGMA * dd / (2 * step)
                    ):
                        accepted = True
                        break
                    step *= 0.5
                if not accepted:
                    # No acceptable step in 60 halvings (a huge
                    # Barzilai-Borwein step on a kinked cost): never take a
                    # rejected step; stay and restart from 1 / L.
                    theta_new, f_new, g_new, cost = theta, f, g, recent[-1]
                    d, dd = theta - theta, 0.0
                grad_map = (
                    self._grad_map_norm(xp, d, step) if accepted else math.inf
                )
                used = step
                yv = g_new - g
                sy = vdot(xp, d, yv)
                if sy > 0:
                    bb1, bb2 = dd / sy, sy / vdot(xp, yv, yv)
                    short_steps.append(bb2)
                    if not smooth:
                        step, use_bb1 = (bb1 if use_bb1 else bb2), not use_bb1
                    elif bb2 < tau * bb1:
                        step, tau = min(short_steps), 0.9 * tau
                    else:
                        step, tau = bb1, 1.1 * tau
                else:
                    step = min(used * 2.0, 1e12) if used > 0 else safe
                if not accepted:
                    step = safe
                theta, f, g = theta_new, f_new, g_new
                recent.append(cost)
                yield theta, cost, used, grad_map

        # Warm start on large data: first solve on every 16th sample (a view
        # of X, 1/16 of an epoch per step) to a loose tolerance, and keep the
        # result if it lowers the cost on another 16th of the samples. On
        # 200,000 x 100 this saves about a third of the full epochs.
        n_rows = getattr(objective.X, "shape", (0,))[0]
        n_coef = theta.shape[0] * theta.shape[1]
        strided = getattr(objective, "strided", None)
        if (
            strided is not None
            # Not for a handful of epochs (partial_fit runs one step per call).
            and (self.max_iter is None or self.max_iter >= 5)
            and n_rows >= self._WARM_STRIDE * self._WARM_MIN_ROWS
            and n_rows >= self._WARM_STRIDE * 20 * n_coef
        ):
            sub = strided(self._WARM_STRIDE)
            check = strided(self._WARM_STRIDE, self._WARM_STRIDE // 2)
            if sub is not None and check is not None:
                start = theta_sub = theta
                for k, (point, _, _, grad_map) in enumerate(epochs(sub, start)):
                    theta_sub = point
                    if grad_map <= self._WARM_TOL or k + 1 >= self._WARM_MAX_ITER:
                        break
                if check.value(theta_sub) < check.value(start):
                    theta = theta_sub

        known = (f0, g0) if theta is theta_begin else (None, None)
        # Points are yielded in the coordinates iterated in; _caller_theta
        # maps those the caller looks at.
        self._inner = None if objective is outer else (outer, objective)
        for point, cost, used, grad_map in epochs(objective, theta, *known):
            self._grad_map = grad_map
            yield point, cost, used

    def _caller_theta(self, theta):
        inner = getattr(self, "_inner", None)
        if inner is None:
            return theta
        outer, objective = inner
        return outer.from_model(objective.to_model(theta))
