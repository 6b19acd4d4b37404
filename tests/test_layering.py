"""The package's layers: imports go one way, there is no import cycle, and the engine imports no web framework."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "webapp"
FORBIDDEN = ("flask", "werkzeug", "wtforms", "sqlalchemy", "flask_wtf", "flask_babel", "flask_login")

# Groups of modules, lowest layer first. A module may import its own group and any lower layer, nothing above.
LAYERS: list[tuple[str, ...]] = [
    ("webapp", "webapp.paths", "webapp.fields", "webapp.engine"),
    ("webapp.engine.rules",),
    ("webapp.engine.io",),
    ("webapp.engine.cohorts",),
    ("webapp.engine.readiness",),
    ("webapp.engine.advice",),
    ("webapp.engine.defaults", "webapp.engine.assess", "webapp.engine.batch", "webapp.engine.batch_dask"),
    ("webapp.reports",),
    ("webapp.cli", "webapp.cli_support", "webapp.model_cli", "webapp.token_cli", "webapp.worker_cli",
     "webapp.batch_cli",
     "webapp.web"),
]
# Groups of one layer that must not import each other (siblings), by index into LAYERS.
SAME_LAYER = [{1, 2}, {4, 5}]


def module_files() -> dict[str, Path]:
    """Every module of the package by dotted name (migration scripts included)."""
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Modules of the package that ``name`` imports anywhere in its file (inside functions too)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            targets = [f"{prefix}.{alias.name}" for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    """The package's import graph."""
    modules = module_files()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def layer_of(module: str) -> int:
    """Index into LAYERS of the group owning ``module`` (its longest matching prefix)."""
    best, index = -1, None
    for i, group in enumerate(LAYERS):
        for prefix in group:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, index = len(prefix), i
    if index is None:
        raise AssertionError(f"{module} belongs to no layer of tests/test_layering.py")
    return index


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = iter(range(10**9))

    def visit(v):
        index[v] = low[v] = next(counter)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_there_is_no_import_cycle():
    """No two modules import each other, directly or through others, counting imports inside functions."""
    assert cycles(import_graph()) == []


def test_imports_go_down_the_layers():
    """fields -> rules, io -> cohorts -> readiness, advice -> defaults, assess, batch -> reports -> cli, web."""
    wrong = []
    for module, targets in import_graph().items():
        mine = layer_of(module)
        for target in targets:
            theirs = layer_of(target)
            sideways = theirs != mine and any({mine, theirs} <= group for group in SAME_LAYER)
            if theirs > mine or sideways:
                wrong.append(f"{module} -> {target}")
    assert wrong == []


def test_the_checker_sees_imports_inside_functions(tmp_path):
    """The graph counts an import written inside a function (so a cycle cannot hide there)."""
    modules = {"webapp.a": tmp_path / "a.py", "webapp.b": tmp_path / "b.py"}
    modules["webapp.a"].write_text("def f():\n    from webapp.b import g\n    return g\n")
    assert imports_of("webapp.a", modules["webapp.a"], modules) == {"webapp.b"}


def test_engine_has_sub_packages_with_docstrings():
    """The engine is split into sub-packages, each saying what it owns and what it may import."""
    packages = [p.parent for p in (PACKAGE / "engine").glob("*/__init__.py")]
    assert len(packages) >= 4
    for package in packages:
        doc = ast.get_docstring(ast.parse((package / "__init__.py").read_text(encoding="utf-8"))) or ""
        assert "Owns" in doc or "owns" in doc, package
        assert "May import" in doc, package


@pytest.mark.parametrize("path", sorted(p for p in PACKAGE.rglob("*.py") if p.name != "fields.py"),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_is_too_long(path):
    """No module over 400 lines (the declarative field registry aside)."""
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 400


def test_no_rule_date_is_written_in_python():
    """Which rule set is in force when is read from the tables' in_force_from/until, never typed in code."""
    from webapp.engine.rules.rulebook import load_rule_book

    dates = {d for t in load_rule_book().tables.values() for d in (t.in_force_from, t.in_force_until) if d}
    pattern = re.compile("|".join(
        rf"{d.isoformat()}|{d:%Y%m%d}|date\(\s*{d.year}\s*,\s*0?{d.month}\s*,\s*0?{d.day}\s*\)" for d in dates))
    hits = [f"{p.relative_to(ROOT)}:{i}" for p in PACKAGE.rglob("*.py")
            for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if pattern.search(line)]
    assert len(dates) >= 5 and hits == []


def test_engine_and_reports_import_no_web_framework():
    """engine/ and reports/ must stay importable without the web stack."""
    code = (
        "import importlib, pkgutil, sys\n"
        "import webapp.fields, webapp.cli, webapp.engine as e, webapp.reports as r\n"
        "for pkg in (e, r):\n"
        "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        importlib.import_module(m.name)\n"
        f"bad = sorted({{n.split('.')[0] for n in sys.modules}} & set({FORBIDDEN!r}))\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
