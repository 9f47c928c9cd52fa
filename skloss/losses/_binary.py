"""Built-in binary losses (elementwise on raw predictions).

Every loss here takes targets ``y`` of 0/1 floats and raw predictions ``raw``
of the same shape, (n_samples,) or (n_samples, n_classes) for one-vs-rest,
and is written with the array namespace of ``raw`` only. Hyperparameters are
turned into Python floats before use, so float32 inputs give float32 outputs.
"""

import functools
import math
from numbers import Real

import numpy as np
from sklearn.utils._array_api import get_namespace
from sklearn.utils._param_validation import Interval

from . import _numpy_kernels as numpy_kernels
from ._base import Loss
from ._links import SigmoidLink, indicator, log_sigmoid_pair, sigmoid_parts, sign
from ._registry import register_loss
from ._smoothed import SmoothedHinge


@register_loss("log_loss", aliases=("binary_cross_entropy", "bce", "logistic"))
class LogLoss(SigmoidLink, Loss):
    r"""Binary cross-entropy (log loss) on the logit.

    With :math:`p = \sigma(r) = 1 / (1 + e^{-r})` the predicted probability of
    the positive class, :math:`w` the ``pos_weight`` and
    :math:`t = (1 - \varepsilon) y + \varepsilon / 2` the target smoothed by
    ``label_smoothing`` :math:`\varepsilon`,

    .. math::
        \ell(y, r) = -[w\, t \log p + (1 - t) \log(1 - p)],

    which for :math:`w = 1` is :math:`\log(1 + e^{r}) - t r`. It is computed
    with :math:`\log(1 + e^{r}) = \log(1 + e^{-|r|}) + \max(r, 0)` so that no
    value of :math:`r` overflows. The gradient is
    :math:`w t (p - 1) + (1 - t) p` and the second derivative is at most
    :math:`\max(w, 1) / 4`.

    Parameters
    ----------
    label_smoothing : float, default=0.0
        :math:`\varepsilon` in [0, 1): targets move from 0 and 1 to
        :math:`\varepsilon / 2` and :math:`1 - \varepsilon / 2` (Keras'
        ``BinaryCrossentropy`` convention).
    pos_weight : float, default=1.0
        Weight :math:`w > 0` of the positive term, as PyTorch's
        ``BCEWithLogitsLoss(pos_weight=...)``. With three or more classes a
        loss with ``pos_weight != 1`` has no multinomial form and runs
        one-vs-rest, each class being the positive one in turn.

    References
    ----------
    Bishop, *Pattern Recognition and Machine Learning* (2006), section 4.3.2.
    Szegedy et al., "Rethinking the Inception architecture for computer
    vision", CVPR 2016 (label smoothing).

    Examples
    --------
    >>> import numpy as np
    >>> from skloss.losses import LogLoss
    >>> LogLoss().loss(np.array([1.0]), np.array([0.0]))
    array([0.69314718])
    >>> LogLoss(pos_weight=2.0).loss(np.array([1.0]), np.array([0.0]))
    array([1.38629436])
    """

    _parameter_constraints = {
        "label_smoothing": [Interval(Real, 0, 1, closed="left")],
        "pos_weight": [Interval(Real, 0, None, closed="neither")],
    }
    is_convex = True
    has_proba = True
    thread_safe = True

    def __init__(self, label_smoothing=0.0, pos_weight=1.0):
        self.label_smoothing = label_smoothing
        self.pos_weight = pos_weight

    @property
    def smoothness(self):
        return 0.25 * max(1.0, float(self.pos_weight))

    @property
    def multinomial(self):
        return "softmax_cross_entropy" if float(self.pos_weight) == 1.0 else None

    def _target(self, y):
        eps = float(self.label_smoothing)
        return y if eps == 0.0 else (1.0 - eps) * y + 0.5 * eps

    def loss_gradient(self, y, raw):
        t = self._target(y)
        if float(self.pos_weight) == 1.0 and numpy_kernels.applies(raw, t):
            return numpy_kernels.log_loss_gradient(t, raw)
        xp, _ = get_namespace(raw)
        e, proba, proba_neg = sigmoid_parts(raw, xp)
        log1pe = xp.log1p(e)
        w = float(self.pos_weight)
        if w == 1.0:
            loss = log1pe + xp.clip(raw, 0, None) - t * raw
            return loss, proba - t
        softplus_pos = log1pe + xp.clip(raw, 0, None)  # -log(1 - p)
        softplus_neg = log1pe + xp.clip(-raw, 0, None)  # -log(p)
        loss = w * t * softplus_neg + (1.0 - t) * softplus_pos
        return loss, (1.0 - t) * proba - w * t * proba_neg

    def hessian(self, y, raw):
        xp, _ = get_namespace(raw)
        _, proba, proba_neg = sigmoid_parts(raw, xp)
        t = self._target(y)
        return proba * proba_neg * ((1.0 - t) + float(self.pos_weight) * t)


