"""P6 of benchmarks/run.py: the default fit against LogisticRegression (issue 16).

Seven problems, each fitted by ``GDLogisticClassifier(alpha=1/n)`` and by
``LogisticRegression(C=1)`` with lbfgs (and newton-cholesky where its
Hessian is small), in the same process, timed interleaved, once with the
default thread pools and once under ``threadpoolctl.threadpool_limits(1)``.
Both minimise the same objective (DESIGN.md: ``alpha = 1 / (C n)``)::

    F(W, b) = mean_i log_loss(y_i, x_i W + b) + alpha / 2 ||W||^2

(sigmoid log loss for two classes, softmax cross-entropy for more), and
every contender's final cost is computed here by that one formula
(:func:`cost`), not taken from either library.

What is measured, per case and thread regime:

* default fit: ``GDLogisticClassifier(alpha=1/n).fit`` against
  ``LogisticRegression().fit`` (lbfgs), both with their own defaults
  (lbfgs stops after 100 iterations, skloss after 1000 epochs or at its
  ``tol``); the epochs / iterations each ran and the cost each stopped at.
* time to lbfgs's cost: a complete fit with ``max_iter=k``, ``k`` the first
  epoch whose cost in skloss's ``loss_curve_`` is at most lbfgs's final cost
  (checked afterwards with :func:`cost` on the fitted model; ``k`` is raised
  until it holds). It includes every fixed cost of a fit, as the user pays
  it. If the default fit stops before reaching that cost, the fit is rerun
  with ``tol=None`` (every epoch, no stopping test) for up to 3 times its
  epochs; if even that does not reach it, the row is a FAIL with no time.
* newton-cholesky's default fit, where ``n_features * n_classes`` is at most
  ``NEWTON_MAX_PARAMS`` (its Hessian has that many rows), as an *info* row.

Targets (issue 16), in both regimes: time to lbfgs's cost <= 0.6x lbfgs's
default fit; the default fit <= 0.8x lbfgs's default fit and stopping at a
cost no higher than lbfgs's.

Timings are the minimum over interleaved rounds (one fit of each contender
per round, each after a short pause): as many rounds as fit in
``ROUND_BUDGET`` seconds, at least ``MIN_ROUNDS`` and at most ``--repeat``,
after one untimed round that also gives the costs. Data are generated
here (breast cancer and digits are bundled with scikit-learn); nothing is
downloaded.
"""

import time
import warnings
from contextlib import nullcontext
from dataclasses import dataclass
from functools import partial

import numpy as np
import scipy.sparse as sp
from scipy.special import logsumexp
from sklearn.datasets import load_breast_cancer, load_digits, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skloss import GDLogisticClassifier

# Largest n_features * n_classes for newton-cholesky: its Hessian is that
# square, built in O(n p^2) per iteration and factorised in O(p^3).
NEWTON_MAX_PARAMS = 1000
# Seconds of timed rounds per case and regime (full sizes), and the fewest
# rounds however long a round takes; see timed_rounds.
ROUND_BUDGET = 8.0
MIN_ROUNDS = 2
# Seconds of pause before each timed fit (see timed_rounds).
SETTLE_S = 0.2
TIME_TO_COST_LIMIT = 0.6
DEFAULT_FIT_LIMIT = 0.8
REGIMES = (("default threads", None), ("1 thread", 1))


# -- the problems ------------------------------------------------------------------
@dataclass
class Case:
    """One problem of the table: ``load() -> (X, y)``, built when run."""

    name: str
    load: object
    short: str


def _standardize(X):
    return StandardScaler().fit_transform(X)


def dense_classification(n, d, scaled=True, seed=0):
    """make_classification (sklearn's defaults), standardized.

    Unscaled: the standardized columns multiplied by 0.1 .. 10 (log-spaced),
    the same as P2.
    """
    X, y = make_classification(n, d, random_state=seed)
    X = _standardize(X)
    if not scaled:
        X = X * np.logspace(-1, 1, d)
    return X, y


def breast_cancer():
    """load_breast_cancer (569 x 30, 2 classes), standardized."""
    X, y = load_breast_cancer(return_X_y=True)
    return _standardize(X), y


