"""Find the imports a source file makes, in every form: ``import a``, ``from a import b``,
and the dynamic ``importlib.import_module("a")`` / ``__import__("a")`` with a literal name.
Relative imports (``from . import x``) are the package's own and are not reported."""

from __future__ import annotations

import ast

DYNAMIC_IMPORTERS = {"import_module", "__import__"}


def imports_of(source: str, filename: str, top_levels: set[str]) -> list[str]:
    """``file:line: module`` for every absolute import whose top-level package is one of
    ``top_levels``."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif isinstance(node, ast.Call):
            called = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            if called in DYNAMIC_IMPORTERS and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    names = [first.value]
        for name in names:
            if name.split(".")[0] in top_levels:
                found.append(f"{filename}:{node.lineno}: {name}")
    return found
