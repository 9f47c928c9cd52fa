r"""Penalties on the coefficients (never on the intercept).

Each penalty splits into a smooth part, handled by gradients, and an L1 part,
handled by its proximal operator (soft thresholding), so proximal solvers
produce exact zeros.

.. math::
    R(W) = \rho \|W\|_1 + \frac{1 - \rho}{2} \|W\|_2^2

with :math:`\rho = 0` for "l2", :math:`\rho = 1` for "l1" and
:math:`\rho` = ``l1_ratio`` for "elasticnet"; "none" is :math:`R = 0`.
"""

from dataclasses import dataclass

import numpy as np
from sklearn.utils._array_api import get_namespace

PENALTIES = ("l2", "l1", "elasticnet")


@dataclass(frozen=True)
class Penalty:
    """A penalty ``alpha * R(W)`` split into smooth and L1 parts.

    Parameters
    ----------
    l2 : float
        Coefficient of :math:`\\frac{1}{2}\\|W\\|_2^2` (alpha times the L2 share).
    l1 : float
        Coefficient of :math:`\\|W\\|_1` (alpha times the L1 share).

    Examples
    --------
    >>> import numpy as np
    >>> from skloss._penalties import make_penalty
    >>> pen = make_penalty("elasticnet", alpha=1.0, l1_ratio=0.5)
    >>> w = np.array([1.0, -2.0])
    >>> float(pen.smooth_value(w) + pen.l1_value(w))
    2.75
    >>> pen.prox(w, 1.0)
    array([ 0.5, -1.5])
    """

    l2: float = 0.0
    l1: float = 0.0

    def smooth_value(self, W):
        if not self.l2:
            return 0.0
        if isinstance(W, np.ndarray):  # one BLAS call, no temporary
            flat = W.ravel()
            return 0.5 * self.l2 * float(np.dot(flat, flat))
        xp, _ = get_namespace(W)
        return 0.5 * self.l2 * float(xp.sum(W * W))

    def add_smooth_gradient(self, W, grad_W):
        """grad_W += gradient of the smooth part, in place when possible."""
        if self.l2:
            grad_W += self.l2 * W
        return grad_W

    def l1_value(self, W):
        if not self.l1:
            return 0.0
        xp, _ = get_namespace(W)
        return self.l1 * float(xp.sum(xp.abs(W)))

    def prox(self, W, step):
        """Proximal operator of ``step * l1 * ||W||_1`` (soft thresholding)."""
        if not self.l1:
            return W
        xp, _ = get_namespace(W)
        shrink = step * self.l1
        return xp.sign(W) * xp.clip(xp.abs(W) - shrink, 0, None)

    @property
    def has_l1(self):
        return self.l1 > 0


def make_penalty(penalty, alpha, l1_ratio=0.15):
    """The :class:`Penalty` for an estimator's ``penalty`` parameter.

    Parameters
    ----------
    penalty : {"l2", "l1", "elasticnet"} or None
        The penalty name.
    alpha : float
        Regularization strength.
    l1_ratio : float, default=0.15
        The L1 share of "elasticnet".

    Returns
    -------
    Penalty

    Examples
    --------
    >>> from skloss._penalties import make_penalty
    >>> make_penalty("l2", alpha=0.1)
    Penalty(l2=0.1, l1=0.0)
    """
    alpha = float(alpha)
    if penalty is None or penalty == "none":
        return Penalty()
    if penalty == "l2":
        return Penalty(l2=alpha)
    if penalty == "l1":
        return Penalty(l1=alpha)
    if penalty == "elasticnet":
        return Penalty(l2=alpha * (1.0 - l1_ratio), l1=alpha * l1_ratio)
    raise ValueError(
        f"Unknown penalty {penalty!r}; use None, 'l2', 'l1' or 'elasticnet'."
    )
