"""Smoke tests of benchmarks/ P6 (lbfgs_cases.py) at tiny sizes.

No timing is asserted: these check that every case runs in both thread
regimes and prints its rows, that the one cost formula is the textbook
objective, and that "time to lbfgs's cost" is the first epoch reaching it.
"""

import os
import sys
from functools import partial
from types import SimpleNamespace

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss

BENCHMARKS = os.path.join(os.path.dirname(os.path.dirname(__file__)), "benchmarks")
sys.path.insert(0, BENCHMARKS)
lbfgs_cases = pytest.importorskip("lbfgs_cases")
run = pytest.importorskip("run")

from skloss import GDLogisticClassifier  # noqa: E402


@pytest.mark.parametrize("n_classes", [2, 4])
def test_cost_is_mean_log_loss_plus_half_alpha_squared_norm(n_classes):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 5))
    y = rng.integers(0, n_classes, 60)
    lr = LogisticRegression(C=1.0).fit(X, y)
    alpha = 1.0 / 60
    expected = log_loss(y, lr.predict_proba(X)) + 0.5 * alpha * np.sum(lr.coef_**2)
    got = lbfgs_cases.model_cost(lr, X, y, alpha)
    assert got == pytest.approx(expected, rel=1e-12)
    # CSR gives the same cost.
    got_csr = lbfgs_cases.model_cost(lr, sp.csr_matrix(X), y, alpha)
    assert got_csr == pytest.approx(expected, rel=1e-12)


def test_tfidf_like_rows_are_unit_positive_and_sparse():
    X, y = lbfgs_cases.tfidf_like(500, 2_000, density=0.01)
    assert sp.issparse(X) and X.format == "csr" and X.shape == (500, 2_000)
    assert (X.data > 0).all()
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
    np.testing.assert_allclose(norms, 1.0)
    # 20 draws per row, repeats merged: at most 20 distinct terms a row.
    per_row = np.diff(X.indptr)
    assert per_row.max() <= 20 and per_row.mean() > 10
    assert set(np.unique(y)) == {0, 1}


def test_time_to_cost_is_the_first_epoch_reaching_lbfgs_cost():
    X, y = lbfgs_cases.breast_cancer()
    alpha = 1.0 / X.shape[0]
    lr = LogisticRegression(C=1.0).fit(X, y)
    target = lbfgs_cases.model_cost(lr, X, y, alpha)
    default = GDLogisticClassifier(alpha=alpha).fit(X, y)
    k, fit, _ = lbfgs_cases.time_to_cost_fit(X, y, y, alpha, target, default)
    assert k is not None and 1 < k <= default.n_iter_
    with pytest.warns(Warning):  # max_iter=k stops before tol
        assert lbfgs_cases.model_cost(fit(), X, y, alpha) <= target
    fewer = GDLogisticClassifier(alpha=alpha, max_iter=k - 1)
    with pytest.warns(Warning):
        fewer.fit(X, y)
    assert lbfgs_cases.model_cost(fewer, X, y, alpha) > target


def _tiny_cases():
    make = lbfgs_cases.Case
    return [
        make("dense 300 x 8", partial(lbfgs_cases.dense_classification, 300, 8), "a"),
        make("dense 7 classes", partial(lbfgs_cases.covertype_like, 400), "b"),
        make("sparse", partial(lbfgs_cases.tfidf_like, 300, 400, 0.02), "c"),
        make("wide 60 x 1200", partial(lbfgs_cases.wide_dense, 60, 1200), "d"),
    ]


def test_p6_prints_every_case_in_both_regimes(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(lbfgs_cases, "SETTLE_S", 0.0)
    run.ROWS.clear()
    args = SimpleNamespace(quick=True, repeat=1)
    cases = _tiny_cases()
    results = lbfgs_cases.p6_lbfgs(args, run.report, cases=cases)
    out = capsys.readouterr().out
    assert len(results) == 2 * len(cases)
    for case in cases:
        for regime in ("default threads", "1 thread"):
            tag = f"{case.short} [{regime}]"
            assert f"{tag} default fit vs lbfgs" in out
            assert f"{tag} time to lbfgs's cost" in out
        assert case.name in out  # the summary table
    # newton-cholesky where the Hessian is small (not the 1200-feature one).
    assert "a [1 thread] default fit vs newton-cholesky" in out
    assert "d [1 thread] default fit vs newton-cholesky" not in out
    for r in results:
        assert r.cost_lbfgs > 0 and r.cost_skloss > 0
        assert r.t_lbfgs > 0 and r.t_skloss > 0
    path = tmp_path / "p6.txt"
    lbfgs_cases.write_summary_rst(
        path, ["header"], results, run.ROWS, run._rst_text, run._verdict
    )
    text = path.read_text()
    assert text.count("   * - ") == 1 + len(cases) + 1 + len(
        [r for r in run.ROWS if r[0] == "P6"]
    )
    run.ROWS.clear()