@register_loss("hinge")
class Hinge(Loss):
    r"""Hinge loss of support vector machines.

    With :math:`s = 2y - 1 \in \{-1, 1\}` and the margin :math:`z = s r`,

    .. math::
        \ell(y, r) = \max(0, 1 - z).

    Convex but not smooth; the (sub)gradient is :math:`-s` where
    :math:`z \le 1` and 0 elsewhere (SGDClassifier's convention at the kink).
    No probabilities: use ``decision_function``.

    References
    ----------
    Cortes & Vapnik, "Support-vector networks", Machine Learning 20 (1995).

    Examples
    --------
    >>> import numpy as np
    >>> from skloss.losses import Hinge
    >>> Hinge().loss(np.array([1.0, 0.0]), np.array([0.5, 0.5]))
    array([0.5, 1.5])
    """

    is_convex = True
    smoothness = None
    has_proba = False
    thread_safe = True
    multinomial = "multiclass_hinge"

    def loss(self, y, raw):
        xp, _ = get_namespace(raw)
        return xp.clip(1.0 - sign(y) * raw, 0, None)

    def gradient(self, y, raw):
        xp, _ = get_namespace(raw)
        s = sign(y)
        return -s * indicator(s * raw <= 1.0, raw, xp)

    def loss_gradient(self, y, raw):
        xp, _ = get_namespace(raw)
        s = sign(y)
        z = s * raw
        return xp.clip(1.0 - z, 0, None), -s * indicator(z <= 1.0, raw, xp)

    def smoothed(self, mu):
        """The Moreau envelope of width ``mu``: :class:`SmoothedHinge`."""
        return SmoothedHinge(mu)


@register_loss("squared_hinge")
class SquaredHinge(Loss):
    r"""Squared hinge loss (L2-SVM, LinearSVC's default).

    With :math:`s = 2y - 1` and :math:`z = s r`,

    .. math::
        \ell(y, r) = \max(0, 1 - z)^2 .

    Convex and smooth: the gradient :math:`-2 s \max(0, 1 - z)` is
    2-Lipschitz.

    References
    ----------
    Mangasarian & Musicant, "Lagrangian support vector machines", JMLR 1
    (2001).

    Examples
    --------
    >>> import numpy as np
    >>> from skloss.losses import SquaredHinge
    >>> SquaredHinge().loss(np.array([1.0, 0.0]), np.array([0.5, 0.5]))
    array([0.25, 2.25])
    """

    is_convex = True
    smoothness = 2.0
    has_proba = False
    thread_safe = True

    def loss_gradient(self, y, raw):
        xp, _ = get_namespace(raw)
        s = sign(y)
        m = xp.clip(1.0 - s * raw, 0, None)
        return m * m, -2.0 * s * m

    def hessian(self, y, raw):
        xp, _ = get_namespace(raw)
        s = sign(y)
        return 2.0 * s * s * indicator(s * raw < 1.0, raw, xp)


