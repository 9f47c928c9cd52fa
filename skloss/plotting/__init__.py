"""Displays: pictures of training and of losses (needs matplotlib).

Following scikit-learn's Display pattern, each class computes what it draws
in a ``from_*`` class method and draws it with ``plot(ax=None, ...)``,
returning itself with ``ax_``, ``figure_`` and the line artists. matplotlib
is imported only when something is drawn; without it, an ImportError names
the ``plot`` extra (``pip install "skloss[plot]"``).
"""

from ._loss_curve import LossCurveDisplay
from ._loss_function import LossFunctionDisplay

__all__ = ["LossCurveDisplay", "LossFunctionDisplay"]
