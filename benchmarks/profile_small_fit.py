"""The fixed cost of a small fit: where a one-epoch breast-cancer fit goes.

Times a ``GDLogisticClassifier(alpha=1/n, max_iter=1)`` fit on standardized
breast cancer (569 x 30) against ``LogisticRegression(max_iter=1)``, then
the parts of the fit that run before the first epoch, each alone, then
prints cProfile's top entries of many such fits. Nothing is asserted.

Usage::

    python benchmarks/profile_small_fit.py [--fits 300] [--top 30]
"""

import argparse
import cProfile
import io
import os
import pstats
import sys
import timeit
import warnings

# This checkout's skloss, as in run.py.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import validate_data

from skloss import GDLogisticClassifier


def per_call_us(function, number):
    """Best of 5 repeats of ``number`` calls, in microseconds per call."""
    return min(timeit.repeat(function, number=number, repeat=5)) / number * 1e6


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fits", type=int, default=300)
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args(argv)
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    warnings.simplefilter("ignore", ConvergenceWarning)
    clf = GDLogisticClassifier(alpha=1.0 / X.shape[0], max_iter=1)
    lr = LogisticRegression(max_iter=1)
    default = GDLogisticClassifier(alpha=1.0 / X.shape[0])
    n = args.fits
    parts = [
        ("GDLogisticClassifier(max_iter=1).fit", lambda: clf.fit(X, y), n),
        ("LogisticRegression(max_iter=1).fit", lambda: lr.fit(X, y), n),
        ("GDLogisticClassifier().fit (default)", lambda: default.fit(X, y), n // 5),
        ("  _validate_params (sklearn)", clf._validate_params, 10 * n),
        (
            "  validate_data(reset=True) (sklearn)",
            lambda: validate_data(clf, X, y, reset=True),
            10 * n,
        ),
        (
            "  _validate_training_data (+ labels)",
            lambda: clf._validate_training_data(X, y, reset=True),
            10 * n,
        ),
        (
            "  np.unique(y, return_inverse=True)",
            lambda: np.unique(y, return_inverse=True),
            10 * n,
        ),
        (
            "  reference: X @ w and X.T @ g",
            lambda: (X @ np.ones(X.shape[1]), X.T @ np.ones(X.shape[0])),
            10 * n,
        ),
    ]
    for name, function, number in parts:
        function()
        print(f"{name:40} {per_call_us(function, number):9.1f} us")
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(n):
        clf.fit(X, y)
    profile.disable()
    for key in ("cumulative", "tottime"):
        text = io.StringIO()
        stats = pstats.Stats(profile, stream=text).strip_dirs().sort_stats(key)
        stats.print_stats(args.top)
        print(text.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
