"""Smooth approximations of kinked losses, for gd's smoothing continuation.

A kinked loss offers them through :meth:`skloss.Loss.smoothed`; they are
not registered by name (a fit never trains on one by itself).
"""

from sklearn.utils._array_api import get_namespace

from ._base import Loss
from ._links import indicator, sign


class SmoothedHinge(Loss):
    r"""The hinge's Moreau envelope (a Huberized hinge) of width ``mu``.

    With the margin :math:`z = s r` and :math:`t = \max(0, 1 - z)`,

    .. math::
        \ell_\mu(y, r) = t^2 / (2\mu) \text{ if } t \le \mu,
        \quad t - \mu / 2 \text{ otherwise},

    smooth with second derivative at most :math:`1 / \mu`, at most
    :math:`\mu / 2` below the hinge. ``Hinge().smoothed(mu)`` returns it
    for gd's smoothing continuation (see :meth:`skloss.Loss.smoothed`).

    Parameters
    ----------
    mu : float, default=1.0
        The width of the quadratic piece, > 0.

    Examples
    --------
    >>> import numpy as np
    >>> from skloss.losses import SmoothedHinge
    >>> SmoothedHinge(0.5).loss(np.array([1.0, 1.0]), np.array([0.75, -1.0]))
    array([0.0625, 1.75  ])
    """

    is_convex = True
    has_proba = False
    thread_safe = True

    def __init__(self, mu=1.0):
        self.mu = mu

    @property
    def smoothness(self):
        return 1.0 / self.mu

    def loss(self, y, raw):
        xp, _ = get_namespace(raw)
        t = xp.clip(1.0 - sign(y) * raw, 0, None)
        near = xp.clip(t, None, self.mu)  # squared only where it is small
        return xp.where(t <= self.mu, near * near / (2.0 * self.mu),
                        t - self.mu / 2.0)

    def gradient(self, y, raw):
        xp, _ = get_namespace(raw)
        s = sign(y)
        return -s * xp.clip((1.0 - s * raw) / self.mu, 0, 1)

    def loss_gradient(self, y, raw):
        # One pass: with q = clip(t / mu, 0, 1) the loss is q (t - mu q / 2)
        # on every piece, t taken at 0 or more (0 * -inf would be NaN).
        xp, _ = get_namespace(raw)
        s = sign(y)
        t = xp.clip(1.0 - s * raw, 0, None)
        q = xp.clip(t / self.mu, None, 1)
        return q * (t - 0.5 * self.mu * q), -s * q

    def hessian(self, y, raw):
        xp, _ = get_namespace(raw)
        t = 1.0 - sign(y) * raw
        return indicator((t > 0) & (t <= self.mu), raw, xp) / self.mu
