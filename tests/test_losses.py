"""Each built-in loss against its formula, written out here independently.

The reference formulas below use plain NumPy/SciPy on moderate raw values
(where the naive formulas are accurate); they never call the loss classes.
Gradients are also compared with central finite differences and, where
PyTorch is installed, with autograd of PyTorch's own implementations.
"""

import warnings

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.special import expit, softmax
from sklearn.exceptions import ConvergenceWarning

from skloss import GDLogisticClassifier, available_losses, get_loss
from skloss.losses._registry import is_builtin

BUILTIN = [n for n, i in available_losses().items() if is_builtin(i["class"])]
BINARY = [n for n in BUILTIN if not available_losses()[n]["multiclass"]]
MULTICLASS = [n for n in BUILTIN if available_losses()[n]["multiclass"]]


def _binary_data(rng, shape=(200,)):
    y = rng.integers(0, 2, size=shape).astype(float)
    raw = rng.normal(scale=2.5, size=shape)
    return y, raw


def _onehot_data(rng, n=100, k=4):
    y = np.zeros((n, k))
    y[np.arange(n), rng.integers(0, k, size=n)] = 1.0
    raw = rng.normal(scale=2.5, size=(n, k))
    return y, raw


# -- reference formulas (value, gradient) ----------------------------------


def ref_log_loss(y, r, label_smoothing=0.0, pos_weight=1.0):
    t = y * (1 - label_smoothing) + label_smoothing / 2
    p = expit(r)
    value = -(pos_weight * t * np.log(p) + (1 - t) * np.log(1 - p))
    grad = pos_weight * t * (p - 1) + (1 - t) * p
    return value, grad


def ref_hinge(y, r):
    s = 2 * y - 1
    return np.maximum(0, 1 - s * r), np.where(s * r < 1, -s, 0.0)


def ref_squared_hinge(y, r):
    s = 2 * y - 1
    m = np.maximum(0, 1 - s * r)
    return m**2, -2 * s * m


def ref_perceptron(y, r):
    s = 2 * y - 1
    return np.maximum(0, -s * r), np.where(s * r < 0, -s, 0.0)


def ref_modified_huber(y, r):
    s = 2 * y - 1
    z = s * r
    value = np.where(z >= -1, np.maximum(0, 1 - z) ** 2, -4 * z)
    grad = np.where(z >= -1, -2 * s * np.maximum(0, 1 - z), -4 * s)
    return value, grad


def ref_focal(y, r, gamma=2.0, alpha=None):
    # torchvision.ops.sigmoid_focal_loss, line by line.
    p = expit(r)
    ce = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    p_t = p * y + (1 - p) * (1 - y)
    value = ce * (1 - p_t) ** gamma
    # d/dr: dce = p - y, d(1 - p_t) = (1 - 2y) p (1 - p).
    grad = (p - y) * (1 - p_t) ** gamma + gamma * ce * (1 - p_t) ** (
        gamma - 1
    ) * (1 - 2 * y) * p * (1 - p)
    if alpha is not None:
        a_t = alpha * y + (1 - alpha) * (1 - y)
        value, grad = a_t * value, a_t * grad
    return value, grad


def ref_exponential(y, r):
    s = 2 * y - 1
    return np.exp(-s * r), -s * np.exp(-s * r)


def ref_brier(y, r):
    p = expit(r)
    return (p - y) ** 2, 2 * (p - y) * p * (1 - p)


def ref_softmax_cross_entropy(y, r, label_smoothing=0.0):
    k = y.shape[1]
    t = (1 - label_smoothing) * y + label_smoothing / k
    p = softmax(r, axis=1)
    return -(t * np.log(p)).sum(axis=1), p - t


def ref_multiclass_focal(y, r, gamma=2.0):
    p = softmax(r, axis=1)
    value = -(y * (1 - p) ** gamma * np.log(p)).sum(axis=1)
    # d l / d p_k, then through the softmax Jacobian diag(p) - p p^T.
    dl_dp = y * (gamma * (1 - p) ** (gamma - 1) * np.log(p) - (1 - p) ** gamma / p)
    grad = p * dl_dp - p * (p * dl_dp).sum(axis=1, keepdims=True)
    return value, grad


def ref_multiclass_hinge(y, r):
    t = y.argmax(axis=1)
    rows = np.arange(len(t))
    others = r.copy()
    others[rows, t] = -np.inf
    j = others.argmax(axis=1)
    value = np.maximum(0, 1 + others[rows, j] - r[rows, t])
    grad = np.zeros_like(r)
    active = value > 0
    grad[rows[active], j[active]] = 1.0
    grad[rows[active], t[active]] = -1.0
    return value, grad