def covertype_like(n, seed=0):
    """A generated problem shaped like covertype: n x 54, 7 classes.

    make_classification with 20 informative and 10 redundant features,
    2 clusters per class, 1% flipped labels, then standardized (the real
    covertype is not downloaded).
    """
    X, y = make_classification(
        n,
        54,
        n_informative=20,
        n_redundant=10,
        n_classes=7,
        n_clusters_per_class=2,
        flip_y=0.01,
        random_state=seed,
    )
    return _standardize(X), y


def digits():
    """load_digits (1797 x 64, 10 classes), standardized.

    Standardized rather than divided by 16, as the other dense cases
    (constant pixels stay 0).
    """
    X, y = load_digits(return_X_y=True)
    return _standardize(X), y


def tfidf_like(n, d, density=0.002, seed=0):
    """A CSR n x d tf-idf-like matrix and binary labels from a sparse model.

    Each row draws ``density * d`` term occurrences from a Zipf-like
    vocabulary (word frequencies ~ 1 / (rank + 10)); repeated terms add up
    to counts (so rows have slightly fewer distinct terms than draws). The
    values are count * idf, with ``idf = log(n / df) + 1``, and every row is
    scaled to unit Euclidean norm, as ``TfidfVectorizer`` does. The pattern
    is built from the drawn indices, never an n x d array. Labels: a
    Bernoulli draw from a logistic model on 1000 random terms, its logits
    scaled to standard deviation 4 and median 0.
    """
    rng = np.random.default_rng(seed)
    per_row = max(1, int(round(density * d)))
    p = 1.0 / (np.arange(d) + 10.0)
    p /= p.sum()
    # Columns are the ranks permuted, so frequent terms are spread out.
    cols = rng.permutation(d)[rng.choice(d, size=n * per_row, p=p)]
    rows = np.repeat(np.arange(n), per_row)
    X = sp.csr_matrix(
        (np.ones(n * per_row), (rows, cols)), shape=(n, d)
    )  # duplicates summed: term counts
    X.sum_duplicates()
    df = np.bincount(X.indices, minlength=d)
    idf = np.log(n / np.maximum(df, 1)) + 1.0
    X.data *= idf[X.indices]
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
    X = sp.diags(1.0 / norms) @ X
    X = X.tocsr()
    w = np.zeros(d)
    terms = rng.choice(d, size=min(1000, d), replace=False)
    w[terms] = rng.standard_normal(terms.size)
    z = X @ w
    # Logits of spread 4 (the Bayes accuracy is about 85%), balanced classes.
    z = 4.0 * (z - np.median(z)) / max(z.std(), 1e-12)
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-z))).astype(np.int64)
    return X, y


def wide_dense(n, d, seed=0):
    """make_classification n x d with 50 informative features, standardized."""
    X, y = make_classification(
        n, d, n_informative=50, n_redundant=50, random_state=seed
    )
    return _standardize(X), y


def make_cases(quick=False):
    """The seven problems of issue 16's table (smaller with ``quick``)."""
    n_big = 20_000 if quick else 200_000
    n_cov = 20_000 if quick else 100_000
    n_sp, d_sp = (20_000, 10_000) if quick else (100_000, 50_000)
    n_wide, d_wide = (1_000, 2_000) if quick else (2_000, 5_000)
    return [
        Case(
            f"{n_big:,} x 100 standardized",
            partial(dense_classification, n_big, 100),
            "dense std",
        ),
        Case(
            f"{n_big:,} x 100 unscaled (0.1..10)",
            partial(dense_classification, n_big, 100, False),
            "dense unscaled",
        ),
        Case("breast cancer standardized", breast_cancer, "breast cancer"),
        Case(
            f"{n_cov:,} x 54, 7 classes (covertype-like)",
            partial(covertype_like, n_cov),
            "covertype-like",
        ),
        Case("digits standardized, 10 classes", digits, "digits"),
        Case(
            f"sparse {n_sp:,} x {d_sp:,}, 0.2% tf-idf-like",
            partial(tfidf_like, n_sp, d_sp),
            "sparse tf-idf",
        ),
        Case(
            f"wide dense {n_wide:,} x {d_wide:,}",
            partial(wide_dense, n_wide, d_wide),
            "wide dense",
        ),
    ]


