"""Warnings a user can act on, at the user's line (issue 11, item 12)."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skloss import GDLogisticClassifier


@pytest.fixture(scope="module")
def cancer():
    return load_breast_cancer(return_X_y=True)


def _convergence(record):
    return [w for w in record if issubclass(w.category, ConvergenceWarning)]


@pytest.mark.parametrize("wrap", ["plain", "pipeline", "grid"])
def test_convergence_warning_names_the_users_line(cancer, wrap):
    X, y = cancer
    est = GDLogisticClassifier(max_iter=2)
    if wrap == "pipeline":
        est = make_pipeline(StandardScaler(), est)
    elif wrap == "grid":
        est = GridSearchCV(est, {"alpha": [1e-4]}, cv=2)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        est.fit(X, y)
    found = _convergence(record)
    assert found
    assert all(w.filename == __file__ for w in found), [w.filename for w in found]


def test_scaling_advice_only_for_unscaled_features(cancer):
    X, y = cancer
    with pytest.warns(ConvergenceWarning, match="scale the features") as record:
        GDLogisticClassifier(max_iter=2).fit(X, y)
    Xs = StandardScaler().fit_transform(X)
    with pytest.warns(ConvergenceWarning) as record:
        GDLogisticClassifier(max_iter=2).fit(Xs, y)
    messages = [str(w.message) for w in _convergence(record)]
    assert messages and not any("scale the features" in m for m in messages)


def test_standardized_check_matches_its_definition(rng):
    from skloss._objective import LinearObjective
    from skloss.losses import LogLoss

    Z = rng.standard_normal((500, 3))
    Z = (Z - Z.mean(0)) / Z.std(0)
    y = (rng.random(500) < 0.5).astype(float)
    assert LinearObjective(LogLoss(), Z, y).looks_standardized()
    assert not LinearObjective(LogLoss(), Z * [1, 3, 1], y).looks_standardized()
    assert not LinearObjective(LogLoss(), Z + [0, 2, 0], y).looks_standardized()
    # A constant column does not count.
    C = np.column_stack([Z, np.ones(500)])
    assert LinearObjective(LogLoss(), C, y).looks_standardized()
