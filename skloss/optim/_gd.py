"""Full-batch (proximal) gradient descent.

A float ``learning_rate`` gives textbook fixed-step descent,
``theta <- prox(theta - lr * grad)``. ``learning_rate="auto"`` starts from
``1 / L`` (L bounds the smoothness of the cost) and then takes
Barzilai-Borwein steps, safeguarded by a non-monotone backtracking line
search (Wright, Nowak & Figueiredo, "Sparse reconstruction by separable
approximation", 2009), so no step size needs tuning. "auto" also iterates
in standardized coordinates (a diagonal preconditioner that keeps the
optimum), uses limited-memory BFGS directions on smooth costs without L1
(adaptive, ABBmin, Barzilai-Borwein steps where there is no curvature
pair yet or a direction fails), finishes with damped Newton steps where
the objective offers them (a loss with a second derivative, see
``skloss._newton``) and, on large dense data, warm-starts from a solve on
every 16th sample, whose Hessian (for the same losses) is then the initial
matrix of the BFGS directions on all the data: subsampled Newton steps.
"""

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from ._base import Epoch, Solver, SolverState
from ._continuation import SmoothingContinuation
from ._lbfgs import LimitedMemoryBFGS
from ._parameters import all_finite, vdot


@dataclass
class GradientDescentState(SolverState):
    """The state of :class:`GradientDescent`.

    A fixed ``learning_rate`` needs only the base fields (the epoch count
    drives the schedule). With "auto" the Barzilai-Borwein search is
    recorded here after each epoch, for inspection; each call to
    ``minimize`` restarts it from a step on the smoothness bound at its
    starting point, because a later call (``partial_fit``) minimises
    another cost, on which this memory of the old one's costs and
    curvature would accept the wrong steps.

    Attributes
    ----------
    epoch, schedule
        See :class:`~skloss.optim.SolverState`.
    next_step : float or None
        The step the next epoch tries first (the Barzilai-Borwein step).
    recent_costs : tuple of float
        The last costs, whose largest is the non-monotone line search's
        reference (``GradientDescent._MEMORY`` of them).
    short_steps : tuple of float
        The last short (BB2) steps, whose smallest ABBmin takes.
    tau : float
        ABBmin's adaptive threshold on BB2 / BB1.
    use_bb1 : bool
        On non-smooth costs, whether the next step is BB1 (else BB2).

    Examples
    --------
    >>> from skloss.optim import GradientDescentState
    >>> GradientDescentState().next_step is None
    True
    """

    next_step: object = None
    recent_costs: tuple = ()
    short_steps: tuple = ()
    tau: float = 0.5
    use_bb1: bool = True


