"""Built-in multiclass losses (raw of shape (n_samples, n_classes)).

Targets ``y`` are one-hot (or soft) rows of the shape of ``raw``; each loss
returns one value per sample. Written with the array namespace of ``raw``.
"""

from numbers import Real

from sklearn.utils._array_api import get_namespace
from sklearn.utils._param_validation import Interval

from . import _numpy_kernels as numpy_kernels
from ._base import Loss
from ._links import log_softmax
from ._registry import register_loss


@register_loss(
    "softmax_cross_entropy",
    aliases=("multinomial", "categorical_cross_entropy", "cross_entropy"),
)
class SoftmaxCrossEntropy(Loss):
    r"""Softmax (multinomial) cross-entropy.

    With :math:`p = \mathrm{softmax}(r)`, :math:`K` classes and the targets
    :math:`t = (1 - \varepsilon) y + \varepsilon / K` smoothed by
    ``label_smoothing`` :math:`\varepsilon`,

    .. math::
        \ell(y, r) = -\sum_k t_k \log p_k
                   = \sum_k t_k \left(\log \sum_j e^{r_j} - r_k\right),

    computed with the max-shift so that no value of :math:`r` overflows.
    The gradient is :math:`p \sum_k t_k - t` and the Hessian
    :math:`(\sum_k t_k)(\mathrm{diag}(p) - p p^\top)` (:meth:`hessian`),
    whose largest eigenvalue is at most :math:`1/2` (Böhning, 1992).

    Parameters
    ----------
    label_smoothing : float, default=0.0
        :math:`\varepsilon` in [0, 1), as in PyTorch's ``CrossEntropyLoss``.

    References
    ----------
    Bishop, *Pattern Recognition and Machine Learning* (2006), section 4.3.4.
    Böhning, "Multinomial logistic regression algorithm", Annals of the
    Institute of Statistical Mathematics 44 (1992).

    Examples
    --------
    >>> import numpy as np
    >>> from skloss.losses import SoftmaxCrossEntropy
    >>> y = np.array([[1.0, 0.0, 0.0]])
    >>> SoftmaxCrossEntropy().loss(y, np.zeros((1, 3)))
    array([1.09861229])
    """

    _parameter_constraints = {
        "label_smoothing": [Interval(Real, 0, 1, closed="left")],
    }
    multiclass = True
    is_convex = True
    smoothness = 0.5
    has_proba = True
    thread_safe = True

    def __init__(self, label_smoothing=0.0):
        self.label_smoothing = label_smoothing

    def _target(self, y):
        eps = float(self.label_smoothing)
        return y if eps == 0.0 else (1.0 - eps) * y + eps / y.shape[1]

    def loss(self, y, raw):
        xp, _ = get_namespace(raw)
        return -xp.sum(self._target(y) * log_softmax(raw, xp), axis=1)

    def gradient(self, y, raw):
        return self.loss_gradient(y, raw)[1]

    def loss_gradient(self, y, raw):
        t = self._target(y)
        if raw.ndim == 2 and numpy_kernels.applies(raw, t):
            out = numpy_kernels.softmax_cross_entropy_gradient(t, raw)
            if out is not None:
                return out
        xp, _ = get_namespace(raw)
        log_p = log_softmax(raw, xp)
        loss = -xp.sum(t * log_p, axis=1)
        total = xp.sum(t, axis=1, keepdims=True)
        return loss, xp.exp(log_p) * total - t

    def hessian(self, y, raw):
        # t_sum (diag(p) - p p^T), from the gradient p t_sum - t.
        xp, _ = get_namespace(raw)
        p = xp.exp(log_softmax(raw, xp))
        total = xp.sum(self._target(y), axis=1)[:, None, None]
        eye = xp.eye(raw.shape[1], dtype=p.dtype)
        return total * (p[:, :, None] * eye - p[:, :, None] * p[:, None, :])

    def hessian_parts(self, y, raw):
        """The Hessian's blocks as ``diag(a_i) - q_i q_i'``: ``(a, q)``.

        ``a = t_sum p`` and ``q = sqrt(t_sum) p``, each of the shape of
        ``raw``: the form of :meth:`hessian`'s blocks that lets the Newton
        system be summed by one symmetric product over all outputs
        (:func:`skloss._newton.newton_system`) instead of one weighted Gram
        per pair of outputs.

        Examples
        --------
        >>> import numpy as np
        >>> from skloss.losses import SoftmaxCrossEntropy
        >>> loss = SoftmaxCrossEntropy()
        >>> y, raw = np.array([[1.0, 0.0, 0.0]]), np.array([[0.5, -1.0, 2.0]])
        >>> a, q = loss.hessian_parts(y, raw)
        >>> blocks = a[:, :, None] * np.eye(3) - q[:, :, None] * q[:, None, :]
        >>> bool(np.allclose(blocks, loss.hessian(y, raw)))
        True
        """
        xp, _ = get_namespace(raw)
        p = xp.exp(log_softmax(raw, xp))
        total = xp.sum(self._target(y), axis=1)[:, None]
        return total * p, xp.sqrt(total) * p

    def predict_proba(self, raw):
        xp, _ = get_namespace(raw)
        return xp.exp(log_softmax(raw, xp))

    def predict_log_proba(self, raw):
        xp, _ = get_namespace(raw)
        return log_softmax(raw, xp)