@register_loss("perceptron")
class Perceptron(Loss):
    r"""The perceptron criterion.

    With :math:`s = 2y - 1` and :math:`z = s r`,

    .. math::
        \ell(y, r) = \max(0, -z),

    the hinge loss with its kink at 0: only misclassified samples count. The
    (sub)gradient is :math:`-s` where :math:`z \le 0` (SGDClassifier's
    convention), so a fixed step leaves the all-zero start. Convex, not
    smooth.

    Minimising this criterion is degenerate: the zero model attains the
    minimum 0 (and with a penalty it is the only minimiser), so a descent
    method would stay at or next to it. The loss is positively homogeneous
    (``positively_homogeneous = True``), and ``learning_rate="auto"``
    therefore runs the perceptron algorithm: fixed steps of 1 in
    standardized coordinates from the zero model (batch with ``solver="gd"``,
    the classic per-sample rule with ``solver="sgd", batch_size=1``), keeping
    the epoch of lowest cost per unit norm of the weights (Gallant's pocket
    algorithm). Without a penalty any fixed step gives the same predictions,
    since the weights only scale with the step. Prefer ``"hinge"`` for a
    well-posed margin.

    References
    ----------
    Rosenblatt, "The perceptron: a probabilistic model for information
    storage and organization in the brain", Psychological Review 65 (1958).

    Gallant, "Perceptron-based learning algorithms", IEEE Transactions on
    Neural Networks 1 (1990).

    Examples
    --------
    >>> import numpy as np
    >>> from skloss.losses import Perceptron
    >>> Perceptron().loss(np.array([1.0, 0.0]), np.array([0.5, 0.5]))
    array([0. , 0.5])
    """

    is_convex = True
    smoothness = None
    has_proba = False
    thread_safe = True
    positively_homogeneous = True

    def loss(self, y, raw):
        xp, _ = get_namespace(raw)
        return xp.clip(-sign(y) * raw, 0, None)

    def gradient(self, y, raw):
        xp, _ = get_namespace(raw)
        s = sign(y)
        return -s * indicator(s * raw <= 0.0, raw, xp)


@register_loss("modified_huber")
class ModifiedHuber(Loss):
    r"""Modified Huber loss, with probabilities as SGDClassifier gives them.

    With :math:`s = 2y - 1` and :math:`z = s r`,

    .. math::
        \ell(y, r) = \begin{cases} \max(0, 1 - z)^2 & z \ge -1 \\
                                   -4 z & z < -1 \end{cases}

    a squared hinge that turns linear for badly misclassified samples, so it
    is robust to outliers. Convex, smooth (the gradient is 2-Lipschitz).
    Probabilities are :math:`p = (\mathrm{clip}(r, -1, 1) + 1) / 2`.

    References
    ----------
    Zhang, "Solving large scale linear prediction problems using stochastic
    gradient descent algorithms", ICML 2004.

    Examples
    --------
    >>> import numpy as np
    >>> from skloss.losses import ModifiedHuber
    >>> ModifiedHuber().loss(np.array([1.0, 1.0]), np.array([0.5, -3.0]))
    array([ 0.25, 12.  ])
    >>> ModifiedHuber().predict_proba(np.array([-2.0, 0.5]))
    array([0.  , 0.75])
    """

    is_convex = True
    smoothness = 2.0
    has_proba = True
    thread_safe = True

    def loss_gradient(self, y, raw):
        xp, _ = get_namespace(raw)
        s = sign(y)
        z = s * raw
        inner = z >= -1.0
        # 1 - z <= 2 on the quadratic branch; clipping keeps the unused
        # branch of where() from overflowing.
        m = xp.clip(1.0 - z, 0.0, 2.0)
        loss = xp.where(inner, m * m, -4.0 * z)
        grad = xp.where(inner, -2.0 * s * m, -4.0 * s)
        return loss, grad

    def hessian(self, y, raw):
        xp, _ = get_namespace(raw)
        s = sign(y)
        z = s * raw
        return 2.0 * s * s * indicator((z >= -1.0) & (z < 1.0), raw, xp)

    def predict_proba(self, raw):
        xp, _ = get_namespace(raw)
        return (xp.clip(raw, -1.0, 1.0) + 1.0) / 2.0


