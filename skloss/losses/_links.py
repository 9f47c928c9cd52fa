"""Link functions: raw decision values to probabilities, without overflow.

The sigmoid (binary and one-vs-rest losses) and the softmax (multiclass
losses), written with the array namespace of ``raw``, shared by the losses'
formulas and their ``predict_proba`` / ``predict_log_proba``.
"""

from sklearn.utils._array_api import get_namespace


def log_sigmoid_pair(raw, xp):
    """``(log(1 - sigmoid(raw)), log(sigmoid(raw)))`` as columns, finite
    wherever ``raw`` is (``log_expit`` of ``-raw`` and ``raw``)."""
    zero = xp.zeros_like(raw)
    return xp.stack(
        [-xp.logaddexp(zero, raw), -xp.logaddexp(zero, -raw)], axis=1
    )


class SigmoidLink:
    """``predict_proba`` and ``predict_log_proba`` through the sigmoid link,
    shared by the losses whose probability is ``sigmoid(raw)``."""

    def predict_proba(self, raw):
        xp, _ = get_namespace(raw)
        return sigmoid_parts(raw, xp)[1]

    def predict_log_proba(self, raw):
        xp, _ = get_namespace(raw)
        return log_sigmoid_pair(raw, xp)


def sigmoid_parts(raw, xp):
    """exp(-|raw|), sigmoid(raw) and sigmoid(-raw), without overflow."""
    e = xp.exp(-xp.abs(raw))
    inv = 1.0 / (1.0 + e)
    pos = raw >= 0
    proba = xp.where(pos, inv, e * inv)
    proba_neg = xp.where(pos, e * inv, inv)
    return e, proba, proba_neg


def indicator(condition, like, xp):
    """``condition`` as 0/1 values of the dtype of ``like``."""
    return xp.astype(condition, like.dtype)


def sign(y):
    """Targets 0/1 mapped to -1/+1."""
    return 2.0 * y - 1.0


def log_softmax(raw, xp):
    """Row-wise log-softmax of (n, K) ``raw``, shifted by the row maxima."""
    shifted = raw - xp.max(raw, axis=1, keepdims=True)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=1, keepdims=True))
