"""The limited-memory BFGS direction, on parameter arrays.

"auto" gradient descent on a smooth cost without L1 takes its steps along
this direction (Nocedal, "Updating quasi-Newton matrices with limited
storage", 1980): the last few steps ``s`` and gradient changes ``y`` give
an estimate of the inverse Hessian, applied to the gradient by the two-loop
recursion in ``O(memory * n_parameters)``, a few products of parameter-sized
arrays (no pass over the data).
"""

from collections import deque

from ._parameters import vdot


class LimitedMemoryBFGS:
    """The last ``memory`` curvature pairs and the direction they give.

    Parameters
    ----------
    xp : namespace
        The parameters' array namespace.
    memory : int, default=10
        How many ``(s, y)`` pairs are kept (scipy's L-BFGS-B keeps 10).

    Examples
    --------
    The estimate satisfies the secant condition of its newest pair, ``H y =
    s``: the direction for the gradient ``y`` is ``-s``.

    >>> import numpy as np
    >>> from skloss.optim._lbfgs import LimitedMemoryBFGS
    >>> bfgs = LimitedMemoryBFGS(np)
    >>> bfgs.update(np.array([[1.0], [0.0]]), np.array([[2.0], [0.5]]))
    True
    >>> s, y = np.array([[1.0], [2.0]]), np.array([[3.0], [1.0]])
    >>> bfgs.update(s, y)
    True
    >>> bool(np.allclose(bfgs.direction(y), -s))
    True
    """

    def __init__(self, xp, memory=10):
        self.xp = xp
        self.pairs = deque(maxlen=memory)

    def __len__(self):
        return len(self.pairs)

    def reset(self):
        """Forget every pair (the next direction is the caller's)."""
        self.pairs.clear()

    def update(self, s, y, sy=None, yy=None):
        """Keep the pair ``(s, y)`` if its curvature ``s.y`` is positive.

        A pair of non-positive (or negligible) curvature would make the
        estimate indefinite; it is skipped, as in L-BFGS-B. ``sy`` and
        ``yy``, the products ``s.y`` and ``y.y``, are computed unless the
        caller has them (gd's Barzilai-Borwein steps need them too). Returns
        whether the pair was kept.
        """
        if sy is None:
            sy = vdot(self.xp, s, y)
        if yy is None:
            yy = vdot(self.xp, y, y)
        if not (sy > 1e-10 * yy and yy > 0):
            return False
        self.pairs.append((s, y, 1.0 / sy, sy / yy))
        return True

    def direction(self, g):
        """``-H g`` by the two-loop recursion, or None without pairs.

        ``H`` is the limited-memory BFGS inverse Hessian from the initial
        matrix ``gamma I``, ``gamma = s.y / y.y`` of the newest pair.
        """
        if not self.pairs:
            return None
        xp = self.xp
        q = g
        alphas = []
        for s, y, rho, _ in reversed(self.pairs):
            a = rho * vdot(xp, s, q)
            alphas.append(a)
            q = q - a * y
        r = self.pairs[-1][3] * q
        for (s, y, rho, _), a in zip(self.pairs, reversed(alphas), strict=True):
            b = rho * vdot(xp, y, r)
            r = r + (a - b) * s
        return -r
