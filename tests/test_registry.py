"""The loss registry: names, aliases, overwriting, lookup, capabilities."""

import numpy as np
import pytest

from skloss import Loss, available_losses, get_loss, register_loss, unregister_loss
from skloss.losses import Hinge, LogLoss, _registry, canonical_name, get_loss_class


class _Square(Loss):
    smoothness = 2.0

    def __init__(self, scale=1.0):
        self.scale = scale

    def loss(self, y, raw):
        return self.scale * (raw - y) ** 2

    def gradient(self, y, raw):
        return 2 * self.scale * (raw - y)


@pytest.fixture
def cleanup():
    names = []
    yield names
    for name in names:
        if _registry.is_registered(name):
            unregister_loss(name)


def test_plain_call_and_aliases(cleanup):
    cleanup.append("reg_square")
    assert register_loss("reg_square", _Square, aliases=("reg_sq",)) is _Square
    assert isinstance(get_loss("reg_sq"), _Square)
    assert canonical_name("reg_sq") == "reg_square"
    assert get_loss("reg_square", scale=3.0).scale == 3.0
    info = available_losses()["reg_square"]
    assert info["aliases"] == ("reg_sq",)
    assert info["hyperparameters"] == ["scale"]
    assert (info["convex"], info["smooth"], info["probabilistic"],
            info["multiclass"]) == (True, True, False, False)


def test_decorator(cleanup):
    cleanup.append("reg_decorated")

    @register_loss("reg_decorated")
    class Decorated(_Square):
        pass

    assert get_loss_class("reg_decorated") is Decorated


def test_taken_name_raises_unless_overwrite(cleanup):
    cleanup.append("reg_taken")
    register_loss("reg_taken", _Square)
    with pytest.raises(ValueError, match=r"reg_taken.*already registered.*"
                       r"overwrite=True"):
        register_loss("reg_taken", Hinge)
    # A taken alias counts too, and built-in names are protected the same way.
    with pytest.raises(ValueError, match="already registered"):
        register_loss("reg_other", Hinge, aliases=("reg_taken",))
    assert not _registry.is_registered("reg_other")
    with pytest.raises(ValueError, match="log_loss"):
        register_loss("log_loss", _Square)
    assert get_loss_class("log_loss") is LogLoss
    register_loss("reg_taken", Hinge, overwrite=True)
    assert get_loss_class("reg_taken") is Hinge


def test_overwriting_an_alias_keeps_the_rest(cleanup):
    cleanup.extend(["reg_a", "reg_c"])
    register_loss("reg_a", _Square, aliases=("reg_b",))
    register_loss("reg_c", Hinge, aliases=("reg_b",), overwrite=True)
    assert get_loss_class("reg_a") is _Square
    assert get_loss_class("reg_b") is Hinge
    assert available_losses()["reg_a"]["aliases"] == ()


def test_unregister_removes_every_alias(cleanup):
    register_loss("reg_gone", _Square, aliases=("reg_gone2",))
    unregister_loss("reg_gone2")
    for name in ("reg_gone", "reg_gone2"):
        with pytest.raises(ValueError, match="Unknown loss"):
            get_loss(name)


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError) as exc:
        get_loss("no_such_loss")
    message = str(exc.value)
    assert "'no_such_loss'" in message
    for name in ("log_loss", "hinge", "focal", "softmax_cross_entropy"):
        assert name in message
    assert "register_loss" in message


@pytest.mark.parametrize("bad", [object, int, LogLoss(), "log_loss"])
def test_only_loss_subclasses_register(bad):
    with pytest.raises(TypeError, match="subclass of skloss.Loss"):
        register_loss("reg_bad", bad)


@pytest.mark.parametrize("name", ["", None, 3])
def test_names_must_be_non_empty_strings(name):
    with pytest.raises(TypeError, match="non-empty strings"):
        register_loss(name, _Square)


def test_get_loss_on_an_instance_sets_params():
    loss = LogLoss()
    assert get_loss(loss) is loss
    assert get_loss(loss, pos_weight=2.0).pos_weight == 2.0


