"""Import hygiene of the package: no private names across modules, no circle in the metrics floor."""

from __future__ import annotations

import ast
from pathlib import Path

import gankit

ROOT = Path(gankit.__file__).parent
KNOWN_PRIVATE: set[tuple[str, str, str]] = set()  # (importer, module, name): none may be added


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


def _edges() -> dict[str, set[str]]:
    """Module -> the gankit modules it imports (function-level imports included). A package's
    ``__init__`` only hands names on, so it is never a target (as the project's before-stop check does)."""
    files, inits = _files(), {m for m in _files() if m.endswith("/__init__")}
    edges: dict[str, set[str]] = {}
    for src, dst, name in _imports():
        target = f"{dst}.{name}" if name and f"{dst}.{name}".replace(".", "/") in files else dst
        if target.replace(".", "/") + "/__init__" in inits or target == "gankit" or target == src:
            continue
        edges.setdefault(src, set()).add(target)
    return edges


def test_gankit_has_no_import_circle() -> None:
    edges = _edges()
    assert "gankit.metrics.stacked" in edges["gankit.metrics.quality"]  # quality dispatches to stacked ...
    assert "gankit.metrics.quality" not in edges["gankit.metrics.stacked"]  # ... which never reaches back

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in edges.get(start, ()):
            if nxt == goal or (nxt not in seen and (seen.add(nxt) or reaches(nxt, goal, seen))):
                return True
        return False

    assert sorted(m for m in edges if reaches(m, m, set())) == []


def test_the_config_schema_imports_no_family() -> None:
    assert _edges()["gankit.config"] == {"gankit.errors", "gankit.validation"}


def _files() -> set[str]:
    return {str(p.relative_to(ROOT.parent).with_suffix("")) for p in ROOT.rglob("*.py")}
