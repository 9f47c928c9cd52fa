"""Built-in multiclass losses (raw of shape (n_samples, n_classes))."""

from sklearn.utils._array_api import get_namespace

from ._base import Loss
from ._registry import register_loss


def _log_softmax(raw, xp):
    shifted = raw - xp.max(raw, axis=1, keepdims=True)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=1, keepdims=True))


@register_loss(
    "softmax_cross_entropy",
    aliases=("multinomial", "categorical_cross_entropy", "cross_entropy"),
)
class SoftmaxCrossEntropy(Loss):
    r"""Softmax (multinomial) cross-entropy.

    With :math:`p = \mathrm{softmax}(r)` and one-hot (or soft) targets
    :math:`y`,

    .. math::
        \ell(y, r) = -\sum_k y_k \log p_k
                   = \sum_k y_k \left(\log \sum_j e^{r_j} - r_k\right),

    computed with the max-shift so that no value of :math:`r` overflows.
    The gradient is :math:`p \sum_k y_k - y` and the Hessian is bounded by
    :math:`1/2` (Böhning, 1992).

    Reference: Bishop, *Pattern Recognition and Machine Learning* (2006),
    section 4.3.4.

    Examples
    --------
    >>> import numpy as np
    >>> from skloss.losses import SoftmaxCrossEntropy
    >>> y = np.array([[1.0, 0.0, 0.0]])
    >>> SoftmaxCrossEntropy().loss(y, np.zeros((1, 3)))
    array([1.09861229])
    """

    multiclass = True
    is_convex = True
    smoothness = 0.5
    has_proba = True

    def loss(self, y, raw):
        xp, _ = get_namespace(raw)
        return -xp.sum(y * _log_softmax(raw, xp), axis=1)

    def gradient(self, y, raw):
        return self.loss_gradient(y, raw)[1]

    def loss_gradient(self, y, raw):
        xp, _ = get_namespace(raw)
        log_p = _log_softmax(raw, xp)
        loss = -xp.sum(y * log_p, axis=1)
        total = xp.sum(y, axis=1, keepdims=True)
        return loss, xp.exp(log_p) * total - y

    def predict_proba(self, raw):
        xp, _ = get_namespace(raw)
        return xp.exp(_log_softmax(raw, xp))
