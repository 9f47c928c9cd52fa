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

    def __init__(self, xp, memory=10, initial=None):
        self.xp = xp
        self.pairs = deque(maxlen=memory)
        self.initial = initial

    def __len__(self):
        return len(self.pairs)

    @property
    def ready(self):
        """Whether :meth:`direction` has a direction to give."""
        return bool(self.pairs) or self.initial is not None

    def reset(self):
        """Forget every pair (the next direction is the caller's)."""
        self.pairs.clear()

    def failed(self):
        """The last direction did not descend: forget the pairs, and the
        initial matrix too if it was used alone."""
        if not self.pairs:
            self.initial = None
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
        """``-H g`` by the two-loop recursion, or None if not :attr:`ready`.

        ``H`` is the limited-memory BFGS inverse Hessian from the initial
        matrix ``initial`` (a callable ``v -> H0 v``, such as the inverse
        of a subsample's Hessian, see :func:`skloss._newton.inverse_hessian`)
        or, without one, ``gamma I``, ``gamma = s.y / y.y`` of the newest
        pair. Without pairs the direction is ``-H0 g``.
        """
        if not self.ready:
            return None
        xp = self.xp
        q = g
        alphas = []
        for s, y, rho, _ in reversed(self.pairs):
            a = rho * vdot(xp, s, q)
            alphas.append(a)
            q = q - a * y
        r = self.initial(q) if self.initial is not None else self.pairs[-1][3] * q
        for (s, y, rho, _), a in zip(self.pairs, reversed(alphas), strict=True):
            b = rho * vdot(xp, y, r)
            r = r + (a - b) * s
        return -r
