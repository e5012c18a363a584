"""Guards of the house's rules that import-linter cannot see (docs/architecture.md "The layers").

- Routers never commit: the request's unit of work is a service's (issue 11, item 6).
- Routers never look a service up in `AppState.services` themselves: they take the domain's typed
  dependency alias (`ScreeningDep`, `HubDep`, ...) from its deps module (issue 11, item 1).
"""

from __future__ import annotations

import ast
from pathlib import Path

import failsafe

SRC = Path(failsafe.__file__).parent
ROUTERS = sorted(SRC.glob("*/router.py"))


def _calls(path: Path) -> list[tuple[int, ast.Attribute]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [
        (node.lineno, node.func)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    ]


def _where(path: Path, line: int) -> str:
    return f"{path.relative_to(SRC.parent)}:{line}"


def test_there_are_routers_to_check() -> None:
    names = {p.parent.name for p in ROUTERS}
    assert {"watchlist", "alerts", "ingest", "hub", "alarms", "audit"} <= names


def test_no_router_commits() -> None:
    found = [
        _where(path, line)
        for path in ROUTERS
        for line, func in _calls(path)
        if func.attr in ("commit", "rollback")
    ]
    assert found == [], f"routers commit (the service owns its transaction): {found}"


def test_no_router_looks_up_services() -> None:
    found = [
        _where(path, line)
        for path in ROUTERS
        for line, func in _calls(path)
        if func.attr in ("find", "get")
        and isinstance(func.value, ast.Attribute)
        and func.value.attr == "services"
    ]
    assert found == [], f"routers look services up (use the domain's deps alias): {found}"
