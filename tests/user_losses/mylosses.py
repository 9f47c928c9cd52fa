"""A loss defined outside skloss, as a user would write it."""

from sklearn.utils._array_api import get_namespace

from skloss import Loss, register_loss


@register_loss("user_smooth_hinge", aliases=("user_huberized_hinge",))
class SmoothHinge(Loss):
    """Quadratically smoothed hinge (Rennie & Srebro, 2005).

    With s = 2y - 1, z = s * raw and w = width: 0 for z >= 1,
    (1 - z)^2 / (2w) for 1 - w < z < 1, and 1 - z - w/2 below.
    """

    is_convex = True
    has_proba = False

    def __init__(self, width=1.0):
        self.width = width

    @property
    def smoothness(self):
        return 1.0 / self.width

    def loss(self, y, raw):
        xp, _ = get_namespace(raw)
        w = float(self.width)
        m = xp.clip(1.0 - (2.0 * y - 1.0) * raw, 0.0, None)
        q = xp.clip(m, None, w)  # squaring m itself could overflow
        return q * q / (2.0 * w) + (m - q)

    def gradient(self, y, raw):
        xp, _ = get_namespace(raw)
        s = 2.0 * y - 1.0
        return -s * xp.clip((1.0 - s * raw) / float(self.width), 0.0, 1.0)
