"""Layering rules, checked by reading the source (nothing is imported).

* ``desk/core`` is pure: standard library and ``desk.core`` only.
* ``desk/services`` and ``desk/data`` never touch Qt.
* Only ``desk/ui`` may import PySide6.

Every ``import`` statement counts, wherever it sits (module level, inside a
function, under ``if TYPE_CHECKING``), as do ``importlib.import_module("...")``
and ``__import__("...")`` calls with a literal name.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DESK = ROOT / "desk"
QT = {"PySide6", "shiboken6"}


@dataclass(frozen=True)
class Import:
    module: str  # absolute dotted name
    line: int

    @property
    def top(self) -> str:
        return self.module.split(".")[0]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(module: str | None, level: int, importer: str, is_package: bool) -> str:
    if level == 0:
        return module or ""
    package = importer.split(".") if is_package else importer.split(".")[:-1]
    if level > 1:
        package = package[: len(package) - (level - 1)]
    return ".".join([*package, module] if module else package)


def imports_of(source: str, importer: str, *, is_package: bool = False) -> list[Import]:
    """Every module ``source`` imports, as absolute dotted names."""
    found: list[Import] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [Import(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(node.module, node.level, importer, is_package)
            found.append(Import(base, node.lineno))
            if node.module is None:  # "from . import x" imports the submodule x
                found += [Import(f"{base}.{alias.name}", node.lineno) for alias in node.names]
        elif (
            isinstance(node, ast.Call)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and (
                (
                    isinstance(node.func, ast.Name)
                    and node.func.id in {"__import__", "import_module"}
                )
                or (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
            )
        ):
            found.append(Import(node.args[0].value, node.lineno))
    return found


def desk_sources() -> list[Path]:
    return sorted(p for p in DESK.rglob("*.py") if "__pycache__" not in p.parts)


def layer_of(path: Path) -> str:
    rel = path.relative_to(DESK).parts
    return rel[0] if len(rel) > 1 else ""


def is_stdlib(name: str) -> bool:
    return name.split(".")[0] in sys.stdlib_module_names


def in_package(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def violations(rule: str) -> list[str]:
    problems: list[str] = []
    for path in desk_sources():
        layer = layer_of(path)
        importer = module_name(path)
        try:
            found = imports_of(
                path.read_text(encoding="utf-8"), importer, is_package=path.name == "__init__.py"
            )
        except SyntaxError as err:  # pragma: no cover - reported as a failure
            problems.append(f"{path.relative_to(ROOT)}: does not parse: {err}")
            continue
        for imp in found:
            where = f"{path.relative_to(ROOT)}:{imp.line} imports {imp.module}"
            if rule == "core" and layer == "core":
                if not (is_stdlib(imp.module) or in_package(imp.module, "desk.core")):
                    problems.append(where)
            elif rule == "services-data" and layer in {"services", "data"}:
                if imp.top in QT:
                    problems.append(where)
            elif rule == "qt-only-in-ui" and layer != "ui" and imp.top in QT:
                problems.append(where)
    return problems


# --------------------------------------------------------------------------- the rules


def test_sources_are_found() -> None:
    layers = {layer_of(p) for p in desk_sources()}
    assert {"core", "services", "data"} <= layers
    assert any(p.name == "money.py" and layer_of(p) == "core" for p in desk_sources())


def test_every_source_parses() -> None:
    for path in desk_sources():
        ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def test_core_imports_only_stdlib_and_core() -> None:
    assert violations("core") == []


def test_services_and_data_never_import_qt() -> None:
    assert violations("services-data") == []


def test_only_ui_imports_qt() -> None:
    assert violations("qt-only-in-ui") == []


# --------------------------------------------------------------------------- the checker itself


def test_stdlib_detection() -> None:
    for name in ["__future__", "re", "datetime", "collections.abc", "unicodedata", "typing"]:
        assert is_stdlib(name)
    for name in ["PySide6", "peewee", "reportlab", "psycopg", "hypothesis", "desk"]:
        assert not is_stdlib(name)


@pytest.mark.parametrize(
    ("source", "importer", "expected"),
    [
        ("import PySide6.QtWidgets", "desk.data.x", "PySide6.QtWidgets"),
        ("from PySide6 import QtCore", "desk.data.x", "PySide6"),
        ("def f():\n    import peewee\n", "desk.core.x", "peewee"),
        (
            "if TYPE_CHECKING:\n    from reportlab.pdfgen import canvas\n",
            "desk.core.x",
            "reportlab.pdfgen",
        ),
        ("from ..data import models", "desk.core.x", "desk.data"),
        ("from . import money", "desk.core.x", "desk.core.money"),
        ("from .money import parse_amount", "desk.core", "desk.core.money"),
        (
            "import importlib\nimportlib.import_module('PySide6.QtGui')",
            "desk.core.x",
            "PySide6.QtGui",
        ),
        ("__import__('peewee')", "desk.core.x", "peewee"),
    ],
)
def test_imports_are_all_seen(source: str, importer: str, expected: str) -> None:
    modules = {
        imp.module for imp in imports_of(source, importer, is_package=importer == "desk.core")
    }
    assert expected in modules