REFERENCES = {
    "log_loss": (ref_log_loss, {}),
    "hinge": (ref_hinge, {}),
    "squared_hinge": (ref_squared_hinge, {}),
    "perceptron": (ref_perceptron, {}),
    "modified_huber": (ref_modified_huber, {}),
    "focal": (ref_focal, {}),
    "exponential": (ref_exponential, {}),
    "brier": (ref_brier, {}),
    "softmax_cross_entropy": (ref_softmax_cross_entropy, {}),
    "multiclass_focal": (ref_multiclass_focal, {}),
    "multiclass_hinge": (ref_multiclass_hinge, {}),
}

# Hyperparameter settings checked beyond the defaults.
VARIANTS = [
    ("log_loss", {"label_smoothing": 0.2}),
    ("log_loss", {"pos_weight": 3.0}),
    ("log_loss", {"label_smoothing": 0.1, "pos_weight": 0.5}),
    ("focal", {"gamma": 0.0}),
    ("focal", {"gamma": 0.5, "alpha": 0.25}),
    ("focal", {"gamma": 5.0, "alpha": 0.9}),
    ("softmax_cross_entropy", {"label_smoothing": 0.3}),
    ("multiclass_focal", {"gamma": 0.0}),
    ("multiclass_focal", {"gamma": 0.5}),
    ("multiclass_focal", {"gamma": 3.0}),
]


def test_every_builtin_has_a_reference():
    assert sorted(REFERENCES) == sorted(BUILTIN)


@pytest.mark.parametrize(
    "name, params",
    [(n, {}) for n in sorted(REFERENCES)] + VARIANTS,
    ids=lambda v: str(v) if isinstance(v, dict) else v,
)
def test_value_and_gradient_match_the_formula(name, params, rng):
    ref, _ = REFERENCES[name]
    loss = get_loss(name, **params)
    shapes = [(200,), (60, 3)] if not loss.multiclass else [None]
    for shape in shapes:
        if loss.multiclass:
            y, raw = _onehot_data(rng)
        else:
            y, raw = _binary_data(rng, shape)
        want_value, want_grad = ref(y, raw, **params)
        value, grad = loss.loss_gradient(y, raw)
        np.testing.assert_allclose(loss.loss(y, raw), want_value, rtol=1e-10,
                                   atol=1e-12)
        np.testing.assert_allclose(loss.gradient(y, raw), want_grad, rtol=1e-9,
                                   atol=1e-12)
        np.testing.assert_allclose(value, want_value, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(grad, want_grad, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(
    "name, params",
    [(n, {}) for n in sorted(REFERENCES)] + VARIANTS,
    ids=lambda v: str(v) if isinstance(v, dict) else v,
)
def test_gradient_matches_central_differences(name, params, rng):
    loss = get_loss(name, **params)
    if loss.multiclass:
        y, raw = _onehot_data(rng, n=50, k=3)
    else:
        y, raw = _binary_data(rng, (50, 3))
    grad = loss.gradient(y, raw)
    h = 1e-6
    for j in range(raw.shape[1]):
        step = np.zeros_like(raw)
        step[:, j] = h
        up, down = loss.loss(y, raw + step), loss.loss(y, raw - step)
        if not loss.multiclass:
            up, down = up[:, j], down[:, j]
        fd = (up - down) / (2 * h)
        np.testing.assert_allclose(grad[:, j], fd, rtol=1e-5, atol=1e-7)


def test_textbook_binary_cross_entropy():
    loss = get_loss("bce")
    # yhat = 0 for y = 0: the loss is 0 (raw -> -inf; -50 is far enough).
    assert loss.loss(np.array([0.0]), np.array([-50.0]))[0] == pytest.approx(
        0.0, abs=1e-20
    )
    # yhat = 0.1 for y = 1: -log(0.1) = 2.302585.
    raw = np.log(0.1 / 0.9)
    assert loss.loss(np.array([1.0]), np.array([raw]))[0] == pytest.approx(
        2.302585, abs=1e-6
    )


def test_sklearn_metrics_agree():
    from sklearn.metrics import brier_score_loss, hinge_loss, log_loss

    rng = np.random.default_rng(3)
    y, raw = _binary_data(rng, (300,))
    p = expit(raw)
    assert get_loss("log_loss").loss(y, raw).mean() == pytest.approx(
        log_loss(y, p), rel=1e-12
    )
    assert get_loss("brier").loss(y, raw).mean() == pytest.approx(
        brier_score_loss(y, p), rel=1e-12
    )
    assert get_loss("hinge").loss(y, raw).mean() == pytest.approx(
        hinge_loss(2 * y - 1, raw), rel=1e-12
    )


def test_modified_huber_probabilities_match_sgdclassifier():
    from sklearn.linear_model import SGDClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 2))
    y = (X[:, 0] > 0).astype(int)
    sgd = SGDClassifier(loss="modified_huber", random_state=0).fit(X, y)
    raw = sgd.decision_function(X)
    np.testing.assert_allclose(
        get_loss("modified_huber").predict_proba(raw), sgd.predict_proba(X)[:, 1]
    )


