"""Import hygiene of the package: no private names across modules, no circle in the metrics floor."""

from __future__ import annotations

import ast
from pathlib import Path

import gankit

ROOT = Path(gankit.__file__).parent
# cli.py's `--resume --dry-run` reads trainer._resumed_config; renaming it is a trainer change outside
# the evaluation work (tracker issue 12): the one known exception, listed so a new one fails.
KNOWN_PRIVATE = {("gankit.cli", "gankit.engine.trainer", "_resumed_config")}


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> list[tuple[str, str, str | None]]:
    """(importing module, imported module, name or None) for every gankit import, function-level included."""
    out = []
    for path in sorted(ROOT.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("gankit"):
                out += [(_module(path), node.module, a.name) for a in node.names]
            elif isinstance(node, ast.Import):
                out += [(_module(path), a.name, None) for a in node.names if a.name.startswith("gankit")]
    return out


def test_no_private_names_are_imported_across_modules() -> None:
    private = {(src, dst, name) for src, dst, name in _imports()
               if name and name.startswith("_") and not name.startswith("__") and src != dst}
    assert private == KNOWN_PRIVATE


def test_the_metrics_floor_has_no_import_circle() -> None:
    edges: dict[str, set[str]] = {}
    for src, dst, name in _imports():
        target = f"{dst}.{name}" if name and f"{dst}.{name}".replace(".", "/") + ".py" in _files() else dst
        if src.startswith("gankit.metrics.") and target.startswith("gankit.metrics.") and src != target:
            edges.setdefault(src, set()).add(target)
    assert "gankit.metrics.stacked" in edges["gankit.metrics.quality"]  # quality dispatches to stacked ...
    assert "gankit.metrics.quality" not in edges["gankit.metrics.stacked"]  # ... which never reaches back

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in edges.get(start, ()):
            if nxt == goal or (nxt not in seen and (seen.add(nxt) or reaches(nxt, goal, seen))):
                return True
        return False

    circles = sorted(m for m in edges if reaches(m, m, set()))
    assert circles == []


def _files() -> set[str]:
    return {str(p.relative_to(ROOT.parent).with_suffix("")) for p in ROOT.rglob("*.py")}
