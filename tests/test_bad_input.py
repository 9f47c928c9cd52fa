"""Bad input: every case raises a clear error and a fitted model survives it.

Each case asserts the error type and that the message names the problem
(a regular expression on the message). Every case that can be triggered on
an already fitted model is run twice: on a fresh estimator, and on a fitted
one, which must come out bit-identical (same ``coef_``, same predictions,
same fitted attributes).
"""

import pickle
import re

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import (
    InvalidParameterError,
    generate_invalid_param_val,
    make_constraint,
)
from sklearn.utils.estimator_checks import check_param_validation

from skloss import (
    DivergenceError,
    GDLogisticClassifier,
    Loss,
    LossContractError,
    check_loss,
    register_loss,
)
from skloss.losses import get_loss, get_loss_class, unregister_loss

RNG = np.random.default_rng(0)
X = RNG.normal(size=(40, 3))
Y = np.where(X[:, 0] + 0.5 * RNG.normal(size=40) > 0, 1, 0)
Y3 = np.digitize(X[:, 1], [-0.5, 0.5])  # three classes


def _with(value, where=(0, 0), base=X):
    out = base.copy()
    out[where] = value
    return out


class _SquaredHinge(Loss):
    """A user loss without a probability link or a multinomial form."""

    smoothness = 2.0

    def loss(self, y, raw):
        s = 2 * y - 1
        return np.clip(1 - s * raw, 0, None) ** 2

    def gradient(self, y, raw):
        s = 2 * y - 1
        return -2 * s * np.clip(1 - s * raw, 0, None)


class _NoGradient(Loss):
    """Breaks the contract: no gradient."""

    def loss(self, y, raw):
        return (raw - y) ** 2


class _NoLoss(Loss):
    """Breaks the contract: no loss."""

    def gradient(self, y, raw):
        return 2 * (raw - y)


class _ShortGradient(_SquaredHinge):
    """Breaks the contract: one gradient entry too few."""

    def gradient(self, y, raw):
        return super().gradient(y, raw)[:-1]


class _ColumnGradient(_SquaredHinge):
    """Breaks the contract: a (n, 1) gradient for (n,) decision values."""

    def gradient(self, y, raw):
        return super().gradient(y, raw)[:, None]


class _ScalarLoss(_SquaredHinge):
    """Breaks the contract: the summed loss instead of one per sample."""

    def loss(self, y, raw):
        return np.sum(super().loss(y, raw))


class _NaNLoss(_SquaredHinge):
    """Breaks the contract: NaN loss at finite decision values."""

    def loss(self, y, raw):
        return super().loss(y, raw) * np.nan


class _InfGradient(_SquaredHinge):
    """Breaks the contract: infinite gradient at finite decision values."""

    def gradient(self, y, raw):
        return super().gradient(y, raw) + np.inf


class _FlatMulticlass(Loss):
    """Breaks the contract: a multiclass loss with a (n,) gradient."""

    multiclass = True
    smoothness = 0.5

    def loss(self, y, raw):
        return np.sum((raw - y) ** 2, axis=1)

    def gradient(self, y, raw):
        return np.sum(2 * (raw - y), axis=1)