class GradientDescent(SmoothingContinuation, Solver):
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

    requires = Solver.requires + (
        "value", "smooth_value_gradient", "nonsmooth_value", "prox",
        "smoothness", "mean_sq_norm",
    )
    # "auto": standardized coordinates (preconditioned), the first step on
    # the bound's curvature (bound_curvature), the warm start on every 16th
    # sample of large data (strided_views, n_samples).
    optional = ("preconditioned", "bound_curvature", "strided_views",
                "n_samples", "newton_direction", "smoothed", "inverse_hessian")
    State = GradientDescentState

    # Sufficient-decrease constant and memory of the non-monotone search.
    _SIGMA = 1e-4
    # Relative change of the cost that may be rounding error (see _backtrack).
    _COST_ROUNDING = 1e-10
    _MEMORY = 10
    # Largest gradient entry below which "auto" tries Newton epochs.
    _NEWTON_FROM = 1e-3
    # Epochs of gradient steps before the first Newton step, per parameter
    # (ski rental: spend on epochs what one Newton step costs before buying
    # it). Its Hessian takes about (d + 1) / 2 epochs of multiply-adds at
    # several times their speed: measured with one thread, 9 epochs at
    # 200,000 x 100 and 6 at 569 x 30.
    _NEWTON_EPOCHS_PER_COEF = 0.1
    # Curvature pairs of the limited-memory BFGS direction (as L-BFGS-B).
    _LBFGS_MEMORY = 10
    # Warm start of "auto" on large data (see _run_auto): sample stride,
    # least rows of the subsample (in all and per coefficient), its
    # gradient tolerance and epoch budget.
    _WARM_STRIDE = 16
    _WARM_MIN_ROWS = 5000
    _WARM_ROWS_PER_COEF = 10
    _WARM_TOL = 1e-4
    _WARM_MAX_ITER = 50

    def __init__(self, learning_rate="auto", **kwargs):
        super().__init__(**kwargs)
        self.learning_rate = learning_rate
        if learning_rate == "auto":
            self.schedule = None

    def _plateau_rules(self, objective):
        if self.learning_rate != "auto":
            return True, True
        # Barzilai-Borwein costs are not monotone: stop on the gradient map.
        # A non-smooth cost (hinge, perceptron, Crammer-Singer) has no
        # vanishing gradient at its optimum: the gradient test never fires,
        # so "auto" also stops when the best cost stops improving (the
        # non-monotone line search keeps the best cost decreasing), and a
        # start at a kink (the perceptron's zero model, cost 0) is not
        # divergence. Smoothing continuation (_continuation) ends its
        # stages on their own plateaus: the exact cost may rise while a
        # coarse approximation is descended.
        smooth = objective.smoothness() is not None
        return not smooth and not self._continues(objective), smooth

    @staticmethod
    def _coordinates(objective, theta, capabilities):
        """The objective "auto" iterates on, and ``theta`` in its coordinates.

        Diagonal preconditioning: standardized coordinates (the optimum is
        the same); parameters are reported in the caller's.
        """
        if "preconditioned" not in capabilities:
            return objective, theta
        inner = objective.preconditioned()
        if inner is not objective:
            theta = inner.from_model(objective.to_model(theta))
        return inner, theta

    def _warm_views(self, objective, theta, capabilities):
        """``(subsample, check)`` views for the warm start of "auto", or None.

        Large data (see ``_run_auto``) is first solved on every
        ``_WARM_STRIDE``-th sample, and the result kept if it lowers the
        cost on another such subsample. The subsample needs
        ``_WARM_ROWS_PER_COEF`` rows per coefficient: at 10 its Hessian still
        starts the full solve Newton-like (covertype-like 100,000 x 54, 7
        classes, 16 rows per coefficient: 24 -> 6 epochs).
        """
        n_coef = theta.shape[0] * theta.shape[1]
        if not (
            "strided_views" in capabilities and "n_samples" in capabilities
            # Not for a single step (partial_fit runs one per call); from
            # two epochs on it pays (200,000 x 100: 4 epochs reach lbfgs's
            # cost with it, 5 without).
            and (self.max_iter is None or self.max_iter >= 2)
            and objective.n_samples >= self._WARM_STRIDE * self._WARM_MIN_ROWS
            and objective.n_samples
            >= self._WARM_STRIDE * self._WARM_ROWS_PER_COEF * n_coef
        ):
            return None
        # Both in one request: on dask data they come to the client in one
        # computation (one round trip to the cluster).
        sub, check = objective.strided_views(
            self._WARM_STRIDE, (0, self._WARM_STRIDE // 2)
        )
        return None if sub is None or check is None else (sub, check)

    def _converged(self, epoch):
        return epoch.grad_map <= self.tol or epoch.settled

    def _run(self, objective, theta, state, capabilities):
        if self.learning_rate == "auto":
            yield from self._run_auto(objective, theta, state, capabilities)
        else:
            yield from self._run_fixed(objective, theta, state)

    @staticmethod
    def _first_step(objective, g, safe, capabilities):
        """The first step of "auto": exact on the cost's upper bound along -g.

        ``g.g / (g' H g)`` with ``H`` the smoothness bound's curvature
        along ``g`` (one product with X) minimises that upper bound along the
        gradient, a descent step typically several times longer than the
        global ``1 / L``; it saves Barzilai-Borwein a few epochs of finding
        the scale (breast cancer: 35 -> 30 evaluations).
        """
        if "bound_curvature" not in capabilities:
            return safe
        c = objective.bound_curvature(g)
        gg = vdot(objective.xp, g, g)
        if c is None or not (math.isfinite(c) and c > 0 and gg > 0):
            return safe
        step = gg / c
        return step if math.isfinite(step) and step > 0 else safe

    def _newton_epoch(self, objective, theta, f, g):
        """A damped Newton step from ``theta``: ``(theta, f, g, damping)``.

        The objective's Newton direction (a loss with a second derivative,
        see :mod:`skloss._newton`) with an Armijo backtracking search from
        the full step; None when there is no direction or it does not
        descend, and the gradient steps carry on alone.
        """
        direction = objective.newton_direction(theta, g)
        if direction is None:
            return None
        return self._backtrack(objective, theta, f, g, direction)

    def _backtrack(self, objective, theta, f, g, direction):
        """``(theta, f, g, alpha)`` of the first ``alpha`` in 1, 1/2, ...,
        2**-29 whose smooth cost is below ``f + sigma alpha g.direction``
        (Armijo's condition, ``f`` the cost at ``theta``) or that meets the
        approximate Wolfe conditions; None if it is not a descent direction
        or none does.

        Near the optimum the decrease Armijo asks for falls below the
        cost's rounding error, while the gradient still measures progress:
        Hager and Zhang's approximate Wolfe conditions (SIAM J. Optim. 16,
        2005) accept a step whose cost is within ``_COST_ROUNDING`` of
        ``f`` (relative) and whose slope ``s`` along the direction has
        shrunk from ``s0 < 0`` to ``0.9 s0 <= s <= -0.8 s0`` (their
        ``sigma = 0.9``, ``delta = 0.1``). Without them a Newton step at a
        gradient of 1e-9 was halved by one unit of rounding in the cost
        and the fit stalled above ``tol=1e-10``.
        """
        xp = objective.xp
        slope = vdot(xp, g, direction)
        if not (math.isfinite(slope) and slope < 0):
            return None
        rounding = self._COST_ROUNDING * abs(f)
        alpha = 1.0
        for _ in range(30):
            theta_new = theta + alpha * direction
            f_new, g_new = objective.smooth_value_gradient(theta_new)
            if math.isfinite(f_new) and (
                f_new <= f + self._SIGMA * alpha * slope
                or (f_new <= f + rounding
                    and 0.9 * slope <= vdot(xp, g_new, direction) <= -0.8 * slope)
            ):
                return theta_new, f_new, g_new, alpha
            alpha *= 0.5
        return None

    def _grad_map_norm(self, xp, d, step):
        size = float(np.abs(d).max() if type(d) is np.ndarray else xp.max(xp.abs(d)))
        # A step that underflowed to zero says nothing about convergence.
        return size / step if step > 0 else math.inf

    def _run_fixed(self, objective, theta, state):
        xp = objective.xp
        f, g = objective.smooth_value_gradient(theta)
        yield f + objective.nonsmooth_value(theta)
        while True:
            step = float(self.learning_rate) * self._factor(state)
            theta_new = objective.prox(theta - step * g, step)
            f_new, g = objective.smooth_value_gradient(theta_new)
            grad_map = self._grad_map_norm(xp, theta_new - theta, step)
            theta = theta_new
            yield Epoch(theta, f_new + objective.nonsmooth_value(theta), step,
                        grad_map, finite_gradient=all_finite(xp, g))

    def _run_auto(self, objective, theta, state, capabilities):
        outer = objective
        # The first epoch starts with the cost and gradient at theta0 in the
        # coordinates iterated in: evaluated once, for the initial cost too
        # (the cost alone where the warm start moves theta first).
        objective, theta = self._coordinates(outer, theta, capabilities)
        warm = self._warm_views(objective, theta, capabilities)
        if warm is None:
            f0, g0 = objective.smooth_value_gradient(theta)
            yield f0 + objective.nonsmooth_value(theta)
        else:
            # The warm start moves theta before the full data's gradient is
            # needed: the initial cost alone (at zero coefficients, the
            # usual start, without a pass over X; covertype-like: 8 -> 7
            # full evaluations a fit).
            f0 = g0 = None
            yield objective.value(theta)
        theta_begin = theta
        xp = objective.xp
        L = objective.smoothness()
        if L is None or not L > 0:
            L = objective.mean_sq_norm() + objective.penalty.l2
        safe = 1.0 / max(L, 1e-12)
        smooth = objective.smoothness() is not None
        has_l1 = objective.penalty.has_l1
        # Newton finish (see _newton_epoch) once the largest gradient entry
        # is down to _NEWTON_FROM (or tol): the last digits, where
        # Barzilai-Borwein is slowest. Not with tol=None (a fixed number of
        # epochs of the method as it is).
        newton_ok = (
            smooth and not has_l1 and self.tol is not None
            and "newton_direction" in capabilities
        )
        # A kinked cost whose loss has smooth approximations: smoothing
        # continuation (_continuation), not for a handful of epochs.
        continuation = "smoothed" in capabilities and self._continues(objective)

        def epochs(objective, theta, f=None, g=None, record=None,
                   smooth=smooth, safe=safe, newton_ok=newton_ok,
                   newton_from=None, newton_after=None, initial=None):
            """Accepted steps: (theta, f, cost, step used, gradient map,
            whether the gradient there is finite).

            ``f, g``: the smooth cost and gradient at ``theta`` if known;
            ``record``: the state the search is written to after each step;
            ``smooth, safe``: whether ``objective`` is smooth, its safe step;
            ``newton_ok, newton_from``: whether to try Newton epochs on it,
            from which gradient map (by default ``_NEWTON_FROM`` or tol)
            and after how many epochs (by default as many as one Newton step
            costs, ``_NEWTON_EPOCHS_PER_COEF`` per parameter); ``initial``:
            the initial inverse Hessian of the BFGS directions, if any.
            """
            if g is None:
                f, g = objective.smooth_value_gradient(theta)
            # The first gradient step, computed when first needed (its
            # curvature costs a pass over the data that a BFGS direction
            # from an initial matrix does without).
            step = None
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
            # A smooth cost without L1 (prox is the identity): limited-memory
            # BFGS directions once a step has given a curvature pair, the
            # Barzilai-Borwein step for the first epoch and whenever a
            # direction fails (standardized digits, 10 classes: 144 -> 90 epochs).
            bfgs = (
                LimitedMemoryBFGS(xp, self._LBFGS_MEMORY, initial)
                if smooth and not objective.penalty.has_l1 else None
            )
            if newton_from is None:
                newton_from = max(self._NEWTON_FROM, self.tol) if newton_ok else 0.0
            if newton_after is None:
                newton_after = math.ceil(
                    self._NEWTON_EPOCHS_PER_COEF * theta.shape[0] * theta.shape[1]
                )
            newton_wait = newton_after
            grad_map = math.inf
            while True:
                f_ref = max(recent)
                accepted = along_direction = False
                found = None
                newton_wait -= 1
                if newton_ok and grad_map <= newton_from and newton_wait <= 0:
                    found = self._newton_epoch(objective, theta, f, g)
                    if found is None:
                        # Singular (no sample of some output on a curved
                        # piece) or no descent: the pieces the samples sit
                        # on are not settled yet; try again _MEMORY epochs on.
                        newton_wait = self._MEMORY
                if found is None and bfgs is not None and bfgs.ready:
                    # Backtracking from the full step: the initial matrix
                    # gives the direction its scale.
                    found = self._backtrack(objective, theta, f, g,
                                            bfgs.direction(g))
                    if found is None:
                        bfgs.failed()  # start the estimate again from BB
                if found is not None:
                    accepted = along_direction = True
                    theta_new, f_new, g_new, used = found
                    cost = f_new
                    d = theta_new - theta
                    dd = vdot(xp, d, d)
                elif step is None:
                    step = (
                        self._first_step(objective, g, safe, capabilities)
                        if smooth else safe
                    )
                for _ in range(0 if accepted else 60):
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
                if along_direction:
                    # The gradient at the new point itself (no L1 part).
                    grad_map = self._grad_map_norm(xp, g_new, 1.0)
                else:
                    # 0 also where the step cannot move theta at all (the
                    # float32 optimum to its precision).
                    grad_map = (
                        self._grad_map_norm(xp, d, step) if accepted else math.inf
                    )
                    used = step
                yv = g_new - g
                sy = vdot(xp, d, yv)
                yy = vdot(xp, yv, yv) if sy > 0 else 0.0
                if bfgs is not None and accepted:
                    if f_new < f:
                        bfgs.update(d, yv, sy, yy)
                    else:
                        # No measurable decrease: at the optimum to rounding
                        # (tol=None runs on), where pairs of rounding noise
                        # would scale the direction up (1e-10 jitter).
                        bfgs.reset()
                if sy > 0:
                    bb1, bb2 = dd / sy, sy / yy
                    short_steps.append(bb2)
                    if not smooth:
                        step, use_bb1 = (bb1 if use_bb1 else bb2), not use_bb1
                    elif bb2 < tau * bb1:
                        step, tau = min(short_steps), 0.9 * tau
                    else:
                        step, tau = bb1, 1.1 * tau
                elif not along_direction:
                    step = min(used * 2.0, 1e12) if used > 0 else safe
                if not accepted:
                    step = safe
                theta, f, g = theta_new, f_new, g_new
                recent.append(cost)
                if record is not None:
                    record.next_step = step
                    record.recent_costs = tuple(recent)
                    record.short_steps = tuple(short_steps)
                    record.tau, record.use_bb1 = tau, use_bb1
                # A non-finite gradient at a point of finite cost (a user
                # loss's NaN) would fail every later line search: say so.
                # sy = d.(g_new - g) is NaN or inf exactly when g_new has a
                # non-finite entry (0 * nan is nan), d and g being finite:
                # no extra pass over the gradient.
                yield theta, cost, used, grad_map, math.isfinite(sy)

        # Warm start on large data: first solve on every 16th sample (a view
        # of X, 1/16 of an epoch per step) to a loose tolerance, and keep the
        # result if it lowers the cost on another 16th of the samples
        # (_warm_views). On 200,000 x 100 this saves about a third of the
        # full epochs.
        initial = None
        if warm is not None:
            sub, check = warm
            start = theta_sub = theta
            for k, (point, _, _, grad_map, finite) in enumerate(epochs(sub, start)):
                if not finite:  # the full solve meets and reports it
                    break
                theta_sub = point
                if grad_map <= self._WARM_TOL or k + 1 >= self._WARM_MAX_ITER:
                    break
            if check.value(theta_sub) < check.value(start):
                theta = theta_sub
                # Subsampled Newton: the subsample's Hessian at its
                # solution, 1/16 of the cost of the whole data's, is
                # close to the whole data's at its optimum; as the BFGS
                # directions' initial matrix it gives Newton-like steps
                # from the first full epoch (200,000 x 100: 10 -> 5
                # epochs to tol, 3 to lbfgs's cost).
                if newton_ok and "inverse_hessian" in capabilities:
                    initial = sub.inverse_hessian(theta_sub)

        known = (f0, g0) if theta is theta_begin else (None, None)
        # Points are yielded in the coordinates iterated in (frame); the
        # base class maps those the caller looks at.
        frame = None if objective is outer else objective
        if continuation:
            yield from self._continuation(
                objective, theta, frame, epochs, state,
                newton_ok=(
                    not has_l1 and self.tol is not None
                    and "newton_direction" in capabilities
                ),
            )
            return
        for point, cost, used, grad_map, finite in epochs(
            objective, theta, *known, record=state, initial=initial
        ):
            yield Epoch(point, cost, used, grad_map, frame, finite)