@functools.lru_cache(maxsize=64)
def _focal_curvature(gamma):
    """Largest |second derivative| of the unit-weight binary focal loss.

    Measured on a fine grid of the margin (the loss of y = 0 mirrors that of
    y = 1), with 10% headroom; the second derivative decays to zero for
    large margins, so the grid covers the maximum.
    """
    r = np.linspace(-40.0, 40.0, 160_001)
    g = Focal(gamma=gamma, alpha=None).gradient(np.ones_like(r), r)
    second = np.diff(g) / (r[1] - r[0])
    return 1.1 * float(np.max(np.abs(second)))


@register_loss("focal", aliases=("focal_loss", "sigmoid_focal"))
class Focal(SigmoidLink, Loss):
    r"""Sigmoid focal loss (Lin et al. 2017; torchvision's sigmoid_focal_loss).

    With :math:`p = \sigma(r)`, :math:`p_t = p y + (1 - p)(1 - y)`, the
    cross-entropy :math:`\mathrm{CE} = -\log p_t` (on the logit, as
    :class:`LogLoss`) and :math:`\alpha_t = \alpha y + (1 - \alpha)(1 - y)`,

    .. math::
        \ell(y, r) = \alpha_t (1 - p_t)^{\gamma}\, \mathrm{CE}(y, r).

    The factor :math:`(1 - p_t)^\gamma` down-weights well-classified samples,
    so training focuses on the hard ones; useful with class imbalance.
    :math:`\gamma = 0` gives (weighted) log loss. The formula and the
    handling of soft targets follow torchvision exactly; :math:`1 - p_t` is
    computed as :math:`y \sigma(-r) + (1 - y) \sigma(r)`, without
    cancellation, and the gradient in a form that stays finite for any
    :math:`\gamma \ge 0`.

    Convex only for :math:`\gamma = 0`. Smooth: ``smoothness`` is the
    largest second derivative measured on a fine grid, plus 10%.

    Parameters
    ----------
    gamma : float, default=2.0
        The focusing parameter :math:`\gamma \ge 0`.
    alpha : float or None, default=None
        The weight :math:`\alpha \in [0, 1]` of the positive class, or None
        for no weighting (torchvision's ``alpha=-1``). torchvision's default
        is 0.25; here None is the default, so that the loss treats both
        classes alike and has a multinomial form (``"multiclass_focal"``);
        ``class_weight`` weights classes on any loss.

    References
    ----------
    Lin, Goyal, Girshick, He & Dollár, "Focal loss for dense object
    detection", ICCV 2017.

    Examples
    --------
    >>> import numpy as np
    >>> from skloss.losses import Focal
    >>> Focal(gamma=2.0).loss(np.array([1.0, 1.0]), np.array([0.0, 3.0]))
    array([1.73286795e-01, 1.09283324e-04])
    >>> Focal(gamma=0.0).loss(np.array([1.0]), np.array([0.0]))  # log loss
    array([0.69314718])
    """

    _parameter_constraints = {
        "gamma": [Interval(Real, 0, None, closed="left")],
        "alpha": [Interval(Real, 0, 1, closed="both"), None],
    }
    has_proba = True
    thread_safe = True

    def __init__(self, gamma=2.0, alpha=None):
        self.gamma = gamma
        self.alpha = alpha

    @property
    def is_convex(self):
        return float(self.gamma) == 0.0

    @property
    def smoothness(self):
        scale = 1.0 if self.alpha is None else max(self.alpha, 1.0 - self.alpha)
        gamma = float(self.gamma)
        if not math.isfinite(gamma) or gamma < 0:
            return None
        return scale * (0.25 if gamma == 0.0 else _focal_curvature(gamma))

    @property
    def multinomial(self):
        return "multiclass_focal" if self.alpha is None else None

    def loss_gradient(self, y, raw):
        xp, _ = get_namespace(raw)
        gamma = float(self.gamma)
        e, proba, proba_neg = sigmoid_parts(raw, xp)
        inv = 1.0 / (1.0 + e)
        curv = e * inv * inv  # p (1 - p)
        ce = xp.log1p(e) + xp.clip(raw, 0, None) - y * raw
        q = y * proba_neg + (1.0 - y) * proba  # 1 - p_t
        qg = q**gamma
        positive = q > 0
        safe_q = xp.where(positive, q, xp.ones_like(q))
        ratio = xp.where(positive, curv / safe_q, xp.zeros_like(q))
        loss = qg * ce
        grad = qg * ((proba - y) + gamma * ce * (1.0 - 2.0 * y) * ratio)
        if self.alpha is not None:
            a = float(self.alpha)
            weight = a * y + (1.0 - a) * (1.0 - y)
            loss = weight * loss
            grad = weight * grad
        return loss, grad


