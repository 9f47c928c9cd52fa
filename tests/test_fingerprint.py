"""Fingerprints of fitted models: a restructuring must keep every digest.

Each case fits one configuration (solver x penalty x loss x data format x
sample weights) and hashes the bytes of ``coef_``, ``intercept_`` and
``loss_curve_``. The digests are stored in ``fingerprints.json`` beside this
file. A change that moves code keeps them all; a behaviour fix changes some
of them, in a commit of its own that says which and why, after regenerating
the file with::

    python tests/test_fingerprint.py --update

The data are small and the fits short (a few epochs), so the whole matrix
runs in seconds; the "blocked" cases are dense float64 data over the 2 MB
block size, so that the threaded blocked route is pinned too (its partial
sums are added in block order, so the digest does not depend on the number
of threads).
"""

import hashlib
import itertools
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from skloss import GDLogisticClassifier

DIGESTS = Path(__file__).with_name("fingerprints.json")

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


def _digest(clf):
    h = hashlib.sha256()
    for name in ("coef_", "intercept_", "loss_curve_"):
        value = np.ascontiguousarray(np.asarray(getattr(clf, name)))
        h.update(name.encode())
        h.update(str(value.dtype).encode())
        h.update(str(value.shape).encode())
        h.update(value.tobytes())
    return h.hexdigest()


def _stored():
    return json.loads(DIGESTS.read_text()) if DIGESTS.exists() else {}


@pytest.mark.parametrize("case", _cases(), ids=_case_id)
def test_fingerprint(case):
    stored = _stored()
    key = _case_id(case)
    assert key in stored, (
        f"No stored digest for {key}; run `python tests/test_fingerprint.py "
        "--update` and commit tests/fingerprints.json."
    )
    assert _digest(_fit(case)) == stored[key], (
        f"The fitted model of {key} changed. A restructuring must keep it "
        "bit-identical; a deliberate behaviour fix regenerates the digests "
        "(`python tests/test_fingerprint.py --update`) in its own commit."
    )


def test_fingerprint_sees_a_change():
    # The digest must move with the model: one more epoch is another digest.
    case = ("gd", "l2", "log_loss", "dense", "none")
    clf = _fit(case)
    before = _digest(clf)
    clf.coef_ = np.nextafter(clf.coef_, np.inf)
    assert _digest(clf) != before


def _update():
    digests = {_case_id(case): _digest(_fit(case)) for case in _cases()}
    old = _stored()
    changed = sorted(k for k in digests if old.get(k) != digests[k])
    DIGESTS.write_text(json.dumps(digests, indent=1, sort_keys=True) + "\n")
    print(f"{len(digests)} digests written; {len(changed)} changed:")
    for key in changed:
        print("  ", key)


if __name__ == "__main__":
    if sys.argv[1:] == ["--update"]:
        _update()
    else:
        sys.exit("usage: python tests/test_fingerprint.py --update")
