"""The two leaf libraries (DESIGN.md) import no project module but their own package, so any
app may use them and they can be tested without Django."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROJECT = {"accounts", "leads", "enrichment", "campaigns", "agents", "config", "tests"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", ["enrichment/web", "agents/llm"])
def test_leaf_library_imports_nothing_of_the_project(package):
    own = package.replace("/", ".")
    offenders = {}
    files = sorted((ROOT / package).rglob("*.py"))
    assert files
    for path in files:
        bad = {
            name
            for name in imported_modules(path)
            if name.split(".")[0] in PROJECT | {"django"} and not name.startswith(own)
        }
        if bad:
            offenders[str(path.relative_to(ROOT))] = sorted(bad)
    assert not offenders