# Beyond a margin of -_EXP_CAP the exponential loss continues along its
# tangent: e^30 ~ 1e13, so the loss stays finite in float32 for |raw| <= 1e4.
_EXP_CAP = 30.0


@register_loss("exponential", aliases=("adaboost",))
class Exponential(Loss):
    r"""Exponential loss (AdaBoost's).

    With :math:`s = 2y - 1` and :math:`z = s r`,

    .. math::
        \ell(y, r) = e^{-z} \quad (z \ge -30),

    continued along its tangent, :math:`e^{30} (1 - z - 30)`, for
    :math:`z < -30`, so the loss and its gradient :math:`-s e^{\min(-z, 30)}`
    stay finite for any raw value (AdaBoost never reaches such margins).
    Convex, not smooth (its curvature is unbounded). The population
    minimiser is half the log-odds (Friedman, Hastie & Tibshirani 2000), so
    probabilities are :math:`\sigma(2 r)`, as scikit-learn's gradient
    boosting gives them.

    References
    ----------
    Freund & Schapire, "A decision-theoretic generalization of on-line
    learning and an application to boosting", JCSS 55 (1997).
    Friedman, Hastie & Tibshirani, "Additive logistic regression: a
    statistical view of boosting", Annals of Statistics 28 (2000).

    Examples
    --------
    >>> import numpy as np
    >>> from skloss.losses import Exponential
    >>> Exponential().loss(np.array([1.0, 0.0]), np.array([0.0, 1.0]))
    array([1.        , 2.71828183])
    """

    is_convex = True
    smoothness = None
    has_proba = True
    thread_safe = True

    def loss_gradient(self, y, raw):
        xp, _ = get_namespace(raw)
        s = sign(y)
        neg_margin = -s * raw
        u = xp.clip(neg_margin, None, _EXP_CAP)
        e = xp.exp(u)
        return e * (1.0 + (neg_margin - u)), -s * e

    def predict_proba(self, raw):
        xp, _ = get_namespace(raw)
        return sigmoid_parts(2.0 * raw, xp)[1]

    def predict_log_proba(self, raw):
        xp, _ = get_namespace(raw)
        return log_sigmoid_pair(2.0 * raw, xp)


@register_loss("brier", aliases=("brier_score",))
class Brier(SigmoidLink, Loss):
    r"""Brier score: the squared error of the predicted probability.

    With :math:`p = \sigma(r)`,

    .. math::
        \ell(y, r) = (p - y)^2 ,

    scikit-learn's ``brier_score_loss`` per sample. Its gradient
    :math:`2 (p - y) p (1 - p)` vanishes for confidently wrong predictions,
    so it is robust to label noise but not convex in :math:`r`. Smooth: the
    second derivative is at most :math:`0.155` in absolute value (the
    maximum of :math:`2 p^2 (1 - p) |2 - 3 p|`, about 0.1541).

    References
    ----------
    Brier, "Verification of forecasts expressed in terms of probability",
    Monthly Weather Review 78 (1950).

    Examples
    --------
    >>> import numpy as np
    >>> from skloss.losses import Brier
    >>> Brier().loss(np.array([1.0, 0.0]), np.array([0.0, 0.0]))
    array([0.25, 0.25])
    """

    is_convex = False
    smoothness = 0.155
    has_proba = True
    thread_safe = True

    def loss_gradient(self, y, raw):
        xp, _ = get_namespace(raw)
        e, proba, _ = sigmoid_parts(raw, xp)
        inv = 1.0 / (1.0 + e)
        diff = proba - y
        return diff * diff, 2.0 * diff * (e * inv * inv)