# --------------------------------------------------------------------------
# Fit-time cases: (id, estimator parameters, fit arguments, error, message).
# --------------------------------------------------------------------------
N = X.shape[0]
FIT_CASES = [
    # X
    ("X NaN dense", {}, (_with(np.nan), Y), ValueError, r"X contains NaN"),
    ("X inf dense", {}, (_with(np.inf), Y), ValueError, r"X contains infinity"),
    ("X -inf dense", {}, (_with(-np.inf), Y), ValueError, r"X contains infinity"),
    ("X NaN sparse", {}, (sp.csr_matrix(_with(np.nan)), Y), ValueError,
     r"X contains NaN"),
    ("X inf sparse", {}, (sp.csr_matrix(_with(np.inf)), Y), ValueError,
     r"X contains infinity"),
    ("X None entry", {}, (np.where(X > 1.5, None, X).astype(object), Y),
     ValueError, r"X contains NaN"),
    ("X empty", {}, (np.empty((0, 3)), np.empty(0)), ValueError,
     r"0 sample\(s\)"),
    ("X no features", {}, (np.empty((N, 0)), Y), ValueError, r"0 feature\(s\)"),
    ("X 1-D", {}, (X[:, 0], Y), ValueError, r"Expected 2D array, got 1D"),
    ("X 3-D", {}, (X[:, :, None], Y), ValueError, r"dim 3"),
    ("X complex", {}, (X + 1j, Y), ValueError, r"Complex data not supported"),
    ("X strings", {}, (np.full((N, 2), "a"), Y), ValueError,
     r"could not convert string to float"),
    ("X ragged", {}, ([[1.0, 2.0], [3.0]] + [[1.0, 2.0]] * (N - 2), Y),
     ValueError, r"inhomogeneous"),
    # y
    ("y None", {}, (X, None), ValueError, r"requires y to be passed"),
    ("y NaN", {}, (X, np.where(np.arange(N) == 0, np.nan, Y)), ValueError,
     r"y contains NaN"),
    ("y inf", {}, (X, np.where(np.arange(N) == 0, np.inf, Y)), ValueError,
     r"y contains infinity"),
    ("y 2-D", {}, (X, np.column_stack([Y, 1 - Y])), ValueError,
     r"y should be a 1d array"),
    ("y too short", {}, (X, Y[:-1]), ValueError, r"inconsistent numbers of samples"),
    ("y continuous", {}, (X, X[:, 0]), ValueError, r"Unknown label type: continuous"),
    ("y one class", {}, (X, np.zeros(N)), ValueError, r"only one class"),
    ("y mixed types", {}, (X, np.array(["a", 1] * (N // 2), dtype=object)),
     ValueError, r"mix of label types"),
    # sample_weight
    ("sw wrong length", {}, (X, Y, np.ones(N - 1)), ValueError,
     r"sample_weight\.shape == \(39,\), expected \(40,\)"),
    ("sw 2-D", {}, (X, Y, np.ones((N, 2))), ValueError,
     r"Sample weights must be 1D"),
    ("sw NaN", {}, (X, Y, np.where(np.arange(N) == 0, np.nan, 1.0)), ValueError,
     r"sample_weight contains NaN"),
    ("sw inf", {}, (X, Y, np.where(np.arange(N) == 0, np.inf, 1.0)), ValueError,
     r"sample_weight contains infinity"),
    ("sw negative", {}, (X, Y, np.where(np.arange(N) == 0, -1.0, 1.0)),
     ValueError, r"Negative values in data passed to `sample_weight`"),
    ("sw all zero", {}, (X, Y, np.zeros(N)), ValueError,
     r"at least one non-zero"),
    ("sw one class", {}, (X, Y, (Y == 1).astype(float)), ValueError,
     r"at least 2 classes need a positive sample weight"),
    # class_weight
    ("cw unknown label", {"class_weight": {0: 1.0, 1: 1.0, 5: 2.0}}, (X, Y),
     ValueError, r"class_weight.*\[5\].*not classes"),
    ("cw missing + unknown", {"class_weight": {0: 1.0, 7: 2.0}}, (X, Y),
     ValueError, r"class_weight.*\[7\].*not classes"),
    ("cw negative", {"class_weight": {0: -1.0, 1: 2.0}}, (X, Y), ValueError,
     r"class_weight must be finite and non-negative"),
    ("cw NaN", {"class_weight": {0: np.nan, 1: 2.0}}, (X, Y), ValueError,
     r"class_weight must be finite and non-negative"),
    ("cw all zero", {"class_weight": {0: 0.0, 1: 0.0}}, (X, Y), ValueError,
     r"sum to zero"),
    # losses and the problem form
    ("loss unknown name", {"loss": "no_such_loss"}, (X, Y), ValueError,
     r"Unknown loss 'no_such_loss'\. Available losses: \[.*'log_loss'"),
    ("loss multinomial form missing",
     {"loss": _SquaredHinge(), "multi_class": "multinomial"}, (X, Y3),
     ValueError, r"_SquaredHinge has no multinomial form"),
    ("loss multiclass as ovr",
     {"loss": "softmax_cross_entropy", "multi_class": "ovr"}, (X, Y3),
     ValueError, r"no one-vs-rest form"),
    # user losses that break the contract, named at the first evaluation
    ("user loss without gradient", {"loss": _NoGradient()}, (X, Y),
     NotImplementedError, r"_NoGradient must implement gradient\(y, raw\)"),
    ("user loss without loss", {"loss": _NoLoss()}, (X, Y),
     NotImplementedError, r"_NoLoss must implement loss\(y, raw\)"),
    ("user gradient too short", {"loss": _ShortGradient()}, (X, Y), ValueError,
     r"_ShortGradient breaks the loss contract: gradient\(y, raw\) returned "
     r"shape \(39,\), expected the shape of raw \(40,\)"),
    ("user gradient (n, 1)", {"loss": _ColumnGradient()}, (X, Y), ValueError,
     r"_ColumnGradient breaks the loss contract: gradient\(y, raw\) returned "
     r"shape \(40, 1\)"),
    ("user loss scalar", {"loss": _ScalarLoss()}, (X, Y), ValueError,
     r"_ScalarLoss breaks the loss contract: loss\(y, raw\) returned shape "
     r"\(\), expected \(40,\)"),
    ("user loss NaN", {"loss": _NaNLoss()}, (X, Y), ValueError,
     r"_NaNLoss breaks the loss contract: loss\(y, raw\) returned non-finite"),
    ("user gradient inf", {"loss": _InfGradient()}, (X, Y), ValueError,
     r"_InfGradient breaks the loss contract: gradient\(y, raw\) returned "
     r"non-finite"),
    ("user multiclass gradient flat", {"loss": _FlatMulticlass()}, (X, Y3),
     ValueError, r"_FlatMulticlass breaks the loss contract: gradient\(y, raw\) "
     r"returned shape \(40,\), expected the shape of raw \(40, 3\)"),
    ("user loss not a Loss", {"loss": lambda y, raw: raw}, (X, Y),
     InvalidParameterError, r"The 'loss' parameter"),
    # loss hyperparameters out of range
    ("loss gamma negative", {"loss": get_loss_class("focal")(gamma=-1.0)},
     (X, Y), InvalidParameterError,
     r"The 'gamma' parameter of Focal must be a float in the range \[0.0, inf\)"),
    ("loss label_smoothing 2", {"loss": get_loss_class("log_loss")(
        label_smoothing=2.0)}, (X, Y), InvalidParameterError,
     r"The 'label_smoothing' parameter of LogLoss"),
    ("loss pos_weight negative", {"loss": get_loss_class("log_loss")(
        pos_weight=-1.0)}, (X, Y), InvalidParameterError,
     r"The 'pos_weight' parameter of LogLoss"),
    # training
    ("divergence", {"learning_rate": 1e4, "penalty": None}, (100 * X, Y),
     DivergenceError, r"Training diverged at epoch \d+.*step size of at most"),
    ("divergence sgd", {"solver": "sgd", "learning_rate": 1e6, "penalty": None,
                        "random_state": 0}, (100 * X, Y), DivergenceError,
     r"Training diverged at epoch \d+.*learning rate 1e\+06"),
    ("divergence nesterov", {"solver": "nesterov", "learning_rate": 1e6,
                             "penalty": None}, (100 * X, Y), DivergenceError,
     r"Training diverged at epoch \d+.*step size of at most"),
    ("divergence adam", {"solver": "adam", "learning_rate": 1e6,
                         "penalty": None, "random_state": 0}, (100 * X, Y),
     DivergenceError, r"Training diverged at epoch \d+"),
    ("schedule returns NaN", {"schedule": lambda epoch: float("nan"),
                              "learning_rate": 0.1}, (X, Y), ValueError,
     r"returned nan at epoch 0; a schedule must return a positive finite"),
    ("schedule returns negative", {"schedule": lambda epoch: -1.0,
                                   "learning_rate": 0.1}, (X, Y), ValueError,
     r"returned -1.0 at epoch 0; a schedule must return a positive finite"),
    ("early stopping, too few samples", {"early_stopping": True},
     (X[:5], np.array([0, 1, 1, 1, 1])), ValueError,
     r"early_stopping=True could not hold out a stratified"),
]


try:  # pandas inputs (pandas is in the test extra)
    import pandas as _pd
except ImportError:  # pragma: no cover
    _pd = None
if _pd is not None:
    _df = _pd.DataFrame(X, columns=["a", "b", "c"]).astype("Float64")
    _df_na = _df.copy()
    _df_na.iloc[0, 0] = _pd.NA
    _y_na = _pd.Series(Y, dtype="Int64")
    _y_na[0] = _pd.NA
    FIT_CASES += [
        ("X pandas NA", {}, (_df_na, Y), ValueError, r"X contains NaN"),
        ("X pandas categorical strings", {},
         (_pd.DataFrame(X, columns=["a", "b", "c"]).assign(
             c=_pd.Categorical(["u", "v"] * (N // 2))), Y), ValueError,
         r"could not convert string to float: 'u'"),
        ("y pandas NA", {}, (_df, _y_na), ValueError, r"y contains NaN"),
    ]
FIT_CASES += [
    ("y None labels", {}, (X, np.array([None, "a"] * (N // 2), dtype=object)),
     ValueError, r"Unknown label type: unknown"),
    ("sw strings", {}, (X, Y, ["heavy"] * N), ValueError,
     r"could not convert string to float: 'heavy'"),
]


def _fit(est, args):
    X_, y_, *rest = args
    sw = rest[0] if rest else None
    return est.fit(X_, y_, sample_weight=sw)


def _snapshot(est):
    """Everything a fitted model holds that a failed call must not touch."""
    state = {}
    for key, value in vars(est).items():
        if isinstance(value, np.ndarray):
            state[key] = (value.dtype, value.shape, value.tobytes())
        elif isinstance(value, (list, dict)):
            # Deep: solver state (epoch counts, momentum buffers, random
            # generators) must not be advanced by a failed call either.
            state[key] = pickle.dumps(value)
        else:
            state[key] = value
    return state


def _fitted_reference(**params):
    est = GDLogisticClassifier(**params).fit(X, Y)
    return est, _snapshot(est), est.predict(X), est.decision_function(X)


def _assert_unchanged(est, snapshot, pred, dec):
    after = _snapshot(est)
    assert after.keys() == snapshot.keys()
    for key in snapshot:
        if isinstance(snapshot[key], Loss):  # compare a loss by its parameters
            assert type(after[key]) is type(snapshot[key])
            assert after[key].get_params() == snapshot[key].get_params()
            continue
        assert after[key] == snapshot[key] or after[key] is snapshot[key], key
    np.testing.assert_array_equal(est.predict(X), pred)
    np.testing.assert_array_equal(est.decision_function(X), dec)


@pytest.mark.parametrize(
    "params, args, error, match",
    [case[1:] for case in FIT_CASES],
    ids=[case[0] for case in FIT_CASES],
)
def test_bad_fit_input(params, args, error, match):
    # A fresh estimator raises the error ...
    with pytest.raises(error, match=match):
        _fit(GDLogisticClassifier(**params), args)
    # ... and so does a fitted one, which comes out bit-identical.
    est, snap, pred, dec = _fitted_reference()
    est.set_params(**params)
    with pytest.raises(error, match=match):
        _fit(est, args)
    est.set_params(**{k: GDLogisticClassifier().get_params()[k] for k in params})
    _assert_unchanged(est, snap, pred, dec)


def test_case_count():
    """The reliability page quotes these numbers; keep them honest."""
    assert len(FIT_CASES) >= 50
    total = (len(FIT_CASES) + len(PREDICT_CASES) + len(REFIT_CASES)
             + len(PARTIAL_FIT_CASES))
    assert total >= 80


# --------------------------------------------------------------------------
# A failed refit with data of another shape keeps n_features_in_ and the
# feature names of the previous fit (validate_data resets them early).
# --------------------------------------------------------------------------
REFIT_CASES = [
    ("other width, one class", {}, (X[:, :2], np.zeros(N)), ValueError,
     r"only one class"),
    ("other width, bad sample_weight", {}, (X[:, :2], Y, -np.ones(N)),
     ValueError, r"Negative values"),
    ("other width, unknown loss", {"loss": "nope"}, (X[:, :2], Y), ValueError,
     r"Unknown loss 'nope'"),
    ("warm_start other classes", {"warm_start": True}, (X, Y + 1), ValueError,
     r"warm_start=True needs the same classes.*classes \[0 1\].*got classes \[1 2\]"),
    ("warm_start other width", {"warm_start": True}, (X[:, :2], Y), ValueError,
     r"warm_start=True needs the same .*number of features.*3 features\), got "
     r"classes \[0 1\] and 2 features"),
    ("warm_start multiclass", {"warm_start": True}, (X, Y3), ValueError,
     r"warm_start=True needs the same classes"),
    ("divergence on fitted", {"learning_rate": 1e4, "penalty": None},
     (100 * X, Y), DivergenceError, r"diverged"),
]


@pytest.mark.parametrize(
    "params, args, error, match",
    [case[1:] for case in REFIT_CASES],
    ids=[case[0] for case in REFIT_CASES],
)
def test_failed_refit_keeps_model(params, args, error, match):
    est, snap, pred, dec = _fitted_reference()
    est.set_params(**params)
    with pytest.raises(error, match=match):
        _fit(est, args)
    est.set_params(**{k: GDLogisticClassifier().get_params()[k] for k in params})
    _assert_unchanged(est, snap, pred, dec)


def test_failed_refit_keeps_feature_names():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    est = GDLogisticClassifier().fit(df, Y)
    coef = est.coef_.copy()
    with pytest.raises(ValueError, match="only one class"):
        est.fit(X[:, :2], np.zeros(N))
    assert list(est.feature_names_in_) == ["a", "b", "c"]
    assert est.n_features_in_ == 3
    np.testing.assert_array_equal(est.coef_, coef)
    np.testing.assert_array_equal(est.predict(df), GDLogisticClassifier().fit(
        df, Y).predict(df))


# --------------------------------------------------------------------------
# Predict-time cases on a fitted model: (id, method, X, error, message).
# --------------------------------------------------------------------------
PREDICT_CASES = [
    ("predict NaN dense", "predict", _with(np.nan), ValueError, r"X contains NaN"),
    ("predict inf dense", "predict", _with(np.inf), ValueError,
     r"X contains infinity"),
    ("predict NaN sparse", "predict", sp.csr_matrix(_with(np.nan)), ValueError,
     r"X contains NaN"),
    ("predict inf sparse", "predict", sp.csr_matrix(_with(np.inf)), ValueError,
     r"X contains infinity"),
    ("predict_proba NaN", "predict_proba", _with(np.nan), ValueError,
     r"X contains NaN"),
    ("decision_function inf", "decision_function", _with(-np.inf), ValueError,
     r"X contains infinity"),
    ("predict too few features", "predict", X[:, :2], ValueError,
     r"X has 2 features, but GDLogisticClassifier is expecting 3 features"),
    ("predict too many features", "predict_proba", np.hstack([X, X]), ValueError,
     r"X has 6 features, but GDLogisticClassifier is expecting 3 features"),
    ("predict 1-D", "predict", X[0], ValueError, r"Expected 2D array, got 1D"),
    ("predict complex", "decision_function", X + 1j, ValueError,
     r"Complex data not supported"),
    ("predict strings", "predict", np.full((3, 3), "x"), ValueError,
     r"could not convert string to float"),
    ("predict empty", "predict", np.empty((0, 3)), ValueError, r"0 sample\(s\)"),
]


@pytest.mark.parametrize(
    "method, X_bad, error, match",
    [case[1:] for case in PREDICT_CASES],
    ids=[case[0] for case in PREDICT_CASES],
)
def test_bad_predict_input(method, X_bad, error, match):
    est, snap, pred, dec = _fitted_reference()
    with pytest.raises(error, match=match):
        getattr(est, method)(X_bad)
    _assert_unchanged(est, snap, pred, dec)


@pytest.mark.parametrize(
    "method", ["predict", "predict_proba", "predict_log_proba",
               "decision_function", "score"]
)
def test_not_fitted(method):
    est = GDLogisticClassifier()
    args = (X, Y) if method == "score" else (X,)
    with pytest.raises(NotFittedError, match="not fitted yet.*Call 'fit'"):
        getattr(est, method)(*args)


@pytest.mark.filterwarnings("ignore:X does not have valid feature names")
def test_predict_feature_names_mismatch():
    pd = pytest.importorskip("pandas")
    est = GDLogisticClassifier().fit(pd.DataFrame(X, columns=["a", "b", "c"]), Y)
    snap, pred, dec = _snapshot(est), est.predict(X), est.decision_function(X)
    with pytest.raises(ValueError, match="feature names should match"):
        est.predict(pd.DataFrame(X, columns=["a", "b", "z"]))
    _assert_unchanged(est, snap, pred, dec)


def test_predict_proba_without_link():
    est = GDLogisticClassifier(loss=_SquaredHinge()).fit(X, Y)
    with pytest.raises(AttributeError, match="has no attribute 'predict_proba'") as exc:
        est.predict_proba(X)
    # The cause names the loss and the way out.
    assert re.search(
        r"_SquaredHinge has no probability link.*decision_function",
        str(exc.value.__cause__),
    )
    assert not hasattr(est, "predict_log_proba")
    # The decision function is still there and finite.
    assert np.all(np.isfinite(est.decision_function(X)))


@pytest.mark.parametrize("solver", ["gd", "nesterov", "sgd", "adam"])
def test_contract_breach_is_named_before_the_first_epoch(solver, capsys):
    est = GDLogisticClassifier(loss=_ShortGradient(), solver=solver, verbose=1)
    with pytest.raises(ValueError, match="_ShortGradient breaks the loss contract"):
        est.fit(X, Y)
    assert "Epoch" not in capsys.readouterr().out  # no epoch ever ran


@pytest.mark.parametrize(
    "loss", [_ShortGradient(), _ColumnGradient(), _ScalarLoss(), _NaNLoss(),
             _InfGradient()],
    ids=lambda loss: type(loss).__name__,
)
def test_fit_points_to_check_loss_which_finds_the_breach(loss):
    with pytest.raises(ValueError, match=r"skloss\.check_loss\(loss\) tests"):
        GDLogisticClassifier(loss=loss).fit(X, Y)
    with pytest.raises(LossContractError):
        check_loss(loss)


# --------------------------------------------------------------------------
# partial_fit: (id, first call's classes, arguments of a later call, error,
# message). A later call that fails leaves the model as the first call left
# it; a first call without classes fails on a fresh model.
# --------------------------------------------------------------------------
PARTIAL_FIT_CASES = [
    ("new label", (X, Y + 1), ValueError,
     r"partial_fit got labels \[2\] that are not among the classes \[0, 1\]"),
    ("new string label", (X, np.where(Y == 1, "b", "z")), ValueError,
     r"partial_fit got labels \['b', 'z'\] that are not among the classes"),
    ("other number of features", (X[:, :2], Y), ValueError,
     r"X has 2 features, but GDLogisticClassifier is expecting 3 features"),
    ("other classes argument", (X, Y, [0, 1, 2]), ValueError,
     r"`classes=\[0, 1, 2\]` is not the same as on the first call"),
    ("NaN in X", (_with(np.nan), Y), ValueError, r"X contains NaN"),
    ("sparse inf in X", (sp.csr_matrix(_with(np.inf)), Y), ValueError,
     r"X contains infinity"),
    ("y continuous", (X, X[:, 0]), ValueError, r"Unknown label type: continuous"),
    ("negative sample_weight", (X, Y, None, -np.ones(N)), ValueError,
     r"Negative values in data passed to `sample_weight`"),
    ("sample_weight wrong length", (X, Y, None, np.ones(3)), ValueError,
     r"sample_weight\.shape == \(3,\), expected \(40,\)"),
]


def _partial_fit(est, args):
    X_, y_, *rest = args
    classes = rest[0] if rest else None
    sw = rest[1] if len(rest) > 1 else None
    return est.partial_fit(X_, y_, classes=classes, sample_weight=sw)


@pytest.mark.parametrize("start", ["partial_fit", "fit"])
@pytest.mark.parametrize(
    "args, error, match",
    [case[1:] for case in PARTIAL_FIT_CASES],
    ids=[case[0] for case in PARTIAL_FIT_CASES],
)
def test_bad_partial_fit(start, args, error, match):
    est = GDLogisticClassifier(random_state=0)
    if start == "fit":
        est.fit(X, Y)
    else:
        est.partial_fit(X, Y, classes=[0, 1])
    snap, pred, dec = _snapshot(est), est.predict(X), est.decision_function(X)
    with pytest.raises(error, match=match):
        _partial_fit(est, args)
    _assert_unchanged(est, snap, pred, dec)
    # And the model can still go on learning.
    est.partial_fit(X, Y)
    assert est.classes_.tolist() == [0, 1]


@pytest.mark.parametrize(
    "args, match",
    [
        ((X, Y), r"classes must be passed on the first call to partial_fit"),
        ((X, Y, [0]), r"partial_fit needs at least 2 classes in `classes`"),
        ((X, Y, [0, 2]),
         r"partial_fit got labels \[1\] that are not among the classes \[0, 2\]"),
    ],
    ids=["no classes", "one class", "y outside classes"],
)
def test_bad_first_partial_fit(args, match):
    est = GDLogisticClassifier()
    with pytest.raises(ValueError, match=match):
        _partial_fit(est, args)
    assert not hasattr(est, "coef_") and not hasattr(est, "classes_")


def test_partial_fit_divergence_keeps_model():
    est = GDLogisticClassifier(solver="sgd", learning_rate=1e-3, penalty=None,
                               random_state=0)
    est.partial_fit(X, Y, classes=[0, 1])
    snap, pred, dec = _snapshot(est), est.predict(X), est.decision_function(X)
    est.set_params(learning_rate=1e6)
    with pytest.raises(DivergenceError, match="Training diverged"):
        est.partial_fit(100 * X, Y)
    est.set_params(learning_rate=1e-3)
    _assert_unchanged(est, snap, pred, dec)


# --------------------------------------------------------------------------
# Hyperparameters: every constraint, one invalid value each.
# --------------------------------------------------------------------------
def _invalid_params():
    cases = []
    for name, constraints in GDLogisticClassifier._parameter_constraints.items():
        made = [make_constraint(c) for c in constraints]
        for constraint in made:
            try:
                bad = generate_invalid_param_val(constraint)
            except NotImplementedError:
                continue
            if any(c.is_satisfied_by(bad) for c in made):
                continue
            # Ids without the value: generated strings list set members in
            # an order that changes between runs.
            cases.append(pytest.param(name, bad, id=f"{name}-{type(bad).__name__}"))
    # Values the generic generator does not cover.
    cases += [
        pytest.param("loss", 3, id="loss=3"),
        pytest.param("alpha", -1.0, id="alpha=-1"),
        pytest.param("l1_ratio", 1.5, id="l1_ratio=1.5"),
        pytest.param("learning_rate", 0.0, id="learning_rate=0"),
        pytest.param("learning_rate", "fast", id="learning_rate='fast'"),
        pytest.param("max_iter", 0, id="max_iter=0"),
        pytest.param("tol", -1e-3, id="tol=-1e-3"),
        pytest.param("penalty", "l3", id="penalty='l3'"),
        pytest.param("solver", "newton", id="solver='newton'"),
        pytest.param("class_weight", "auto", id="class_weight='auto'"),
        pytest.param("fit_intercept", "yes", id="fit_intercept='yes'"),
    ]
    return cases


@pytest.mark.parametrize("name, value", _invalid_params())
def test_invalid_hyperparameter(name, value):
    est, snap, pred, dec = _fitted_reference()
    est.set_params(**{name: value})
    with pytest.raises(InvalidParameterError, match=rf"The '{name}' parameter"):
        est.fit(X, Y)
    est.set_params(**{name: GDLogisticClassifier().get_params()[name]})
    _assert_unchanged(est, snap, pred, dec)


def test_check_param_validation():
    check_param_validation("GDLogisticClassifier", GDLogisticClassifier())


def test_unknown_nested_loss_parameter():
    est = GDLogisticClassifier()
    with pytest.raises(ValueError, match=r"LogLoss has no hyperparameter.*'gamma'"):
        est.set_params(loss__gamma=2.0)


# --------------------------------------------------------------------------
# The registry.
# --------------------------------------------------------------------------
def test_registry_name_taken():
    with pytest.raises(ValueError, match=r"\['log_loss'\] are already registered"):
        register_loss("log_loss", _SquaredHinge)
    # The built-in is still there.
    assert type(get_loss("log_loss")).__name__ == "LogLoss"


def test_registry_alias_taken():
    with pytest.raises(ValueError, match=r"\['bce'\] are already registered"):
        register_loss("fresh_name_for_test", _SquaredHinge, aliases=("bce",))
    with pytest.raises(ValueError, match="Unknown loss 'fresh_name_for_test'"):
        get_loss("fresh_name_for_test")


def test_registry_not_a_loss():
    with pytest.raises(TypeError, match="expects a subclass of skloss.Loss"):
        register_loss("not_a_loss_for_test", dict)


def test_registry_unknown_name_lists_known():
    with pytest.raises(ValueError, match=r"Available losses: \[.*'log_loss'.*\]"):
        get_loss("log_los")
    with pytest.raises(ValueError, match=r"Unknown loss 'never_registered'"):
        unregister_loss("never_registered")


def test_fit_with_unregistered_name_after_clone():
    register_loss("short_lived_for_test", _SquaredHinge, overwrite=True)
    est = GDLogisticClassifier(loss="short_lived_for_test").fit(X, Y)
    snap, pred, dec = _snapshot(est), est.predict(X), est.decision_function(X)
    unregister_loss("short_lived_for_test")
    with pytest.raises(ValueError, match="Unknown loss 'short_lived_for_test'"):
        est.fit(X, Y)
    _assert_unchanged(est, snap, pred, dec)
    # The fitted model keeps predicting from its own loss instance.
    assert re.search("_SquaredHinge", type(est.loss_).__name__)
    assert clone(est).get_params()["loss"] == "short_lived_for_test"


# --------------------------------------------------------------------------
# Faults mid-training: an exception from inside an epoch (a user loss that
# fails late, an interrupt, memory exhaustion) leaves a fitted model intact.
# --------------------------------------------------------------------------
class _FailsLater(_SquaredHinge):
    """A loss that raises ``error`` on its ``after``-th gradient call."""

    def __init__(self, after=5, error="KeyboardInterrupt"):
        self.after = after
        self.error = error

    def loss_gradient(self, y, raw):
        self._calls = getattr(self, "_calls", 0) + 1
        if self._calls >= self.after:
            raise {"KeyboardInterrupt": KeyboardInterrupt,
                   "MemoryError": MemoryError,
                   "RuntimeError": RuntimeError}[self.error]("injected fault")
        return super().loss_gradient(y, raw)


@pytest.mark.parametrize("error", ["KeyboardInterrupt", "MemoryError",
                                   "RuntimeError"])
@pytest.mark.parametrize("call", ["fit", "warm_start fit", "partial_fit"])
@pytest.mark.parametrize("solver", ["gd", "sgd"])
def test_fault_mid_training_keeps_model(error, call, solver):
    est = GDLogisticClassifier(loss=_SquaredHinge(), solver=solver,
                               random_state=0, max_iter=50, tol=None)
    est.fit(X, Y)
    snap, pred, dec = _snapshot(est), est.predict(X), est.decision_function(X)
    # Late in a fit; inside the single epoch of a partial_fit.
    after = 1 if call == "partial_fit" else 4
    est.set_params(loss=_FailsLater(after=after, error=error),
                   warm_start=call == "warm_start fit")
    exc_type = {"KeyboardInterrupt": KeyboardInterrupt,
                "MemoryError": MemoryError, "RuntimeError": RuntimeError}[error]
    with pytest.raises(exc_type, match="injected fault"):
        if call == "partial_fit":
            est.partial_fit(X, Y)
        else:
            est.fit(X, Y)
    est.set_params(loss=_SquaredHinge(), warm_start=False)
    _assert_unchanged(est, snap, pred, dec)
    # The estimator is still usable: training again works.
    est.partial_fit(X, Y)
    assert np.all(np.isfinite(est.coef_))