@register_loss("multiclass_focal", aliases=("softmax_focal",))
class MulticlassFocal(Loss):
    r"""Softmax focal loss.

    With :math:`p = \mathrm{softmax}(r)` and one-hot targets :math:`y`,

    .. math::
        \ell(y, r) = -\sum_k y_k (1 - p_k)^{\gamma} \log p_k ,

    the multiclass form of :class:`~skloss.losses.Focal` (equal to it on two
    classes, with ``alpha=None``). With :math:`q_k = 1 - p_k`, computed as
    :math:`-\mathrm{expm1}(\log p_k)`, and
    :math:`c_k = -y_k q_k^\gamma (1 - \gamma p_k \log(p_k) / q_k)`, the
    gradient is :math:`c - p \sum_k c_k`; :math:`\log(p_k)/q_k` tends to
    :math:`-1` as :math:`q_k \to 0`, so it stays finite for any
    :math:`\gamma \ge 0`. Convex only for :math:`\gamma = 0` (softmax
    cross-entropy). ``smoothness`` is twice the binary focal loss's measured
    bound, as :math:`1/2 = 2 \cdot 1/4` is for cross-entropy.

    Parameters
    ----------
    gamma : float, default=2.0
        The focusing parameter :math:`\gamma \ge 0`.

    References
    ----------
    Lin, Goyal, Girshick, He & Dollár, "Focal loss for dense object
    detection", ICCV 2017.

    Examples
    --------
    >>> import numpy as np
    >>> from skloss.losses import MulticlassFocal
    >>> y = np.array([[1.0, 0.0, 0.0]])
    >>> MulticlassFocal(gamma=2.0).loss(y, np.zeros((1, 3)))
    array([0.48827213])
    """

    _parameter_constraints = {"gamma": [Interval(Real, 0, None, closed="left")]}
    multiclass = True
    has_proba = True
    thread_safe = True

    def __init__(self, gamma=2.0):
        self.gamma = gamma

    @property
    def is_convex(self):
        return float(self.gamma) == 0.0

    @property
    def smoothness(self):
        from ._binary import Focal

        binary = Focal(gamma=self.gamma).smoothness
        return None if binary is None else 2.0 * binary

    def loss(self, y, raw):
        xp, _ = get_namespace(raw)
        log_p = log_softmax(raw, xp)
        q = -xp.expm1(log_p)
        return -xp.sum(y * q ** float(self.gamma) * log_p, axis=1)

    def gradient(self, y, raw):
        return self.loss_gradient(y, raw)[1]

    def loss_gradient(self, y, raw):
        xp, _ = get_namespace(raw)
        gamma = float(self.gamma)
        log_p = log_softmax(raw, xp)
        p = xp.exp(log_p)
        q = -xp.expm1(log_p)
        qg = q**gamma
        loss = -xp.sum(y * qg * log_p, axis=1)
        positive = q > 0
        safe_q = xp.where(positive, q, xp.ones_like(q))
        ratio = xp.where(positive, log_p / safe_q, -xp.ones_like(q))
        c = -y * qg * (1.0 - gamma * p * ratio)
        return loss, c - p * xp.sum(c, axis=1, keepdims=True)

    def predict_proba(self, raw):
        xp, _ = get_namespace(raw)
        return xp.exp(log_softmax(raw, xp))

    def predict_log_proba(self, raw):
        xp, _ = get_namespace(raw)
        return log_softmax(raw, xp)


@register_loss("multiclass_hinge", aliases=("crammer_singer",))
class MulticlassHinge(Loss):
    r"""Multiclass hinge loss of Crammer and Singer.

    With one-hot targets :math:`y` (true class :math:`t`),

    .. math::
        \ell(y, r) = \max\bigl(0, 1 + \max_{j \ne t} r_j - r_t\bigr)
                   = \max_j (r_j + 1 - y_j) - \sum_k y_k r_k ,

    the multiclass form of :class:`~skloss.losses.Hinge` (equal to it on the
    decision difference for two classes). Convex, not smooth; the
    (sub)gradient is :math:`a - y`, :math:`a` spreading one unit over the
    maximisers of :math:`r_j + 1 - y_j`. Rows of ``y`` must sum to one. No
    probabilities.

    References
    ----------
    Crammer & Singer, "On the algorithmic implementation of multiclass
    kernel-based vector machines", JMLR 2 (2001).

    Examples
    --------
    >>> import numpy as np
    >>> from skloss.losses import MulticlassHinge
    >>> y = np.array([[1.0, 0.0, 0.0]])
    >>> MulticlassHinge().loss(y, np.array([[2.0, 0.5, 1.5]]))
    array([0.5])
    """

    multiclass = True
    is_convex = True
    smoothness = None
    has_proba = False
    thread_safe = True

    def loss_gradient(self, y, raw):
        xp, _ = get_namespace(raw)
        z = raw + (1.0 - y)
        top = xp.max(z, axis=1, keepdims=True)
        loss = top[:, 0] - xp.sum(y * raw, axis=1)
        winners = xp.astype(z == top, raw.dtype)
        winners = winners / xp.sum(winners, axis=1, keepdims=True)
        return loss, winners - y
