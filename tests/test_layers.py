"""The layers point one way: no module of minigrad imports from a layer above its own.

Every import statement counts, also one inside a function (a late import is still an
arrow). See docs/architecture.md for the picture.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "minigrad"

# Lowest first. A module may import from its own layer and the layers below it. An entry
# covers that module and, for a package, the modules inside it (but "minigrad" only itself).
LAYERS = [
    ("foundation", ["minigrad.ops.base", "minigrad.dtypes", "minigrad.random"]),
    ("ops", ["minigrad.ops"]),
    ("engine", ["minigrad.autograd"]),
    ("tensor", ["minigrad.tensor"]),
    ("library", ["minigrad.creation", "minigrad.gradcheck", "minigrad.functional",
                 "minigrad.data", "minigrad.viz_notes", "minigrad.tensor_functions"]),
    ("models and tools", ["minigrad.nn", "minigrad.optim", "minigrad.io", "minigrad.viz",
                          "minigrad.interop"]),
    ("package", ["minigrad"]),
]


def layer_of(module: str) -> int:
    """Index in LAYERS of the most specific entry that ``module`` is, or lies inside."""
    best, best_length = None, -1
    for rank, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            inside = module.startswith(prefix + ".") and prefix != "minigrad"
            if (module == prefix or inside) and len(prefix) > best_length:
                best, best_length = rank, len(prefix)
    if best is None:
        raise LookupError(f"{module} is in no layer: add it to LAYERS in tests/test_layers.py "
                          f"and to the picture in docs/architecture.md")
    return best


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source: str, module: str, is_package: bool, known: set[str]) -> list[str]:
    """The minigrad modules ``source`` (the text of ``module``) imports, anywhere in it.

    ``from a import b`` counts as importing ``a.b`` when that is a module (in ``known``),
    else ``a``. Relative imports are resolved against ``module``.
    """
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.append(candidate if candidate in known else base)
    return [m for m in found if m == "minigrad" or m.startswith("minigrad.")]


def upward_imports(source: str, module: str, is_package: bool, known: set[str]) -> list[str]:
    """'a -> b (layer x above layer y)' for every import of ``module`` pointing up."""
    own = layer_of(module)
    return [f"{module} ({LAYERS[own][0]}) imports {target} ({LAYERS[layer_of(target)][0]})"
            for target in imported_modules(source, module, is_package, known)
            if layer_of(target) > own]


def package_files() -> dict[str, Path]:
    return {module_name(path, PACKAGE): path for path in sorted(PACKAGE.rglob("*.py"))}


def test_no_module_imports_from_a_layer_above_its_own() -> None:
    files = package_files()
    known = set(files)
    problems = []
    for module, path in files.items():
        problems += upward_imports(path.read_text(), module, path.name == "__init__.py", known)
    assert not problems, "imports pointing up:\n  " + "\n  ".join(problems)


def test_every_module_has_a_layer() -> None:
    for module in package_files():
        layer_of(module)                                 # raises naming the module


KNOWN = {"minigrad", "minigrad.tensor", "minigrad.autograd", "minigrad.ops",
         "minigrad.ops.base", "minigrad.ops.conv", "minigrad.nn", "minigrad.nn.module"}


@pytest.mark.parametrize("module, is_package, source", [
    ("minigrad.ops.conv", False, "def f():\n    from minigrad.tensor import Tensor\n"),
    ("minigrad.ops.conv", False, "from minigrad.autograd import Op, register\n"),
    ("minigrad.ops.conv", False, "from minigrad import tensor\n"),
    ("minigrad.ops.conv", False, "from .. import autograd\n"),
    ("minigrad.ops", True, "import minigrad.nn.module\n"),
    ("minigrad.ops.base", False, "from minigrad.ops import conv\n"),
    ("minigrad.autograd", False, "from minigrad.tensor import Tensor\n"),
    ("minigrad.tensor", False, "from minigrad.nn import Module\n"),
])
def test_an_import_pointing_up_is_caught(module: str, is_package: bool, source: str) -> None:
    assert upward_imports(source, module, is_package, KNOWN)


@pytest.mark.parametrize("module, source", [
    ("minigrad.ops.conv", "from minigrad.ops.base import Op\nimport numpy as np\n"),
    ("minigrad.autograd", "from minigrad.ops.base import Op\n"),
    ("minigrad.nn.module", "from minigrad import autograd\nfrom minigrad.tensor import Tensor\n"),
    ("minigrad", "from minigrad.nn import Module\n"),
])
def test_imports_pointing_down_or_sideways_pass(module: str, source: str) -> None:
    assert upward_imports(source, module, False, KNOWN) == []


def test_a_module_in_no_layer_is_named() -> None:
    with pytest.raises(LookupError, match="minigrad.extras is in no layer"):
        layer_of("minigrad.extras")
