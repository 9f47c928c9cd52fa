"""Arithmetic on parameter arrays, in their own array namespace.

Parameters are small, ``(n_features + 1) x n_outputs``; NumPy takes a
faster path, every other namespace the array API's.
"""

import numpy as np


def vdot(xp, a, b):
    """The inner product of two parameter arrays, as a Python float.

    Examples
    --------
    >>> import numpy as np
    >>> from skloss.optim._parameters import vdot
    >>> vdot(np, np.ones((2, 1)), np.full((2, 1), 3.0))
    6.0
    """
    if isinstance(a, np.ndarray):
        # One BLAS call instead of a product array and a reduction.
        return float(np.dot(a.ravel(), b.ravel()))
    return float(xp.sum(a * b))


def all_finite(xp, a):
    """Whether every entry of the parameter-sized array ``a`` is finite.

    Examples
    --------
    >>> import numpy as np
    >>> from skloss.optim._parameters import all_finite
    >>> all_finite(np, np.array([[1.0], [np.nan]]))
    False
    """
    if isinstance(a, np.ndarray):
        return bool(np.isfinite(a).all())
    return bool(xp.all(xp.isfinite(a)))
