"""Built-in binary losses (elementwise on raw predictions)."""

from sklearn.utils._array_api import get_namespace

from ._base import Loss
from ._registry import register_loss


def _sigmoid_parts(raw, xp):
    """exp(-|raw|) and the sigmoid of raw, without overflow."""
    e = xp.exp(-xp.abs(raw))
    inv = 1.0 / (1.0 + e)
    proba = xp.where(raw >= 0, inv, e * inv)
    return e, proba


@register_loss("log_loss", aliases=("binary_cross_entropy", "bce", "logistic"))
class LogLoss(Loss):
    r"""Binary cross-entropy (log loss) on the logit.

    With :math:`p = \sigma(r) = 1 / (1 + e^{-r})` the predicted probability of
    the positive class,

    .. math::
        \ell(y, r) = -[y \log p + (1 - y) \log(1 - p)]
                   = \log(1 + e^{r}) - y r ,

    computed as :math:`\log(1 + e^{-|r|}) + \max(r, 0) - y r` so that no
    value of :math:`r` overflows. The gradient is :math:`p - y` and the
    second derivative :math:`p (1 - p) \le 1/4`.

    Reference: Bishop, *Pattern Recognition and Machine Learning* (2006),
    section 4.3.2.

    Examples
    --------
    >>> import numpy as np
    >>> from skloss.losses import LogLoss
    >>> LogLoss().loss(np.array([1.0]), np.array([0.0]))
    array([0.69314718])
    """

    is_convex = True
    smoothness = 0.25
    has_proba = True
    multinomial = "softmax_cross_entropy"

    def loss(self, y, raw):
        xp, _ = get_namespace(raw)
        e = xp.exp(-xp.abs(raw))
        return xp.log1p(e) + xp.clip(raw, 0, None) - y * raw

    def gradient(self, y, raw):
        xp, _ = get_namespace(raw)
        _, proba = _sigmoid_parts(raw, xp)
        return proba - y

    def loss_gradient(self, y, raw):
        xp, _ = get_namespace(raw)
        e, proba = _sigmoid_parts(raw, xp)
        loss = xp.log1p(e) + xp.clip(raw, 0, None) - y * raw
        return loss, proba - y

    def predict_proba(self, raw):
        xp, _ = get_namespace(raw)
        return _sigmoid_parts(raw, xp)[1]
