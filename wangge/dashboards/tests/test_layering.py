"""The import direction the architecture promises: the dashboards modules form a line, core imports no app.

Read from the source (every import, also those inside functions), so a lazy import that closes a
circle again fails here rather than only when the wrong module happens to load first.
"""

from __future__ import annotations

import ast
from pathlib import Path

import wangge

ROOT = Path(wangge.__file__).parent


def _imports(path: Path) -> set[str]:
    """Every `wangge.…` module a file imports, anywhere in it."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("wangge"):
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("wangge"))
    return found


def test_dashboards_modules_form_a_line() -> None:
    # facts ← selectors ← exports ← services: each may use those before it, never one after it.
    line = ["measures", "facts", "selectors", "exports", "services"]
    for i, name in enumerate(line):
        imported = _imports(ROOT / "dashboards" / f"{name}.py")
        later = {f"wangge.dashboards.{after}" for after in line[i + 1 :]}
        assert not imported & later, f"dashboards.{name} imports {sorted(imported & later)}"


def test_core_imports_no_other_app() -> None:
    apps = {p.name for p in ROOT.iterdir() if (p / "apps.py").exists()} - {"core"}
    assert "dashboards" in apps and "accounts" in apps
    for path in (ROOT / "core").rglob("*.py"):
        if "tests" in path.parts:
            continue
        others = {m for m in _imports(path) if m.split(".")[1] in apps}
        assert not others, f"{path.relative_to(ROOT)} imports {sorted(others)}"