# -- the one cost formula ----------------------------------------------------------
def cost(X, y_idx, coef, intercept, alpha):
    """Mean log loss + alpha / 2 ||coef||^2, the same for every contender.

    ``y_idx`` are class indices 0..K-1; ``coef`` is (1, d) for two classes
    (sigmoid log loss of class 1) or (K, d) (softmax cross-entropy).
    """
    Z = np.asarray(X @ coef.T) + intercept
    if coef.shape[0] == 1:
        z = Z[:, 0]
        losses = np.logaddexp(0.0, z) - y_idx * z
    else:
        losses = logsumexp(Z, axis=1) - Z[np.arange(Z.shape[0]), y_idx]
    return float(np.mean(losses) + 0.5 * alpha * np.sum(coef * coef))


def model_cost(model, X, y_idx, alpha):
    return cost(X, y_idx, model.coef_, model.intercept_, alpha)


# -- timing ------------------------------------------------------------------------
def timed_rounds(functions, repeat, budget, clock, round_s, info=None):
    """Minimum time of each function over interleaved rounds.

    ``round_s`` is the time of one round measured in the untimed warm-up
    fits; as many rounds as fit in ``budget`` seconds, at least
    ``MIN_ROUNDS`` and at most ``repeat``, each calling every function once
    in turn. ``info`` (newton-cholesky's fit, the slowest and not part of
    the targets) runs in the first ``MIN_ROUNDS`` rounds only, and is not
    counted in ``round_s``; its minimum comes last. Each timed call
    follows a pause of ``SETTLE_S``: after a multi-threaded call OpenBLAS's
    idle threads busy-wait for about 0.1 s, taking a core from whatever
    runs next (on this shared 2-core machine it moved the ratio of the
    200,000 x 100 fits from about 0.9 to 0.7, against whichever contender
    came second); the pause gives every fit the same quiet start.
    """
    rounds = int(min(repeat, max(MIN_ROUNDS, budget // max(round_s, 1e-9))))
    times = [[] for _ in range(len(functions) + (info is not None))]
    for r in range(rounds):
        run_now = list(functions)
        if info is not None and r < MIN_ROUNDS:
            run_now.append(info)
        for i, f in enumerate(run_now):
            time.sleep(SETTLE_S)
            t0 = clock()
            f()
            times[i].append(clock() - t0)
    return [min(t) for t in times], rounds


def _first_epoch_at(curve, target):
    reached = np.flatnonzero(np.asarray(curve) <= target)
    return int(reached[0]) + 1 if reached.size else None


def time_to_cost_fit(X, y, y_idx, alpha, target, default):
    """``(k, fit)``: fewest epochs whose fit reaches ``target``, or None.

    ``fit`` is the zero-argument fit to time (``max_iter=k``; with
    ``tol=None`` when the default fit stopped before the target).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return _time_to_cost_fit(X, y, y_idx, alpha, target, default)


def _time_to_cost_fit(X, y, y_idx, alpha, target, default):
    k = _first_epoch_at(default.loss_curve_, target)
    params = {}
    if k is None:
        longer = GDLogisticClassifier(
            alpha=alpha, tol=None, max_iter=3 * max(default.n_iter_, 10)
        ).fit(X, y)
        k = _first_epoch_at(longer.loss_curve_, target)
        if k is None:
            return None, None, {"tol": None}
        params = {"tol": None}
    limit = k + 20
    while k <= limit:
        clf = GDLogisticClassifier(alpha=alpha, max_iter=k, **params)
        if model_cost(clf.fit(X, y), X, y_idx, alpha) <= target:
            return k, partial(clf.fit, X, y), params
        k += 1
    return None, None, params


@dataclass
class Result:
    """What one case measured in one thread regime."""

    case: str
    regime: str
    n_iter_lbfgs: int
    n_iter_skloss: int
    cost_lbfgs: float
    cost_skloss: float
    t_lbfgs: float
    t_skloss: float
    k: object = None
    t_to_cost: float = float("nan")
    ttc_note: str = ""
    t_newton: float = float("nan")
    cost_newton: float = float("nan")
    n_iter_newton: int = 0
    rounds: int = 0
    short: str = ""

    @property
    def default_ratio(self):
        return self.t_skloss / self.t_lbfgs

    @property
    def cost_ok(self):
        return self.cost_skloss <= self.cost_lbfgs

    @property
    def ttc_ratio(self):
        return self.t_to_cost / self.t_lbfgs if self.k else float("inf")


def run_case(case, X, y, threads, repeat, budget, clock):
    """Measure one case under ``threadpool_limits(threads)`` (None: default)."""
    n = X.shape[0]
    alpha = 1.0 / n  # LogisticRegression(C=1.0): alpha = 1 / (C n)
    classes, y_idx = np.unique(y, return_inverse=True)
    n_params = X.shape[1] * (1 if classes.size == 2 else classes.size)
    limits = threadpool_limits(limits=threads) if threads else nullcontext()
    with limits, warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        lbfgs = LogisticRegression(C=1.0)
        ours = GDLogisticClassifier(alpha=alpha)
        # Untimed warm-up fits: they give the costs, k and a round's time.
        t0 = clock()
        lbfgs.fit(X, y)
        t1 = clock()
        ours.fit(X, y)
        round_s = clock() - t0
        t_ours = clock() - t1
        target = model_cost(lbfgs, X, y_idx, alpha)
        k, ttc_fit, params = time_to_cost_fit(X, y, y_idx, alpha, target, ours)
        functions = [partial(lbfgs.fit, X, y), partial(ours.fit, X, y)]
        if ttc_fit is not None:
            functions.append(ttc_fit)
            round_s += t_ours  # a shorter fit than the default one
        newton = info = None
        if n_params <= NEWTON_MAX_PARAMS:
            newton = LogisticRegression(C=1.0, solver="newton-cholesky")
            newton.fit(X, y)  # untimed warm-up, as the others
            info = partial(newton.fit, X, y)
        times, rounds = timed_rounds(
            functions, repeat, budget, clock, round_s, info=info
        )
    result = Result(
        case=case.name,
        regime="1 thread" if threads == 1 else "default threads",
        short=case.short,
        n_iter_lbfgs=int(np.max(lbfgs.n_iter_)),
        n_iter_skloss=int(ours.n_iter_),
        cost_lbfgs=target,
        cost_skloss=model_cost(ours, X, y_idx, alpha),
        t_lbfgs=times[0],
        t_skloss=times[1],
        rounds=rounds,
    )
    if ttc_fit is not None:
        result.k, result.t_to_cost = k, times[2]
        if params:
            result.ttc_note = ", tol=None (default fit stops short)"
    if newton is not None:
        result.t_newton = times[-1]
        result.cost_newton = model_cost(newton, X, y_idx, alpha)
        result.n_iter_newton = int(np.max(newton.n_iter_))
    return result


# -- reporting ---------------------------------------------------------------------
def report_result(r, report):
    """Print a result's rows through run.py's ``report`` (kept for --rst)."""
    tag = f"{r.short} [{r.regime}]"
    stop = "<=" if r.cost_ok else ">"
    report(
        "P6",
        f"{tag} default fit vs lbfgs",
        r.t_skloss,
        r.t_lbfgs,
        DEFAULT_FIT_LIMIT,
        unit="s",
        passed=r.default_ratio <= DEFAULT_FIT_LIMIT and r.cost_ok,
        note=(
            f"{r.n_iter_skloss} epochs vs {r.n_iter_lbfgs} lbfgs iterations; "
            f"cost {r.cost_skloss:.10g} {stop} lbfgs's {r.cost_lbfgs:.10g}; "
            f"{r.rounds} rounds"
        ),
    )
    if r.k:
        report(
            "P6",
            f"{tag} time to lbfgs's cost",
            r.t_to_cost,
            r.t_lbfgs,
            TIME_TO_COST_LIMIT,
            unit="s",
            note=f"fit with max_iter={r.k}{r.ttc_note}",
        )
    else:
        report(
            "P6",
            f"{tag} time to lbfgs's cost",
            np.inf,
            r.t_lbfgs,
            TIME_TO_COST_LIMIT,
            unit="s",
            passed=False,
            note=f"lbfgs's cost {r.cost_lbfgs:.10g} not reached{r.ttc_note}",
        )
    if r.n_iter_newton:
        report(
            "P6",
            f"{tag} default fit vs newton-cholesky",
            r.t_skloss,
            r.t_newton,
            DEFAULT_FIT_LIMIT,
            unit="s",
            note=(
                f"newton-cholesky: {r.n_iter_newton} iterations, cost "
                f"{r.cost_newton:.10g}"
            ),
            info=True,
        )


def _ratio_text(r):
    ttc = f"{r.ttc_ratio:.2f}x" if r.k else "not reached"
    stop = "" if r.cost_ok else " (cost higher)"
    return f"{r.default_ratio:.2f}x{stop}", ttc


def summary_rows(results):
    """Issue 16's table: one row per case, both regimes side by side."""
    header = (
        "case",
        "default fit vs lbfgs, 1 thread",
        "time to lbfgs's cost vs lbfgs, 1 thread",
        "default threads (default fit; time to cost)",
        "epochs vs lbfgs iterations",
        "verdict (both regimes)",
    )
    rows = []
    by_case = {}
    for r in results:
        by_case.setdefault(r.case, {})[r.regime] = r
    for case, regimes in by_case.items():
        one, dflt = regimes.get("1 thread"), regimes.get("default threads")
        cells = [case]
        if one:
            cells += list(_ratio_text(one))
        else:
            cells += ["-", "-"]
        cells.append("; ".join(_ratio_text(dflt)) if dflt else "-")
        any_r = one or dflt
        cells.append(f"{any_r.n_iter_skloss} vs {any_r.n_iter_lbfgs}")
        cells.append("PASS" if all(_passes(r) for r in regimes.values()) else "FAIL")
        rows.append(cells)
    return header, rows


def _passes(r):
    return (
        r.k is not None
        and r.ttc_ratio <= TIME_TO_COST_LIMIT
        and r.default_ratio <= DEFAULT_FIT_LIMIT
        and r.cost_ok
    )


def print_summary(results):
    header, rows = summary_rows(results)
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=True)]
    for cells in (header, *rows):
        print("# " + " | ".join(f"{c:{w}}" for c, w in zip(cells, widths, strict=True)))


def p6_lbfgs(args, report, clock=time.perf_counter, cases=None):
    """Run every case in both thread regimes; report rows; return results."""
    results = []
    budget = ROUND_BUDGET / (4 if args.quick else 1)
    for case in cases if cases is not None else make_cases(args.quick):
        X, y = case.load()
        for _, threads in REGIMES:
            r = run_case(case, X, y, threads, args.repeat, budget, clock)
            report_result(r, report)
            results.append(r)
        del X, y
    print_summary(results)
    return results


def write_summary_rst(path, header_lines, results, rows, rst_text, verdict):
    """The P6 tables as RST: issue 16's summary, then every P6 row.

    ``rows`` are run.py's ``ROWS``; ``rst_text`` and ``verdict`` its
    escaping and PASS / FAIL / info helpers.
    """
    header, summary = summary_rows(results)
    lines = [
        ".. Generated by benchmarks/run.py --only P6 --rst-lbfgs; do not edit.",
        "",
        *[f"``{h}``\n" for h in header_lines],
        ".. list-table::",
        "   :header-rows: 1",
        "   :widths: 24 14 16 20 12 10",
        "",
    ]
    for cells in [header, *summary]:
        lines.append(f"   * - {rst_text(cells[0])}")
        lines += [f"     - {rst_text(c)}" for c in cells[1:]]
    lines += [
        "",
        "Every P6 row measured in that run (ratios: skloss / reference):",
        "",
        ".. list-table::",
        "   :header-rows: 1",
        "   :widths: 30 10 10 10 8 32",
        "",
        "   * - Case",
        "     - skloss",
        "     - reference",
        "     - ratio (limit)",
        "     - result",
        "     - notes",
    ]
    for target, case, ours, ref, unit, ratio, limit, ok, note in rows:
        if target != "P6":
            continue
        ours_text = "-" if not np.isfinite(ours) else f"{ours:.3f} {unit}"
        ratio_text = "-" if not np.isfinite(ratio) else f"{ratio:.2f}"
        lines += [
            f"   * - {rst_text(case)}",
            f"     - {ours_text}",
            f"     - {ref:.3f} {unit}",
            f"     - {ratio_text} (<= {limit:.2f})",
            f"     - {verdict(ok)}",
            f"     - {rst_text(note)}",
        ]
    with open(path, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    print(f"# wrote {path}")