def test_exponential_tangent_beyond_the_cap():
    loss = get_loss("exponential")
    y = np.array([1.0, 1.0, 0.0])
    raw = np.array([-30.0, -40.0, 45.0])
    cap = np.exp(30.0)
    np.testing.assert_allclose(
        loss.loss(y, raw), [cap, cap * (1 + 10.0), cap * (1 + 15.0)], rtol=1e-12
    )
    np.testing.assert_allclose(loss.gradient(y, raw), [-cap, -cap, cap], rtol=1e-12)
    # Probabilities are sigmoid(2 raw) (Friedman, Hastie & Tibshirani 2000).
    np.testing.assert_allclose(loss.predict_proba(raw), expit(2 * raw))


def test_two_class_multinomial_forms_equal_the_binary_losses(rng):
    y, raw = _binary_data(rng, (100,))
    onehot = np.column_stack([1 - y, y])
    raw2 = np.column_stack([np.zeros_like(raw), raw])
    pairs = [
        ("log_loss", "softmax_cross_entropy", {}),
        ("focal", "multiclass_focal", {"gamma": 1.5}),
        ("hinge", "multiclass_hinge", {}),
    ]
    for binary, multi, params in pairs:
        b = get_loss(binary, **params)
        m = get_loss(multi, **params)
        assert b.multinomial == multi
        np.testing.assert_allclose(m.loss(onehot, raw2), b.loss(y, raw), rtol=1e-10)
        # The gradient with respect to the decision difference r1 - r0.
        g = m.gradient(onehot, raw2)
        np.testing.assert_allclose(g[:, 1], b.gradient(y, raw), rtol=1e-9,
                                   atol=1e-12)
        np.testing.assert_allclose(g.sum(axis=1), 0.0, atol=1e-12)


def test_losses_without_multinomial_form():
    assert get_loss("log_loss", pos_weight=2.0).multinomial is None
    assert get_loss("focal", alpha=0.25).multinomial is None
    for name in ("squared_hinge", "perceptron", "modified_huber", "exponential",
                 "brier"):
        assert get_loss(name).multinomial is None


@pytest.mark.parametrize("name", BINARY)
def test_binary_losses_are_elementwise_for_one_vs_rest(name, rng):
    # The (n, K) one-vs-rest matrix gives, column by column, the 1-D result.
    loss = get_loss(name)
    y, raw = _binary_data(rng, (40, 3))
    value, grad = loss.loss_gradient(y, raw)
    for j in range(3):
        v, g = loss.loss_gradient(y[:, j], raw[:, j])
        np.testing.assert_array_equal(value[:, j], v)
        np.testing.assert_array_equal(grad[:, j], g)


