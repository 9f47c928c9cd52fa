"""Time-to-cost curves of skloss against LogisticRegression and SGDClassifier.

Every point is a separate fit (or, for SGDClassifier, one more epoch of
``partial_fit``) timed on the wall clock; its cost is the training cost
``mean log loss + alpha / 2 * ||w||^2`` with ``alpha = 1 / (C n)``, the
objective every method here minimises, minus the optimum (LogisticRegression
run to ``tol=1e-10``). Writes ``docs/images/performance_time_to_cost.png``.

Usage::

    python benchmarks/plot_time_to_cost.py            # 200,000 x 100
    python benchmarks/plot_time_to_cost.py --n-samples 20000
"""

import argparse
import time
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import LogisticRegression, SGDClassifier  # noqa: E402

from skloss import GDLogisticClassifier  # noqa: E402
from skloss._objective import LinearObjective  # noqa: E402
from skloss._penalties import make_penalty  # noqa: E402
from skloss.losses import LogLoss  # noqa: E402

sys_path = Path(__file__).resolve().parent
OUT = sys_path.parent / "docs" / "images" / "performance_time_to_cost.png"


def _data(n_samples, n_features, scaled):
    from run import standardized_classification

    return standardized_classification(n_samples, n_features, scaled=scaled)


def _cost(objective, coef, intercept):
    theta = np.vstack([np.asarray(coef).T, np.asarray(intercept)[None, :]])
    return objective.value(objective.from_model(theta))


def _timed(est, X, y):
    start = time.perf_counter()
    est.fit(X, y)
    return time.perf_counter() - start, est


def curves(X, y, alpha):
    """(label, times, costs) for each method."""
    objective = LinearObjective(
        LogLoss(), X, y.astype(X.dtype), penalty=make_penalty("l2", alpha)
    )
    C = 1.0 / (alpha * X.shape[0])
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pts = []
        for k in (1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 30, 45, 70, 100):
            t, lr = _timed(LogisticRegression(C=C, max_iter=k), X, y)
            pts.append((t, _cost(objective, lr.coef_, lr.intercept_)))
            if lr.n_iter_[0] < k:
                break
        t_lr, lr = _timed(LogisticRegression(C=C), X, y)
        out.append(
            (
                "LogisticRegression (lbfgs)",
                pts,
                (t_lr, _cost(objective, lr.coef_, lr.intercept_)),
            )
        )

        pts = []
        for k in (1, 2, 3, 4, 6, 8, 10, 12, 15, 18, 22, 30, 40, 50, 60, 70, 80):
            t, gd = _timed(GDLogisticClassifier(alpha=alpha, max_iter=k), X, y)
            pts.append((t, gd.loss_curve_[-1]))
            if gd.n_iter_ < k:  # converged before max_iter: the curve ends
                break
        t_gd, gd = _timed(GDLogisticClassifier(alpha=alpha), X, y)
        out.append(("GDLogisticClassifier (gd, auto)", pts, (t_gd, gd.loss_curve_[-1])))

        pts = []
        sgd = SGDClassifier(loss="log_loss", alpha=alpha, random_state=0)
        classes = np.unique(y)
        total = 0.0
        for _ in range(20):
            start = time.perf_counter()
            sgd.partial_fit(X, y, classes=classes)
            total += time.perf_counter() - start
            pts.append((total, _cost(objective, sgd.coef_, sgd.intercept_)))
        out.append(("SGDClassifier (log_loss)", pts, None))

        pts = []
        for k in (1, 2, 5, 10, 20):
            t, ours = _timed(
                GDLogisticClassifier(
                    solver="sgd", alpha=alpha, max_iter=k, tol=None, random_state=0
                ),
                X,
                y,
            )
            # (loss_curve_ of "sgd" is the mean of the epoch's batch costs:
            # evaluate the full cost, as for SGDClassifier.)
            pts.append((t, _cost(objective, ours.coef_, ours.intercept_)))
        out.append(("GDLogisticClassifier (sgd)", pts, None))
    ref = LogisticRegression(C=C, tol=1e-10, max_iter=10_000).fit(X, y)
    best = min(
        [_cost(objective, ref.coef_, ref.intercept_)]
        + [c for _, pts, _ in out for _, c in pts]
    )
    return out, best


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=200_000)
    parser.add_argument("--n-features", type=int, default=100)
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args(argv)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    for ax, scaled in zip(axes, (True, False), strict=True):
        X, y = _data(args.n_samples, args.n_features, scaled)
        alpha = 1.0 / X.shape[0]
        out, best = curves(X, y, alpha)
        for (label, pts, final), style in zip(
            out, ("o-", "s-", "^--", "v--"), strict=True
        ):
            t, c = np.array(pts).T
            ax.loglog(t, np.maximum(c - best, 1e-14), style, ms=4, label=label)
            if final is not None:
                ax.plot(final[0], max(final[1] - best, 1e-14), "k*", ms=9)
        ax.set_xlabel("wall-clock time of the fit (s, log scale)")
        ax.set_title(
            f"make_classification {args.n_samples:,} x {args.n_features}, "
            + ("standardized" if scaled else "unscaled (scales 0.1..10)"),
            fontsize=9,
        )
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("cost - optimal cost")
    axes[0].legend(fontsize=8)
    fig.suptitle("Time to cost (stars: default fits)", fontsize=10)
    fig.tight_layout()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
