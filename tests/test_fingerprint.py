"""Fingerprints of fitted models: a restructuring must keep every one.

Each case fits one configuration (solver x penalty x loss x data format x
sample weights) and records ``coef_``, ``intercept_`` and ``loss_curve_``
in ``fingerprints.json`` beside this file. A change that moves code keeps
them all; a behaviour fix changes some of them, in a commit of its own that
says which and why, after regenerating the file with::

    python tests/test_fingerprint.py --update

The comparison allows rounding, not behaviour: NumPy's SIMD kernels and
OpenBLAS's dot products round differently on different CPUs (AVX2 against
AVX-512), so bit-identical digests held only on the machine that wrote them.
Forcing other kernels here (``NPY_DISABLE_CPU_FEATURES=X86_V3``,
``OPENBLAS_CORETYPE=Nehalem`` or ``Sandybridge``) moved the parameters by at
most 1e-13 of the model's largest one in float64 and 2e-7 in float32; the
tolerances below are far above that and far below any fix's effect (one
more epoch, a step 0.1% off: ``test_fingerprint_sees_a_change``).

The data are small and the fits short (a few epochs), so the whole matrix
runs in seconds; the "blocked" cases are dense float64 data over the 2 MB
block size, so that the threaded blocked route is pinned too (its partial
sums are added in block order, so the result does not depend on the number
of threads).
"""

import itertools
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from skloss import GDLogisticClassifier

FINGERPRINTS = Path(__file__).with_name("fingerprints.json")
RTOL_FLOAT64 = 1e-9
RTOL_FLOAT32 = 1e-5

SOLVERS = ("gd", "nesterov", "sgd", "adam")
PENALTIES = ("l2", "l1", "elasticnet", None)
LOSSES = ("log_loss", "hinge", "modified_huber", "focal", "softmax_cross_entropy")
# Three classes: one-vs-rest with a binary loss, multinomial with log loss.
MULTICLASS = ("log_loss-ovr", "log_loss-multinomial")
FORMATS = ("dense", "csr", "float32", "blocked")
WEIGHTS = ("none", "weighted")
FIXED_STEP = 0.05


def _data(fmt, n_classes):
    """Deterministic data of the format ``fmt`` (no RNG version drift)."""
    n_samples, n_features = (3000, 100) if fmt == "blocked" else (120, 6)
    i = np.arange(n_samples)[:, None]
    j = np.arange(n_features)[None, :]
    X = np.sin(0.37 * i * (j + 1) + 0.11 * j) + 0.05 * np.cos(1.3 * i + j)
    score = X[:, 0] - 0.5 * X[:, 1] + 0.25 * X[:, 2]
    y = np.digitize(score, np.quantile(score, np.linspace(0, 1, n_classes + 1)[1:-1]))
    if fmt == "csr":
        X = sp.csr_matrix(np.where(np.abs(X) > 0.5, X, 0.0))
    elif fmt == "float32":
        X = X.astype(np.float32)
    sample_weight = 0.5 + (np.arange(n_samples) % 3)
    return X, y, sample_weight


def _cases():
    cases = []
    # Every solver x penalty x loss on small dense data.
    for solver, penalty, loss in itertools.product(SOLVERS, PENALTIES, LOSSES):
        cases.append((solver, penalty, loss, "dense", "none"))
    # Every solver x multiclass mode, with and without sample weights.
    for solver, loss, weights in itertools.product(SOLVERS, MULTICLASS, WEIGHTS):
        cases.append((solver, "l2", loss, "dense", weights))
    # Every solver x data format x sample weights with the default loss.
    for solver, fmt, weights in itertools.product(SOLVERS, FORMATS, WEIGHTS):
        case = (solver, "l2", "log_loss", fmt, weights)
        if case not in cases:
            cases.append(case)
    # A fixed learning rate (textbook steps in the user's coordinates):
    # every solver x format, and x penalty on dense data.
    for solver, fmt in itertools.product(SOLVERS, FORMATS):
        cases.append((solver, "l2", "log_loss", fmt, "none", FIXED_STEP))
    for solver, penalty in itertools.product(SOLVERS, ("l1", None)):
        cases.append((solver, penalty, "log_loss", "dense", "weighted", FIXED_STEP))
    return cases


