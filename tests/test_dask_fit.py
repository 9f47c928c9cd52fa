"""fit on a dask array: the data stay on the cluster, the answer is NumPy's.

Each test compares the Dask fit with the NumPy fit of the same data (same
solver, same steps: coef_ equal to 1e-6), on a LocalCluster the tests start
and stop themselves (threads for speed, plus one test on worker processes).
"""

import numpy as np
import pytest
import scipy.sparse as sp
from misaligned_arrays import misaligned_copy
from user_losses.mylosses import SmoothHinge

from skloss import GDLogisticClassifier, _dask_stats
from skloss._dask import _block_loss_gradient

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")

SOLVERS = [
    dict(solver="gd", learning_rate=0.5),
    dict(solver="gd", learning_rate="auto"),
    dict(solver="nesterov", learning_rate="auto"),
]


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster, distributed.Client(cluster) as c:
        yield c


@pytest.fixture
def warm_start_from_160_rows(monkeypatch):
    """gd's warm start of "auto" enabled on small data (as in NumPy tests)."""
    from skloss.optim import GradientDescent

    monkeypatch.setattr(GradientDescent, "_WARM_MIN_ROWS", 10)


def _data(n_classes, n=230, d=4, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    scales = np.resize([1.0, 3.0, 0.5, 2.0], d)
    X = (rng.standard_normal((n, d)) * scales + 1.0).astype(dtype)
    y = (X @ rng.standard_normal((d, n_classes)) + rng.standard_normal(
        (n, n_classes))).argmax(axis=1)
    return X, y


def _fit_both(X, y, chunks=60, sample_weight=None, dask_weight=False, **params):
    params.setdefault("max_iter", 20)
    params.setdefault("alpha", 1e-3)
    ref = GDLogisticClassifier(**params).fit(X, y, sample_weight=sample_weight)
    dX = da.from_array(X, chunks=(chunks, X.shape[1]))
    sw = sample_weight
    if dask_weight and sw is not None:
        sw = da.from_array(sw, chunks=37)  # other chunks than X: realigned
    got = GDLogisticClassifier(**params).fit(
        dX, da.from_array(y, chunks=45), sample_weight=sw
    )
    return got, ref


def _assert_same(got, ref, atol=1e-6):
    np.testing.assert_allclose(got.coef_, ref.coef_, rtol=0, atol=atol)
    np.testing.assert_allclose(got.intercept_, ref.intercept_, rtol=0, atol=atol)
    assert got.n_iter_ == ref.n_iter_
    np.testing.assert_allclose(got.loss_curve_, ref.loss_curve_, rtol=1e-9)
    np.testing.assert_array_equal(got.classes_, ref.classes_)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("params", SOLVERS)
@pytest.mark.parametrize(
    "n_classes, multi_class", [(2, "ovr"), (3, "ovr"), (3, "multinomial")]
)
def test_same_answer_as_numpy(client, params, n_classes, multi_class):
    X, y = _data(n_classes)
    got, ref = _fit_both(X, y, multi_class=multi_class, **params)
    _assert_same(got, ref)
    assert got.n_features_in_ == 4


@pytest.mark.parametrize("n_classes", [2, 3])
def test_auto_perceptron_same_answer_as_numpy(client, n_classes):
    # "auto" on the perceptron: unit steps in standardized coordinates,
    # keeping the best epoch, on the cluster as in memory.
    X, y = _data(n_classes)
    X = X * [1.0, 30.0, 0.1, 5.0] + 2.0  # unscaled: the coordinates matter
    got, ref = _fit_both(X, y, loss="perceptron", max_iter=30)
    _assert_same(got, ref)
    assert ref.step_sizes_ == [1.0] * ref.n_iter_


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("dask_weight", [False, True])
@pytest.mark.parametrize("class_weight", [None, "balanced", {0: 2.0, 2: 0.5}])
def test_weights_same_answer(client, dask_weight, class_weight):
    X, y = _data(3)
    w = np.random.default_rng(1).uniform(0.0, 3.0, X.shape[0])
    w[:10] = 0.0
    got, ref = _fit_both(X, y, sample_weight=w, dask_weight=dask_weight,
                         class_weight=class_weight, learning_rate="auto")
    _assert_same(got, ref)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_class_weight_without_sample_weight(client):
    X, y = _data(2)
    got, ref = _fit_both(X, y, class_weight="balanced", solver="nesterov")
    _assert_same(got, ref)
    np.testing.assert_allclose(got._train_state["counts"],
                               ref._train_state["counts"])


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("penalty", ["l1", "elasticnet", None])
def test_penalties_and_no_intercept(client, penalty):
    X, y = _data(3)
    got, ref = _fit_both(X, y, penalty=penalty, l1_ratio=0.5, alpha=1e-2,
                         fit_intercept=False, learning_rate="auto")
    _assert_same(got, ref)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("multi_class", ["ovr", "multinomial"])
def test_float32_stays_float32(client, multi_class):
    X, y = _data(3, dtype=np.float32)
    got, ref = _fit_both(X, y, multi_class=multi_class, learning_rate=0.5)
    assert got.coef_.dtype == np.float32
    # float32 sums in another order (about 1e-7 apart here).
    np.testing.assert_allclose(got.coef_, ref.coef_, rtol=0, atol=1e-6)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("loss", [SmoothHinge(width=0.5), "hinge", "modified_huber"])
def test_user_and_builtin_losses(client, loss):
    X, y = _data(2)
    got, ref = _fit_both(X, y, loss=loss, learning_rate="auto")
    _assert_same(got, ref)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_sparse_blocks_match_numpy_csr(client):
    X, y = _data(3)
    X[X < 1.0] = 0.0
    params = dict(max_iter=30, learning_rate="auto", alpha=1e-3)
    ref = GDLogisticClassifier(**params).fit(sp.csr_matrix(X), y)
    dX = da.from_array(X, chunks=(60, 4)).map_blocks(sp.csr_matrix)
    got = GDLogisticClassifier(**params).fit(dX, y)
    _assert_same(got, ref)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_labels_of_any_type_and_numpy_y(client):
    X, y = _data(3)
    names = np.array(["cat", "dog", "eel"])[y]
    ref = GDLogisticClassifier(max_iter=20).fit(X, names)
    dX = da.from_array(X, chunks=(50, 4))
    for labels in (names, da.from_array(names, chunks=70)):
        got = GDLogisticClassifier(max_iter=20).fit(dX, labels)
        _assert_same(got, ref)
        assert (got.predict(dX).compute() == ref.predict(X)).all()


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_columns_in_several_chunks_are_rechunked(client):
    X, y = _data(2)
    ref = GDLogisticClassifier(max_iter=20).fit(X, y)
    got = GDLogisticClassifier(max_iter=20).fit(da.from_array(X, chunks=(50, 2)), y)
    _assert_same(got, ref)


def _largest_array(obj):
    if isinstance(obj, np.ndarray):
        return obj.size
    if isinstance(obj, (tuple, list)):
        return max([_largest_array(o) for o in obj] + [0])
    if isinstance(obj, dict):
        return _largest_array(list(obj.values()))
    return 0


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("persist", [False, True])
@pytest.mark.parametrize("params, n", [(p, 400) for p in SOLVERS] + [
    (dict(early_stopping=True), 400),
    # Large enough for the warm start of "auto" (with 160 rows a
    # coefficient): its two subsamples of every 16th row may come.
    (dict(solver="gd", learning_rate="auto"), 3400),
])
def test_X_is_never_computed_to_the_client(client, monkeypatch,
                                           warm_start_from_160_rows, params, n,
                                           persist):
    """Only small results arrive: no dask array is computed or converted.

    Persisted X takes the futures path (tasks submitted on the blocks'
    futures), other X the task-graph path: both are watched.
    """
    X, y = _data(3, n=n, d=6)
    dX = da.from_array(X, chunks=(n // 8, 6))
    dy = da.from_array(y, chunks=50)
    if persist:
        dX, dy = client.persist([dX, dy])
    largest = []

    def watch(real):
        def watched(*args, **kwargs):
            out = real(*args, **kwargs)
            largest.append(_largest_array(out))
            return out

        return watched

    # The parameters, or with the warm start a subsample's X.
    limit = max((6 + 1) * 3, -(-n // 16) * 6 if n > 400 else 0)

    def guarded(name):
        real = getattr(da.Array, name)

        def method(self, *args, **kwargs):
            # Totals (a weight sum) may come back; nothing of X's size may.
            if self.size > limit:
                raise AssertionError(f"{name} of a {self.shape} dask array")
            return real(self, *args, **kwargs)

        return method

    clf = GDLogisticClassifier(max_iter=15, multi_class="multinomial", **params)
    with monkeypatch.context() as watching:
        watching.setattr(dask, "compute", watch(dask.compute))
        watching.setattr(distributed.Future, "result",
                         watch(distributed.Future.result))
        for name in ("compute", "__array__", "persist"):
            watching.setattr(da.Array, name, guarded(name))
        clf.fit(dX, dy, sample_weight=da.ones(n, chunks=100))
    assert len(largest) >= clf.n_iter_
    assert max(largest) <= limit
    if n > 400:  # the warm start ran, on the client
        assert max(largest) > (6 + 1) * 3
    ref = GDLogisticClassifier(max_iter=15, multi_class="multinomial", **params)
    if not params.get("early_stopping"):
        _assert_same(clf, ref.fit(X, y))


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_minibatch_solvers_point_to_incremental(client, solver):
    X, y = _data(2)
    with pytest.raises(ValueError, match=r"dask_ml.wrappers.Incremental"):
        GDLogisticClassifier(solver=solver).fit(da.from_array(X, chunks=50), y)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_early_stopping_holds_out_whole_blocks(client):
    X, y = _data(2, n=600)
    clf = GDLogisticClassifier(early_stopping=True, validation_fraction=0.25,
                               n_iter_no_change=3, max_iter=60, random_state=0)
    clf.fit(da.from_array(X, chunks=(100, 4)), y)
    assert len(clf.validation_scores_) == clf.n_iter_
    assert 0.5 < clf.best_validation_score_ <= 1.0
    # The score is the accuracy on the held-out blocks (2 of 6, drawn by
    # the random state): recompute it from the best model, in NumPy.
    rng = np.random.RandomState(0)
    val = np.sort(rng.permutation(6)[:2])
    rows = np.concatenate([np.arange(100 * b, 100 * b + 100) for b in val])
    accuracy = np.mean(clf.predict(X[rows]) == y[rows])
    assert accuracy == pytest.approx(clf.best_validation_score_)
    # Weighted: scored with the sample weights, not the class weights (as in
    # the NumPy fit).
    y = (X[:, 0] + 0.3 * X[:, 1] > 1.6).astype(int)  # imbalanced classes
    w = np.random.default_rng(2).uniform(0.2, 2.0, X.shape[0])
    clf = GDLogisticClassifier(early_stopping=True, validation_fraction=0.25,
                               class_weight="balanced", n_iter_no_change=3,
                               max_iter=60, random_state=0)
    clf.fit(da.from_array(X, chunks=(100, 4)), y, sample_weight=w)
    accuracy = np.average(clf.predict(X[rows]) == y[rows], weights=w[rows])
    assert accuracy == pytest.approx(clf.best_validation_score_, rel=1e-12)
    with pytest.raises(ValueError, match="Rechunk X into more row blocks"):
        GDLogisticClassifier(early_stopping=True).fit(
            da.from_array(X, chunks=(600, 4)), y
        )


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda X, y: (np.where(X > 2, np.nan, X), y), "NaN or infinity"),
        (lambda X, y: (X[:, 0], y), "2D dask array"),
        (lambda X, y: (X, y[:-1]), "per row of X"),
        (lambda X, y: (X, np.zeros_like(y)), "only one class"),
        (lambda X, y: (X, y + 0.5), "continuous"),
    ],
)
def test_bad_input_is_named(client, make, match):
    X, y = _data(2)
    X, y = make(X, y)
    dX = da.from_array(X, chunks=50)
    with pytest.raises(ValueError, match=match):
        GDLogisticClassifier().fit(dX, da.from_array(y, chunks=50))


@pytest.mark.parametrize("weights, match", [
    (-np.ones(230), "non-negative"),
    (np.r_[np.ones(115), np.zeros(115)] , "at least 2 classes"),
])
def test_bad_dask_weights_are_named(client, weights, match):
    X, y = _data(2)
    y = np.r_[np.zeros(115, int), np.ones(115, int)]
    with pytest.raises(ValueError, match=match):
        GDLogisticClassifier().fit(da.from_array(X, chunks=50), y,
                                   sample_weight=da.from_array(weights, chunks=50))


def test_failed_dask_fit_keeps_the_model(client):
    X, y = _data(2)
    clf = GDLogisticClassifier(max_iter=5, tol=None).fit(X, y)
    coef = clf.coef_.copy()
    with pytest.raises(ValueError):
        clf.fit(da.from_array(np.where(X > 2, np.inf, X), chunks=50), y)
    np.testing.assert_array_equal(clf.coef_, coef)


def test_separable_data_warn_as_in_numpy(client):
    X, _ = _data(2)
    y = (X[:, 0] > 1.0).astype(int)
    with pytest.warns(Warning, match="perfectly separable"):
        GDLogisticClassifier(penalty=None, max_iter=30, tol=None).fit(
            da.from_array(X, chunks=50), y
        )


def test_route_sums_equal_the_numpy_route(client):
    """DaskRoute's three sums against the NumPy route, weighted and not."""
    from skloss._kernels import NumpyRoute, Rows
    from skloss.losses import SoftmaxCrossEntropy
    from skloss.losses._guard import GuardedLoss

    rng = np.random.default_rng(3)
    X = rng.standard_normal((150, 5))
    Y = np.eye(3)[rng.integers(0, 3, 150)]
    W, shift = rng.standard_normal((5, 3)), rng.standard_normal(3)
    like = np.zeros((6, 3))
    loss = GuardedLoss(SoftmaxCrossEntropy())
    for sw in (None, rng.uniform(size=150)):
        scale = 1.0 / 150 if sw is None else None
        sw = None if sw is None else sw / sw.sum()
        ref = Rows(X, Y, sw, scale, True, np)
        dsw = None if sw is None else da.from_array(sw, chunks=40)
        route, stats = _dask_stats.dask_route_and_statistics(
            da.from_array(X, chunks=(40, 5)), da.from_array(Y, chunks=(40, 3)),
            dsw, scale,
        )
        rows = Rows(None, None, dsw, scale, True, np)
        value, grad = route.loss_gradient(rows, loss, W, shift, like)
        value_ref, grad_ref = NumpyRoute().loss_gradient(ref, loss, W, shift, like)
        assert value == pytest.approx(value_ref, rel=1e-12)
        np.testing.assert_allclose(grad, grad_ref, rtol=1e-12)
        assert route.mean_loss(rows, loss, W, shift) == pytest.approx(
            NumpyRoute().mean_loss(ref, loss, W, shift), rel=1e-12)
        assert route.mean_square(rows, W, shift) == pytest.approx(
            NumpyRoute().mean_square(ref, W, shift), rel=1e-12)
        from skloss._scaling import DataStatistics

        ref_stats = DataStatistics(X, sw, scale, np)
        mean = ref_stats.weighted_mean()
        np.testing.assert_allclose(stats.weighted_mean(), mean, rtol=1e-12)
        np.testing.assert_allclose(stats.column_squares(),
                                   ref_stats.column_squares(), rtol=1e-12)
        assert stats.mean_sq_norm(mean) == pytest.approx(
            ref_stats.mean_sq_norm(mean), rel=1e-12)
        assert stats.max_sq_norm(mean, None) == pytest.approx(
            ref_stats.max_sq_norm(mean, None), rel=1e-12)
        assert stats.is_ordinary()


def _extreme(X):
    X = X.copy()
    X[:, 1] *= 1e300  # its square overflows: rescaled implicitly
    X[:, 2] *= 1e-200
    return X


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_rescaling_of_extreme_columns_equals_numpy(client, sparse, fit_intercept,
                                                   weighted):
    from skloss._scaling import DataStatistics

    X = _extreme(_data(2)[0])
    X[:, 3] = 7e250  # constant: dropped with an intercept
    sw = np.random.default_rng(2).uniform(size=X.shape[0]) if weighted else None
    sw = None if sw is None else sw / sw.sum()
    scale = 1.0 / X.shape[0] if sw is None else None
    Xs = sp.csr_matrix(X) if sparse else X
    ref = DataStatistics(Xs, sw, scale, np).rescaling(fit_intercept, 1e-3, 0.25)
    dX = (da.from_array(X, chunks=(60, 4)).map_blocks(sp.csr_matrix) if sparse
          else da.from_array(X, chunks=(60, 4)))
    dsw = None if sw is None else da.from_array(sw, chunks=60)
    y = da.from_array(np.zeros((X.shape[0], 1)), chunks=(60, 1))
    _, stats = _dask_stats.dask_route_and_statistics(dX, y, dsw, scale)
    assert not stats.is_ordinary()
    got = stats.rescaling(fit_intercept, 1e-3, 0.25)
    np.testing.assert_array_equal(got.inv_scale, ref.inv_scale)
    np.testing.assert_allclose(got.variances, ref.variances, rtol=1e-9)
    assert got.sq_norm == pytest.approx(ref.sq_norm, rel=1e-9)
    assert got.l2_factor == ref.l2_factor
    if fit_intercept:
        np.testing.assert_allclose(got.mean, ref.mean, rtol=1e-9)
    else:
        assert got.mean is None and ref.mean is None


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("weighted", [False, True])
def test_extreme_magnitudes_same_answer_as_numpy(client, n_classes, weighted):
    # Columns of 1e300 and 1e-200: the same implicit power-of-two rescaling
    # on the cluster as in memory (it used to raise NotImplementedError).
    X, y = _data(n_classes)
    X = _extreme(X)
    w = np.random.default_rng(1).uniform(0.5, 2.0, X.shape[0]) if weighted else None
    got, ref = _fit_both(X, y, sample_weight=w, learning_rate="auto")
    assert np.all(np.isfinite(ref.coef_))
    # Relative: the coefficients of the extreme columns are 1e-300 and 1e190.
    np.testing.assert_allclose(got.coef_, ref.coef_, rtol=1e-6)
    np.testing.assert_allclose(got.intercept_, ref.intercept_, rtol=1e-6)
    assert got.n_iter_ == ref.n_iter_
    np.testing.assert_allclose(got.loss_curve_, ref.loss_curve_, rtol=1e-9)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_same_answer_on_worker_processes():
    X, y = _data(3)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster, distributed.Client(cluster):
        dX = da.from_array(X, chunks=(60, 4)).persist()
        got = GDLogisticClassifier(max_iter=25, multi_class="multinomial",
                                   class_weight="balanced").fit(dX, y)
        # A user's loss travels to the worker processes by reference to its
        # module (importable there, as for any dask task).
        got_user = GDLogisticClassifier(loss=SmoothHinge(), max_iter=10).fit(
            dX, y == 1)
    ref = GDLogisticClassifier(max_iter=25, multi_class="multinomial",
                               class_weight="balanced").fit(X, y)
    _assert_same(got, ref)
    _assert_same(got_user,
                 GDLogisticClassifier(loss=SmoothHinge(), max_iter=10).fit(X, y == 1))


@pytest.mark.parametrize("weighted", [False, True])
def test_strided_views_of_dask_data_are_numpy_costs_of_the_same_rows(
        client, monkeypatch, weighted):
    """The warm start's subsamples come to the client in one computation:
    NumPy costs of the rows a NumPy slice takes, over blocks of any size."""
    from skloss._objective import LinearObjective
    from skloss.losses import LogLoss

    X, y = _data(2, n=230)
    sw = np.random.default_rng(1).uniform(0.5, 2.0, 230) if weighted else None
    dask_obj = LinearObjective(
        LogLoss(), da.from_array(X, chunks=(47, 4)),
        da.from_array(y.astype(float), chunks=47),
        sample_weight=None if sw is None else da.from_array(sw, chunks=47),
    )
    numpy_obj = LinearObjective(LogLoss(), X, y.astype(float), sample_weight=sw)
    computed = []
    real_compute = dask.compute

    def counting(*args, **kwargs):
        computed.append(args)
        return real_compute(*args, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(dask, "compute", counting)
        views = dask_obj.strided_views(16, (0, 8))
    assert len(computed) == 1
    theta = numpy_obj.zeros() + 0.3
    for got, ref in zip(views, numpy_obj.strided_views(16, (0, 8)), strict=True):
        assert isinstance(got.X, np.ndarray) and got.route.name != "dask"
        np.testing.assert_array_equal(got.X, ref.X)
        np.testing.assert_allclose(got.value(theta), ref.value(theta), rtol=1e-12)
    assert dask_obj.strided(16, 8).n_samples == len(range(8, 230, 16))


def test_no_warm_start_views_of_sparse_or_too_large_dask_data(client, monkeypatch):
    from skloss import _dask
    from skloss._objective import LinearObjective
    from skloss.losses import LogLoss

    X, y = _data(2)
    dy = da.from_array(y.astype(float), chunks=50)
    sparse = da.from_array(X, chunks=(50, 4)).map_blocks(sp.csr_matrix)
    assert LinearObjective(LogLoss(), sparse, dy).strided_views(16, (0, 8)) == [
        None, None]
    dense = LinearObjective(LogLoss(), da.from_array(X, chunks=(50, 4)), dy)
    # Two subsamples of 15 and 14 rows of 4 + 1 float64 values: 1,160 bytes.
    monkeypatch.setattr(_dask, "CLIENT_ROWS_MAX_BYTES", 1159)
    assert dense.strided_views(16, (0, 8)) == [None, None]
    monkeypatch.setattr(_dask, "CLIENT_ROWS_MAX_BYTES", 1160)
    assert None not in dense.strided_views(16, (0, 8))


@pytest.mark.parametrize("n_classes, multi_class", [(2, "ovr"), (3, "multinomial")])
@pytest.mark.parametrize("weighted", [False, True])
def test_warm_start_same_steps_as_numpy(client, warm_start_from_160_rows,
                                        monkeypatch, n_classes, multi_class,
                                        weighted):
    """"auto" solves the strided subsample first on dask data too: the same
    epochs, costs and coefficients as the NumPy fit, and the rows that came
    to the client are the two subsamples, never X."""
    from skloss._objective import LinearObjective

    # (At least 16 x 10 rows per coefficient: 3 x 5 of them for 3 classes.)
    X, y = _data(n_classes, n=2400, d=4)
    sw = np.random.default_rng(2).uniform(0.5, 2.0, 2400) if weighted else None
    views = []
    real = LinearObjective.strided_views

    def recording(self, *args):
        out = real(self, *args)
        views.append(out)
        return out

    monkeypatch.setattr(LinearObjective, "strided_views", recording)
    got, ref = _fit_both(X, y, chunks=300, sample_weight=sw, dask_weight=True,
                         multi_class=multi_class, max_iter=100)
    _assert_same(got, ref)
    assert got.n_iter_ < 100
    in_memory, on_dask = views  # _fit_both fits the NumPy data first
    assert None not in on_dask
    assert [v.n_samples for v in on_dask] == [v.n_samples for v in in_memory]
    assert sum(v.n_samples for v in on_dask) == 2400 // 8


# The tasks travel pickled even to in-process workers; module-level names
# are pickled by reference, so the workers record into this list.
_ALIGNED_SEEN = []
_REAL_LOSS_GRADIENT = _block_loss_gradient


def _recording_loss_gradient(X, *args):
    """The epoch's block function, noting whether its X arrived aligned."""
    _ALIGNED_SEEN.append(bool((X.data if sp.issparse(X) else X).flags.aligned))
    return _REAL_LOSS_GRADIENT(X, *args)


@pytest.mark.parametrize("persist", [False, True])
@pytest.mark.parametrize("sparse", [False, True])
def test_misaligned_blocks_are_aligned_on_the_workers(client, monkeypatch, sparse,
                                                      persist):
    """Misaligned blocks make NumPy and BLAS take their slow paths: the
    epoch's block function gets aligned arrays (on the futures path of
    persisted X and on the task-graph path), and the answer is NumPy's."""
    from skloss import _dask

    X, y = _data(2)

    def misaligned(block):
        if not sparse:
            return misaligned_copy(block)
        csr = sp.csr_matrix(block)
        csr.data = misaligned_copy(csr.data)
        return csr

    meta = sp.csr_matrix((0, 4)) if sparse else None
    dX = da.from_array(X, chunks=(60, 4)).map_blocks(
        misaligned, dtype=X.dtype, meta=meta)
    dy = da.from_array(y, chunks=60)
    if persist:
        dX, dy = client.persist([dX, dy])
    part = misaligned(X[:2])
    assert not (part.data if sparse else part).flags.aligned
    _ALIGNED_SEEN.clear()
    monkeypatch.setattr(_dask, "_block_loss_gradient", _recording_loss_gradient)
    got = GDLogisticClassifier(max_iter=20, alpha=1e-3).fit(dX, dy)
    ref = GDLogisticClassifier(max_iter=20, alpha=1e-3).fit(
        sp.csr_matrix(X) if sparse else X, y)
    assert len(_ALIGNED_SEEN) >= got.n_iter_ and all(_ALIGNED_SEEN)
    _assert_same(got, ref)


def test_aligned_leaves_aligned_blocks_alone():
    from skloss._dask import aligned

    X = np.arange(12.0).reshape(4, 3)
    assert aligned(X) is X
    csr = sp.csr_matrix(X)
    assert aligned(csr) is csr
    csr.data = misaligned_copy(csr.data)
    fixed = aligned(csr)
    assert fixed.data.flags.aligned and (fixed != csr).nnz == 0


@pytest.mark.parametrize("weighted", [False, True])
def test_the_input_check_gives_the_unweighted_statistics(client, monkeypatch,
                                                         weighted):
    """Finiteness is read off the column moments, which an unweighted fit's
    statistics then reuse: X is read once for both. Weighted statistics
    take their own reduction; nothing is kept after the fit."""
    from skloss._dask import DaskRoute

    X, y = _data(2)
    sw = np.random.default_rng(3).uniform(0.5, 2.0, X.shape[0]) if weighted else None
    reduced = []
    real = DaskRoute._reduce

    def recording(self, block, *args, **kwargs):
        reduced.append(block.__name__)
        return real(self, block, *args, **kwargs)

    monkeypatch.setattr(DaskRoute, "_reduce", recording)
    got, ref = _fit_both(X, y, sample_weight=sw)
    _assert_same(got, ref)
    assert ("_block_moments" in reduced) == weighted
    assert _dask_stats._KNOWN_MOMENTS == {}
    dX = da.from_array(X, chunks=60)
    with pytest.raises(ValueError, match="at least 2 classes"):
        GDLogisticClassifier().fit(dX, np.zeros(X.shape[0]))
    assert _dask_stats._KNOWN_MOMENTS == {}


def test_fit_without_dask_names_the_extra(request):
    X, y = _data(2)
    dX = da.from_array(X, chunks=50)
    request.getfixturevalue("without_dask")  # after the dask array exists
    with pytest.raises(ImportError, match=r"skloss\[dask\]"):
        GDLogisticClassifier().fit(dX, y)


def test_warnings_point_at_the_users_line(client):
    from sklearn.exceptions import ConvergenceWarning

    X, y = _data(2)
    dX = da.from_array(X, chunks=50)
    with pytest.warns(ConvergenceWarning, match="did not converge") as record:
        GDLogisticClassifier(max_iter=2).fit(dX, y)
    assert record[0].filename == __file__
    sep = (X[:, 0] > 1.0).astype(int)
    with pytest.warns(ConvergenceWarning, match="separable") as record:
        GDLogisticClassifier(penalty=None, max_iter=30, tol=None).fit(dX, sep)
    assert record[0].filename == __file__


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_partial_fit_continues_a_dask_fit(client):
    X, y = _data(3)
    params = dict(max_iter=10, class_weight="balanced", solver="gd")
    got = GDLogisticClassifier(**params).fit(da.from_array(X, chunks=50), y)
    ref = GDLogisticClassifier(**params).fit(X, y)
    for est in (got, ref):
        est.partial_fit(X[:100], y[:100])
    _assert_same(got, ref)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.skipif(
    __import__("os").environ.get("SCIPY_ARRAY_API") != "1",
    reason="array API dispatch needs SCIPY_ARRAY_API=1 (set in conftest.py)",
)
def test_array_api_dispatch_leaves_the_dask_fit_in_numpy(client):
    import sklearn

    X, y = _data(3)
    ref = GDLogisticClassifier(max_iter=10).fit(X, y)
    with sklearn.config_context(array_api_dispatch=True):
        got = GDLogisticClassifier(max_iter=10).fit(da.from_array(X, chunks=50), y)
    assert type(got.coef_) is np.ndarray
    _assert_same(got, ref)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_large_blocks_take_the_cache_blocked_route(client):
    """Blocks over 2 MB are evaluated by the NumPy fit's blocked route."""
    from skloss._kernels import route

    X, y = _data(3, n=60_000, d=10)
    assert route(X[:30_000], y[:30_000].astype(float)).name == "blocked"
    # (nesterov: the blocked loss_gradient and mean_loss both run.)
    got, ref = _fit_both(X, y, chunks=30_000, max_iter=4, multi_class="multinomial",
                         solver="nesterov")
    _assert_same(got, ref)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("sparse", [False, True])
def test_newton_direction_sums_over_blocks(client, weighted, sparse):
    # The Newton step of gd "auto"'s finish, its system summed block by
    # block on the workers, equals the in-memory one.
    from skloss._objective import LinearObjective
    from skloss._penalties import make_penalty
    from skloss.losses import SquaredHinge

    X, y = _data(2)
    X[X < 0.0] = 0.0
    y = y.astype(float)
    w = np.random.RandomState(1).uniform(0.5, 2.0, len(y)) if weighted else None
    dX = da.from_array(X, chunks=(60, X.shape[1]))
    if sparse:
        dX = dX.map_blocks(sp.csr_matrix)
    params = dict(penalty=make_penalty("l2", 1e-2))
    ref = LinearObjective(SquaredHinge(), sp.csr_matrix(X) if sparse else X, y,
                          sample_weight=w, **params)
    got = LinearObjective(
        SquaredHinge(), dX, da.from_array(y, chunks=60),
        sample_weight=None if w is None else da.from_array(w, chunks=60), **params,
    )
    model = np.random.RandomState(2).standard_normal((X.shape[1] + 1, 1)) * 0.3
    expected = ref.to_model(ref.newton_direction(ref.from_model(model)))
    step = got.to_model(got.newton_direction(got.from_model(model)))
    np.testing.assert_allclose(step, expected, rtol=1e-10, atol=1e-12)
    # With the gradient given, the blocks compute the Hessian alone.
    theta = got.from_model(model)
    step = got.to_model(got.newton_direction(
        theta, got.smooth_value_gradient(theta)[1]))
    np.testing.assert_allclose(step, expected, rtol=1e-10, atol=1e-12)
