"""Concurrency: fits in threads and processes, and a registry under contention.

Training keeps no global state (the registry is only read, under its lock),
so clones fitted concurrently in threads or in other processes give results
bit-identical to a sequential fit.
"""

import threading

import numpy as np
import pytest
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.datasets import make_classification
from threadpoolctl import threadpool_limits

from skloss import GDLogisticClassifier, Loss, get_loss, register_loss
from skloss.losses import available_losses, unregister_loss

X, Y = make_classification(
    n_samples=120, n_features=6, n_informative=4, n_classes=3, random_state=0
)

CONFIGS = [
    {"solver": "gd"},
    {"solver": "nesterov", "penalty": "elasticnet"},
    {"solver": "sgd", "random_state": 0, "max_iter": 30},
    {"solver": "adam", "random_state": 0, "max_iter": 30, "multi_class": "ovr"},
    {"loss": "hinge", "max_iter": 100},
]


def _config_id(params):
    return "-".join(map(str, params.values()))


# warnings.catch_warnings is not thread-safe: silence ConvergenceWarning
# (short runs on purpose) with pytest's filter for the whole module instead.
pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning"
)


def _fit(est, X_=X, y_=Y):
    est.fit(X_, y_)
    out = est.predict_proba(X_) if hasattr(est, "predict_proba") else (
        est.decision_function(X_)
    )
    return est.coef_, est.intercept_, est.n_iter_, out


def _assert_identical(a, b):
    for left, right in zip(a, b, strict=True):
        np.testing.assert_array_equal(left, right)


@pytest.mark.parametrize("params", CONFIGS, ids=_config_id)
def test_clones_fitted_in_threads_are_identical(params):
    est = GDLogisticClassifier(**params)
    reference = _fit(clone(est))
    results = Parallel(n_jobs=4, backend="threading")(
        delayed(_fit)(clone(est)) for _ in range(8)
    )
    for result in results:
        _assert_identical(result, reference)


def test_clones_fitted_in_processes_are_identical():
    estimators = [GDLogisticClassifier(**params) for params in CONFIGS[:3]]
    # loky gives each of 2 workers on 2 cores one BLAS thread; the reference
    # uses the same, since BLAS results may depend on the thread count.
    with threadpool_limits(limits=1):
        reference = [_fit(clone(est)) for est in estimators]
    results = Parallel(n_jobs=2, backend="loky")(
        delayed(_fit)(clone(est)) for est in estimators
    )
    for result, expected in zip(results, reference, strict=True):
        _assert_identical(result, expected)


def test_shared_fitted_model_predicts_concurrently():
    est = GDLogisticClassifier().fit(X, Y)
    expected = est.predict_proba(X)
    coef = est.coef_.copy()
    results = Parallel(n_jobs=4, backend="threading")(
        delayed(est.predict_proba)(X) for _ in range(16)
    )
    for proba in results:
        np.testing.assert_array_equal(proba, expected)
    np.testing.assert_array_equal(est.coef_, coef)


def _make_loss(scale):
    class Scaled(Loss):
        smoothness = 0.25 * scale

        def loss(self, y, raw):
            return scale * (np.logaddexp(0, raw) - y * raw)

        def gradient(self, y, raw):
            return scale * (1 / (1 + np.exp(-raw)) - y)

    Scaled.__name__ = f"Scaled{scale}"
    return Scaled


def test_registry_concurrent_registration_and_lookup():
    n_threads, per_thread = 8, 25
    barrier = threading.Barrier(n_threads + 2)
    errors = []
    stop = threading.Event()

    def register(t):
        barrier.wait()
        try:
            for i in range(per_thread):
                name = f"concurrent_{t}_{i}"
                register_loss(name, _make_loss(1.0), aliases=(f"{name}_alias",))
                assert type(get_loss(f"{name}_alias")).__name__ == "Scaled1.0"
                if i % 2:
                    unregister_loss(name)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def lookup():
        barrier.wait()
        try:
            while not stop.is_set():
                assert type(get_loss("log_loss")).__name__ == "LogLoss"
                assert "log_loss" in available_losses()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=register, args=(t,)) for t in range(n_threads)]
    threads += [threading.Thread(target=lookup) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads[:n_threads]:
        thread.join()
    stop.set()
    for thread in threads[n_threads:]:
        thread.join()
    try:
        assert errors == []
        names = available_losses()
        kept = {f"concurrent_{t}_{i}" for t in range(n_threads)
                for i in range(0, per_thread, 2)}
        gone = {f"concurrent_{t}_{i}" for t in range(n_threads)
                for i in range(1, per_thread, 2)}
        assert kept <= set(names)
        assert not gone & set(names)
        for name in kept:
            assert names[name]["aliases"] == (f"{name}_alias",)
    finally:
        for name in list(available_losses()):
            if name.startswith("concurrent_"):
                unregister_loss(name)


def test_registry_same_name_race_has_one_winner():
    n_threads = 8
    barrier = threading.Barrier(n_threads)
    outcomes = []
    classes = [_make_loss(float(t + 1)) for t in range(n_threads)]

    def register(t):
        barrier.wait()
        try:
            register_loss("contended_name", classes[t])
            outcomes.append(("won", t))
        except ValueError as exc:
            assert "already registered" in str(exc)
            outcomes.append(("lost", t))

    threads = [threading.Thread(target=register, args=(t,)) for t in range(n_threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        winners = [t for outcome, t in outcomes if outcome == "won"]
        assert len(outcomes) == n_threads and len(winners) == 1
        assert type(get_loss("contended_name")) is classes[winners[0]]
    finally:
        unregister_loss("contended_name")


def test_fits_with_user_losses_registered_concurrently():
    """Each thread registers its own loss and fits with it by name."""

    def work(t):
        name = f"threaded_user_loss_{t}"
        register_loss(name, _make_loss(float(t + 1)), overwrite=True)
        try:
            est = GDLogisticClassifier(loss=name, max_iter=50, tol=None)
            return _fit(est, X, Y == 0)
        finally:
            unregister_loss(name)

    results = Parallel(n_jobs=4, backend="threading")(
        delayed(work)(t) for t in range(4)
    )
    for t, result in enumerate(results):
        register_loss("sequential_user_loss", _make_loss(float(t + 1)),
                      overwrite=True)
        try:
            expected = _fit(
                GDLogisticClassifier(loss="sequential_user_loss", max_iter=50,
                                     tol=None),
                X, Y == 0,
            )
        finally:
            unregister_loss("sequential_user_loss")
        _assert_identical(result, expected)
