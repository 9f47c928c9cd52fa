"""The package's module-level imports follow the layers of DESIGN.md.

Each module imports only from its own layer or the ones below it, and the
import graph has no cycles. Every skloss import is walked, lazy ones inside
functions included: the one lazy import DESIGN.md allows inside the package
(``Loss.__reduce_ex__`` -> ``losses._pickling``) is listed in
``ALLOWED_LAZY`` and checked to stay inside a function. Optional
dependencies (matplotlib, dask, torch, cloudpickle) are outside the package.
"""

import ast
from pathlib import Path

import pytest

import skloss

PACKAGE = Path(skloss.__file__).parent

# Layer of each module (DESIGN.md, "Layers"); a package's __init__ sits in
# its package's layer, except the top-level one, which sits on top.
LAYERS = {
    "skloss._exceptions": 1,
    "skloss._array_api": 1,
    "skloss._parallel": 1,
    "skloss._penalties": 1,
    "skloss._version": 1,
    "skloss.losses": 2,
    "skloss._scaling": 3,
    "skloss._kernels": 3,
    "skloss._views": 3,
    "skloss._newton": 3,
    "skloss._objective": 3,
    "skloss._dask": 3,
    "skloss._dask_stats": 3,
    "skloss.optim": 4,
    "skloss._labels": 5,
    "skloss._dask_fit": 5,
    "skloss._weights": 5,
    "skloss._holdout": 5,
    "skloss._callbacks": 5,
    "skloss._fit_utils": 5,
    "skloss._model": 5,
    "skloss._nested_params": 5,
    "skloss._predict": 5,
    "skloss._persistence": 5,
    "skloss._training": 5,
    "skloss._classifier": 6,
    "skloss.plotting": 7,
    "skloss._skops": 7,
    "skloss.__main__": 7,
    "skloss": 7,
}

# Packages restricted further than "any layer below": optim/ sees layer 1
# only; the objective is passed in, duck-typed, never imported.
ONLY_LAYERS = {"skloss.optim": {1, 4}}

# The one lazy import DESIGN.md allows inside the package: a loss pickles
# through losses._pickling, which sits above losses._base (it imports the
# registry). It must stay inside a function, and is no cycle.
ALLOWED_LAZY = {("skloss.losses._base", "skloss.losses._pickling")}


def _module_name(path):
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(name):
    path = PACKAGE.parent / name.replace(".", "/")
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def _imports(path):
    """Names of the skloss modules that ``path`` imports, anywhere in it."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            subs = {f"{target}.{alias.name}" for alias in node.names}
            subs = {s for s in subs if _is_module(s)}
            found.update(subs)
            if node.module or len(subs) < len(node.names):
                # ``from . import _version`` imports the module only; a name
                # taken from the package itself is an import of the package.
                found.add(target)
    return {m for m in found if m == "skloss" or m.startswith("skloss.")}


def _layer(module):
    while module not in LAYERS:
        module = module.rpartition(".")[0]
    return LAYERS[module]


def _only_layers(module):
    for package, layers in ONLY_LAYERS.items():
        if module == package or module.startswith(package + "."):
            return layers
    return set(range(1, max(LAYERS.values()) + 1))


def _graph():
    return {_module_name(p): _imports(p) for p in sorted(PACKAGE.rglob("*.py"))}


def test_every_module_has_a_layer():
    for module in _graph():
        assert _layer(module)


@pytest.mark.parametrize("module", sorted(_graph()))
def test_imports_go_down(module):
    upward = {
        target
        for target in _graph()[module]
        if (
            _layer(target) > _layer(module)
            or _layer(target) not in _only_layers(module)
        )
    }
    assert not upward, f"{module} (layer {_layer(module)}) imports upward: {sorted(upward)}"


def test_no_import_cycles():
    graph = {
        m: {t for t in ts if (m, t) not in ALLOWED_LAZY}
        for m, ts in _graph().items()
    }
    state = {}

    def visit(node, stack):
        state[node] = "open"
        for nxt in graph.get(node, ()):
            if state.get(nxt) == "open":
                raise AssertionError(" -> ".join(stack[stack.index(nxt) :] + [nxt]))
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = "done"

    for node in graph:
        if node not in state:
            visit(node, [node])


@pytest.mark.parametrize("edge", sorted(ALLOWED_LAZY))
def test_the_allowed_lazy_import_is_inside_a_function(edge):
    module, target = edge
    path = PACKAGE.parent / (module.replace(".", "/") + ".py")
    tree = ast.parse(path.read_text())
    inside = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            inside.update(id(n) for n in ast.walk(node))
    package = module.rpartition(".")[0].split(".")
    found_lazy = False
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[: len(package) - node.level + 1]
            names = [".".join(base + ([node.module] if node.module else []))]
            names += [f"{names[0]}.{a.name}" for a in node.names]
            if target in names:
                assert id(node) in inside, f"{module} imports {target} at module level"
                found_lazy = True
    assert found_lazy, f"{module} no longer imports {target}: drop the allowance"
