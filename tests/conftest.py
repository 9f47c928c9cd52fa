"""Shared fixtures: small standardized bundled datasets."""

import os

# scikit-learn's array API dispatch (tests/test_array_api.py, the estimator
# checks' array API checks) needs SciPy's own array API support, which SciPy
# reads from the environment when it is first imported: set it before any
# import below can import SciPy. A value set by the user wins.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from sklearn.datasets import load_breast_cancer, load_iris  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402


@pytest.fixture(scope="session")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="session")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture
def blas_thread_entries(monkeypatch):
    """``record(module)``: count the ``one_blas_thread`` contexts of a module.

    Replaces the module's ``one_blas_thread`` with a recorder and returns
    the list that gets one entry per context entered.
    """
    entered = []

    class Recorder:
        def __enter__(self):
            entered.append(True)

        def __exit__(self, *exc):
            return False

    def record(module):
        monkeypatch.setattr(module, "one_blas_thread", Recorder)
        return entered

    return record


@pytest.fixture
def without_dask(monkeypatch):
    """Make ``import dask`` (and its submodules) fail, as where it is absent."""
    import builtins

    real_import = builtins.__import__

    def no_dask(name, *args, **kwargs):
        if name == "dask" or name.startswith("dask."):
            raise ImportError("No module named 'dask'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_dask)