def _case_id(case):
    return "-".join(str(part) for part in case)


def _fit(case):
    solver, penalty, loss, fmt, weights, *step = case
    loss, _, multi_class = loss.partition("-")
    n_classes = 2 if loss != "softmax_cross_entropy" and not multi_class else 3
    X, y, sample_weight = _data(fmt, n_classes)
    clf = GDLogisticClassifier(
        loss=loss,
        solver=solver,
        penalty=penalty,
        alpha=1e-2,
        max_iter=8,
        tol=None,
        batch_size=32,
        multi_class=multi_class or "auto",
        learning_rate=step[0] if step else "auto",
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X, y, sample_weight=sample_weight if weights == "weighted" else None)
    return clf


def _values(clf):
    """The fitted numbers a fingerprint pins, as lists of Python floats."""
    return {
        name: [float(v) for v in np.ravel(np.asarray(getattr(clf, name)))]
        for name in ("coef_", "intercept_", "loss_curve_")
    }


def _rtol(case):
    """How far a platform's rounding may move a case (see the module doc)."""
    return RTOL_FLOAT32 if case[3] == "float32" else RTOL_FLOAT64


def _differences(values, stored, rtol):
    """The names whose values differ from ``stored`` beyond ``rtol``.

    Coefficients and intercepts are measured against the largest parameter
    of the model (a near-zero intercept does not magnify rounding), the loss
    curve against its largest cost.
    """
    def largest(*names):
        return max(
            max((abs(v) for name in names for v in stored[name]), default=0.0),
            1e-12,
        )

    params = largest("coef_", "intercept_")
    differ = []
    for name, expected in stored.items():
        actual, expected = np.asarray(values[name]), np.asarray(expected)
        scale = largest(name) if name == "loss_curve_" else params
        if actual.shape != expected.shape or not (
            np.abs(actual - expected).max(initial=0.0) <= rtol * scale
        ):
            differ.append(name)
    return differ


def _stored():
    return json.loads(FINGERPRINTS.read_text()) if FINGERPRINTS.exists() else {}


@pytest.mark.parametrize("case", _cases(), ids=_case_id)
def test_fingerprint(case):
    stored = _stored()
    key = _case_id(case)
    assert key in stored, (
        f"No stored fingerprint for {key}; run `python "
        "tests/test_fingerprint.py --update` and commit tests/fingerprints.json."
    )
    differ = _differences(_values(_fit(case)), stored[key], _rtol(case))
    assert not differ, (
        f"The fitted model of {key} changed ({', '.join(differ)}). A "
        "restructuring must keep it; a deliberate behaviour fix regenerates "
        "the fingerprints (`python tests/test_fingerprint.py --update`) in its "
        "own commit."
    )


@pytest.mark.parametrize("fmt", ["dense", "float32"])
def test_fingerprint_sees_a_change(fmt):
    # A behaviour change far smaller than any fix's is outside the
    # tolerance: a ninth epoch, or a learning rate 0.1% off.
    case = ("gd", "l2", "log_loss", fmt, "none", FIXED_STEP)
    stored = _values(_fit(case))
    clf = _fit(case)
    assert not _differences(_values(clf), stored, _rtol(case))
    clf.set_params(max_iter=9, warm_start=False).fit(*_data(fmt, 2)[:2])
    assert _differences(_values(clf), stored, _rtol(case))
    clf.set_params(max_iter=8, learning_rate=FIXED_STEP * 1.001).fit(
        *_data(fmt, 2)[:2]
    )
    assert _differences(_values(clf), stored, _rtol(case))


def _update(path=None):
    values = {_case_id(case): _values(_fit(case)) for case in _cases()}
    old = _stored()
    changed = sorted(
        key for key, case in zip(values, _cases(), strict=True)
        if not isinstance(old.get(key), dict)
        or _differences(values[key], old[key], _rtol(case))
    )
    target = FINGERPRINTS if path is None else Path(path)
    target.write_text(json.dumps(values, indent=0, sort_keys=True) + "\n")
    print(f"{len(values)} fingerprints written to {target}; {len(changed)} changed:")
    for key in changed:
        print("  ", key)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--update"]:
        _update(*sys.argv[2:3])
    else:
        sys.exit("usage: python tests/test_fingerprint.py --update")
