"""pyproject.toml declares what the code imports, and the code imports what it declares."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIRST_PARTY = {"bot", "handlers", "tests", "bench"}


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared(group: list[str]) -> set[str]:
    return {normalized(re.split(r"[=<>!~\[; ]", req, maxsplit=1)[0]) for req in group}


def imported_distributions(*folders: str) -> set[str]:
    """The distributions that provide the modules imported by the code in these folders."""
    providers = importlib.metadata.packages_distributions()
    names = set()
    for folder in folders:
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    names |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names.add(node.module.split(".")[0])
    third_party = names - FIRST_PARTY - set(sys.stdlib_module_names)
    return {normalized(dist) for name in third_party for dist in providers[name]}


def test_the_declared_dependencies_are_the_imported_ones():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = declared(project["dependencies"])
    assert imported_distributions("bot", "handlers") == runtime
    tests = declared(project["optional-dependencies"]["test"])
    assert imported_distributions("tests") <= runtime | tests