@pytest.mark.parametrize("name", BUILTIN)
@pytest.mark.parametrize("magnitude, dtype", [(1e4, np.float32), (1e4, np.float64)])
def test_extreme_raw_values_stay_finite_and_keep_the_dtype(name, magnitude, dtype):
    loss = get_loss(name)
    rng = np.random.default_rng(1)
    if loss.multiclass:
        y, _ = _onehot_data(rng, n=20, k=3)
    else:
        y, _ = _binary_data(rng, (20,))
    y = y.astype(dtype)
    raw = (np.where(rng.random(y.shape) < 0.5, -1, 1) * magnitude).astype(dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        value, grad = loss.loss_gradient(y, raw)
        outputs = [value, grad, loss.loss(y, raw), loss.gradient(y, raw)]
        if loss.has_proba:
            outputs.append(loss.predict_proba(raw))
    for out in outputs:
        assert out.dtype == dtype
        assert np.all(np.isfinite(out))


def test_flags_of_the_builtin_losses():
    info = available_losses()
    convex = {n for n in BUILTIN if info[n]["convex"]}
    assert convex == {
        "log_loss", "hinge", "squared_hinge", "perceptron", "modified_huber",
        "exponential", "softmax_cross_entropy", "multiclass_hinge",
    }
    smooth = {n for n in BUILTIN if info[n]["smooth"]}
    assert smooth == {
        "log_loss", "squared_hinge", "modified_huber", "focal", "brier",
        "softmax_cross_entropy", "multiclass_focal",
    }
    proba = {n for n in BUILTIN if info[n]["probabilistic"]}
    assert proba == {
        "log_loss", "modified_huber", "focal", "exponential", "brier",
        "softmax_cross_entropy", "multiclass_focal",
    }
    assert set(MULTICLASS) == {
        "softmax_cross_entropy", "multiclass_focal", "multiclass_hinge",
    }
    # gamma = 0 turns focal losses into (convex) cross-entropy.
    assert get_loss("focal", gamma=0.0).is_convex
    assert get_loss("multiclass_focal", gamma=0.0).smoothness == 0.5


@pytest.mark.parametrize("name, params", [
    ("log_loss", {"pos_weight": 4.0}), ("squared_hinge", {}),
    ("modified_huber", {}), ("brier", {}), ("focal", {"gamma": 0.5}),
    ("focal", {"gamma": 2.0}), ("focal", {"gamma": 4.0, "alpha": 0.75}),
])
def test_smoothness_bounds_the_second_derivative(name, params):
    # Second differences of the gradient on a fine grid, both targets.
    loss = get_loss(name, **params)
    r = np.linspace(-30, 30, 60_001)
    for y in (0.0, 1.0):
        g = loss.gradient(np.full_like(r, y), r)
        second = np.abs(np.diff(g) / np.diff(r))
        assert second.max() <= loss.smoothness * (1 + 1e-9)
    if name == "brier":
        # The bound is tight: the maximum is about 0.1541.
        assert second.max() > 0.15


# -- PyTorch as an independent implementation ------------------------------


def test_against_pytorch(rng):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    y, raw = _binary_data(rng, (100,))
    ty = torch.tensor(y)
    tr = torch.tensor(raw, requires_grad=True)
    # BCE with logits, pos_weight.
    out = F.binary_cross_entropy_with_logits(
        tr, ty, pos_weight=torch.tensor(2.5), reduction="none"
    )
    (g,) = torch.autograd.grad(out.sum(), tr)
    loss = get_loss("log_loss", pos_weight=2.5)
    np.testing.assert_allclose(loss.loss(y, raw), out.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(loss.gradient(y, raw), g.numpy(), rtol=1e-9)
    # torchvision's sigmoid_focal_loss, as written there.
    p = torch.sigmoid(tr)
    ce = F.binary_cross_entropy_with_logits(tr, ty, reduction="none")
    p_t = p * ty + (1 - p) * (1 - ty)
    out = ce * ((1 - p_t) ** 2.0)
    a_t = 0.25 * ty + 0.75 * (1 - ty)
    out = a_t * out
    (g,) = torch.autograd.grad(out.sum(), tr)
    loss = get_loss("focal", gamma=2.0, alpha=0.25)
    np.testing.assert_allclose(loss.loss(y, raw), out.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(loss.gradient(y, raw), g.numpy(), rtol=1e-9)
    # Cross-entropy with label smoothing.
    onehot, raw2 = _onehot_data(rng, n=50, k=4)
    tr2 = torch.tensor(raw2, requires_grad=True)
    target = torch.tensor(onehot.argmax(axis=1))
    out = F.cross_entropy(tr2, target, label_smoothing=0.2, reduction="none")
    (g,) = torch.autograd.grad(out.sum(), tr2)
    loss = get_loss("softmax_cross_entropy", label_smoothing=0.2)
    np.testing.assert_allclose(loss.loss(onehot, raw2), out.detach().numpy(),
                               rtol=1e-10)
    np.testing.assert_allclose(loss.gradient(onehot, raw2), g.numpy(), rtol=1e-9,
                               atol=1e-15)
    # Softmax focal loss through autograd.
    logp = torch.log_softmax(tr2, dim=1)
    pt = logp.exp()
    out = -(torch.tensor(onehot) * (1 - pt) ** 1.5 * logp).sum(dim=1)
    (g,) = torch.autograd.grad(out.sum(), tr2)
    loss = get_loss("multiclass_focal", gamma=1.5)
    np.testing.assert_allclose(loss.loss(onehot, raw2), out.detach().numpy(),
                               rtol=1e-10)
    np.testing.assert_allclose(loss.gradient(onehot, raw2), g.numpy(), rtol=1e-9,
                               atol=1e-15)


@pytest.mark.parametrize("name", BUILTIN)
@pytest.mark.parametrize("library", ["array_api_strict", "torch"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_losses_run_on_other_array_libraries(name, library, dtype, rng):
    lib = pytest.importorskip(library)
    from sklearn import config_context

    loss = get_loss(name)
    if loss.multiclass:
        y, raw = _onehot_data(rng, n=10, k=3)
    else:
        y, raw = _binary_data(rng, (10,))
    y, raw = y.astype(dtype), raw.astype(dtype)
    to = (lambda a: lib.asarray(a)) if library == "array_api_strict" else (
        lambda a: lib.from_numpy(a.copy()))
    with config_context(array_api_dispatch=True):
        value, grad = loss.loss_gradient(to(y), to(raw))
        proba = loss.predict_proba(to(raw)) if loss.has_proba else None
    for out in (value, grad) + ((proba,) if proba is not None else ()):
        assert type(out).__module__.split(".")[0] == library
        assert str(out.dtype).endswith(dtype)
    want_value, want_grad = loss.loss_gradient(y, raw)
    rtol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(np.asarray(value), want_value, rtol=rtol, atol=1e-6)
    np.testing.assert_allclose(np.asarray(grad), want_grad, rtol=rtol, atol=1e-6)
    if proba is not None:
        np.testing.assert_allclose(np.asarray(proba), loss.predict_proba(raw),
                                   rtol=rtol, atol=1e-6)


# -- optimum of the hinge loss with l2 against a quadratic program ---------


def test_hinge_l2_matches_an_independent_qp():
    rng = np.random.default_rng(0)
    n, d = 40, 3
    X = rng.normal(size=(n, d))
    y = (X @ np.array([1.0, -2.0, 0.5]) + 0.8 * rng.normal(size=n) > 0).astype(int)
    s = 2 * y - 1
    alpha = 0.05

    def primal(w, b):
        return np.maximum(0, 1 - s * (X @ w + b)).mean() + 0.5 * alpha * w @ w

    # min (1/n) sum xi + alpha/2 |w|^2  s.t.  xi >= 1 - s (Xw + b), xi >= 0.
    def objective(v):
        return v[d + 1:].mean() + 0.5 * alpha * v[:d] @ v[:d]

    def objective_grad(v):
        return np.hstack([alpha * v[:d], 0.0, np.full(n, 1.0 / n)])

    margin = {
        "type": "ineq",
        "fun": lambda v: v[d + 1:] - (1 - s * (X @ v[:d] + v[d])),
        "jac": lambda v: np.hstack([s[:, None] * X, s[:, None], np.eye(n)]),
    }
    positive = {
        "type": "ineq",
        "fun": lambda v: v[d + 1:],
        "jac": lambda v: np.hstack([np.zeros((n, d + 1)), np.eye(n)]),
    }
    v0 = np.concatenate([np.zeros(d + 1), np.ones(n)])
    qp = minimize(objective, v0, jac=objective_grad, constraints=[margin, positive],
                  method="SLSQP", options={"ftol": 1e-14, "maxiter": 1000})
    assert qp.success
    w_ref, b_ref = qp.x[:d], qp.x[d]

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ConvergenceWarning either
        clf = GDLogisticClassifier(
            loss="hinge", alpha=alpha, tol=1e-10, n_iter_no_change=20
        ).fit(X, y)
    w, b = clf.coef_.ravel(), clf.intercept_[0]
    # Gradient descent on a non-smooth cost stops near, not at, the optimum
    # (about 2e-4 above it here).
    assert primal(w, b) == pytest.approx(qp.fun, rel=1e-3)
    assert primal(w, b) >= qp.fun - 1e-9
    np.testing.assert_allclose(np.append(w, b), np.append(w_ref, b_ref), atol=0.1)
    clear = np.abs(X @ w_ref + b_ref) > 0.1
    np.testing.assert_array_equal(clf.predict(X)[clear], (X @ w_ref + b_ref > 0)[clear])


def test_perceptron_as_the_batch_perceptron_algorithm():
    # The recommended setting (see Perceptron's docstring) separates
    # separable data; the default descent solver stays near the zero model.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2))
    y = (X @ np.array([1.0, 2.0]) + 0.3 > 0).astype(int)
    with warnings.catch_warnings():
        # The separable-data warning (penalty=None) is beside the point here.
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = GDLogisticClassifier(
            loss="perceptron", learning_rate=1.0, penalty=None, tol=None,
            max_iter=200,
        ).fit(X, y)
    assert clf.score(X, y) >= 0.98