def test_aliases_of_the_builtins():
    for alias, name in [("bce", "log_loss"), ("binary_cross_entropy", "log_loss"),
                        ("multinomial", "softmax_cross_entropy"),
                        ("crammer_singer", "multiclass_hinge"),
                        ("adaboost", "exponential"), ("focal_loss", "focal")]:
        assert canonical_name(alias) == name


def test_available_losses_reports_hyperparameters():
    info = available_losses()
    assert info["log_loss"]["hyperparameters"] == ["label_smoothing", "pos_weight"]
    assert info["focal"]["hyperparameters"] == ["alpha", "gamma"]
    assert info["hinge"]["hyperparameters"] == []
    assert all(isinstance(v["class"], type) for v in info.values())


def test_a_hint_imports_the_loss_on_first_use(cleanup):
    # A pickled estimator leaves hints; the name resolves by importing.
    cleanup.append("reg_hinted")
    _registry.add_hint("reg_hinted", "user_losses.mylosses", "SmoothHinge")
    loss = get_loss("reg_hinted", width=0.5)
    assert type(loss).__name__ == "SmoothHinge" and loss.width == 0.5
    assert _registry.is_registered("reg_hinted")


def test_a_broken_hint_is_an_unknown_loss():
    _registry.add_hint("reg_broken_hint", "no_such_module_xyz", "Nope")
    with pytest.raises(ValueError, match="Unknown loss 'reg_broken_hint'"):
        get_loss("reg_broken_hint")
    # The hint is consumed: it is not tried again.
    assert "reg_broken_hint" not in _registry._HINTS


def test_a_hint_never_shadows_a_registered_name():
    _registry.add_hint("log_loss", "no_such_module_xyz", "Nope")
    assert "log_loss" not in _registry._HINTS
    assert isinstance(get_loss("log_loss"), LogLoss)


def test_builtin_detection():
    assert _registry.is_builtin(LogLoss)
    assert not _registry.is_builtin(_Square)
    assert _registry.registered_name(LogLoss) == "log_loss"
    assert _registry.registered_name(_Square) is None
    # Losses evaluate on plain lists turned into arrays too.
    assert np.allclose(get_loss("hinge").loss(np.zeros(2), np.zeros(2)), 1.0)


def test_get_loss_validates_the_hyperparameters():
    from sklearn.utils._param_validation import InvalidParameterError

    with pytest.raises(InvalidParameterError, match="'gamma' parameter of Focal"):
        get_loss("focal", gamma=-1.0)
    with pytest.raises(InvalidParameterError, match="label_smoothing"):
        get_loss(LogLoss(), label_smoothing=2.0)
    with pytest.raises(TypeError):
        get_loss("hinge", margin=2.0)  # hinge has no hyperparameters


@pytest.mark.parametrize(
    "loss, n_classes, multi_class, expected",
    [
        ("log_loss", 2, "auto", ("LogLoss", "binary")),
        ("log_loss", 3, "auto", ("SoftmaxCrossEntropy", "multinomial")),
        ("log_loss", 3, "ovr", ("LogLoss", "ovr")),
        ("hinge", 3, "auto", ("MulticlassHinge", "multinomial")),
        ("hinge", 3, "ovr", ("Hinge", "ovr")),
        ("focal", 4, "multinomial", ("MulticlassFocal", "multinomial")),
        ("softmax_cross_entropy", 2, "auto", ("SoftmaxCrossEntropy", "multinomial")),
    ],
)
def test_training_form_comes_from_the_registry(loss, n_classes, multi_class, expected):
    from skloss.losses._registry import training_form

    form, mode = training_form(get_loss(loss), n_classes, multi_class)
    assert (type(form).__name__, mode) == expected


def test_training_form_keeps_shared_hyperparameters_and_names_impossible_forms():
    from skloss.losses._registry import training_form

    form, _ = training_form(get_loss("focal", gamma=3.0), 3)
    assert form.gamma == 3.0
    weighted = get_loss("log_loss", pos_weight=2.0)
    assert training_form(weighted, 3) == (weighted, "ovr")
    with pytest.raises(ValueError, match="LogLoss has no multinomial form"):
        training_form(weighted, 3, "multinomial")
    with pytest.raises(ValueError, match="no one-vs-rest form"):
        training_form(get_loss("softmax_cross_entropy"), 3, "ovr")
