"""Adam on mini-batches, with the objective's proximal L1 step."""

from dataclasses import dataclass

from ._minibatch import MiniBatchSolver, MiniBatchState


@dataclass
class AdamState(MiniBatchState):
    """The state of :class:`Adam`, as optax's ``ScaleByAdamState``.

    Attributes
    ----------
    epoch, schedule, auto_step, updates, bold
        See :class:`MiniBatchState`.
    count : int
        Updates made so far (the bias correction's :math:`t`).
    mu : array or None
        The first moment estimate :math:`m`.
    nu : array or None
        The second moment estimate :math:`v`.
    feature_scale : array or None
        The per-coordinate factor of ``learning_rate="auto"`` (see
        :class:`Adam`), measured on the first call's data and kept.

    Examples
    --------
    >>> from skloss.optim import AdamState
    >>> AdamState().count
    0
    """

    count: int = 0
    mu: object = None
    nu: object = None
    feature_scale: object = None


class Adam(MiniBatchSolver):
    """Adam (Kingma & Ba, 2015) on mini-batches, with a proximal L1 step.

    .. math::
        m \\leftarrow \\beta_1 m + (1 - \\beta_1) g, \\quad
        v \\leftarrow \\beta_2 v + (1 - \\beta_2) g^2, \\quad
        \\theta \\leftarrow \\operatorname{prox}_{D}\\left(\\theta - s
        \\frac{\\hat m}{\\sqrt{\\hat v} + \\epsilon}\\right)

    with bias-corrected moments :math:`\\hat m, \\hat v`; the L1 part is
    soft-thresholded coordinate-wise with the same per-coordinate step
    :math:`D = s / (\\sqrt{\\hat v} + \\epsilon)`.

    Parameters
    ----------
    learning_rate : float or "auto"
        The step :math:`s` before the schedule. Adam's update is invariant
        to the scale of the gradient, so each weight moves by about ``s``
        per step, and the decision values by ``s`` times the feature's
        scale. "auto" therefore divides a base step of 0.01 by each
        feature's root-mean-square (after centring): every feature then
        moves the decision values by about 0.01 per step, whatever the
        scaling of the data (the intercept takes 0.01). 0.01 is small
        enough to settle near the optimum and large enough to reach it in
        a few hundred updates on standardized data.
    beta1, beta2 : float, default=0.9, 0.999
        Decay rates of the moment estimates.
    epsilon : float, default=1e-8
        Guards the division.
    **kwargs
        Passed to :class:`MiniBatchSolver`.

    Examples
    --------
    >>> import numpy as np
    >>> from skloss._objective import LinearObjective
    >>> from skloss.losses import LogLoss
    >>> from skloss.optim import Adam
    >>> X = np.array([[1.0], [-1.0], [2.0], [-0.5]])
    >>> y = np.array([1.0, 0.0, 1.0, 0.0])
    >>> obj = LinearObjective(LogLoss(), X, y)
    >>> res = Adam(max_iter=20, random_state=np.random.RandomState(0)).minimize(
    ...     obj, obj.zeros())
    >>> res.loss_curve[-1] < res.loss_curve[0]
    True
    """

    AUTO_STEP = 0.01
    requires = MiniBatchSolver.requires + ("coordinate_scale",)
    State = AdamState

    def __init__(self, learning_rate="auto", *, beta1=0.9, beta2=0.999,
                 epsilon=1e-8, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon

    def _auto_step(self, objective):
        return self.AUTO_STEP

    def _update(self, objective, theta, grad, step, state):
        xp = objective.xp
        m, v = state.mu, state.nu
        if self.learning_rate == "auto":
            if state.feature_scale is None:
                state.feature_scale = objective.coordinate_scale()
            step = step * state.feature_scale
        if m is None:
            m = xp.zeros_like(theta)
            v = xp.zeros_like(theta)
        t = state.count + 1
        b1, b2 = self.beta1, self.beta2
        m = b1 * m + (1.0 - b1) * grad
        v = b2 * v + (1.0 - b2) * (grad * grad)
        m_hat = m / (1.0 - b1**t)
        v_hat = v / (1.0 - b2**t)
        scaled = step / (xp.sqrt(v_hat) + self.epsilon)
        theta = theta - scaled * m_hat
        # The objective's prox: its per-feature thresholds (features it
        # rescaled) included, so Adam minimises the same cost as the others.
        theta = objective.prox(theta, scaled)
        state.mu, state.nu, state.count = m, v, t
        return theta
