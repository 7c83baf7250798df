"""The house rules that keep the code readable: no import cycles between services, no SQL in
handlers, and a README map that names every service package."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ROOT / "bot" / "services"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _service_imports() -> dict[str, set[str]]:
    """Every bot.services module and the bot.services modules it imports (lazy ones too)."""
    graph: dict[str, set[str]] = {}
    for path in SERVICES.rglob("*.py"):
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("bot.services"):
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    is_module = (ROOT / (full.replace(".", "/") + ".py")).exists()
                    deps.add(full if is_module else str(node.module))
        graph[_module_name(path)] = deps
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found: list[list[str]] = []
    done: set[str] = set()

    def walk(node: str, stack: list[str]) -> None:
        for dep in sorted(graph.get(node, ())):
            if dep in stack:
                found.append([*stack[stack.index(dep) :], dep])
            elif dep not in done:
                walk(dep, [*stack, dep])
        done.add(node)

    for node in sorted(graph):
        walk(node, [node])
    return found


def test_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}})
    assert not _cycles({"a": {"b"}, "b": {"c"}, "c": set()})


def test_services_import_no_cycle() -> None:
    graph = _service_imports()
    assert "bot.services.intake.wishes" in graph  # the walk saw the packages
    assert _cycles(graph) == []


SQL_IN_HANDLER = re.compile(
    r"\bselect\(|\.execute\(|\.scalars?\(|session\.(get|add|delete|commit|flush)\(|bot\.db\.models"
)


def test_handlers_hold_no_sql() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in (ROOT / "handlers").rglob("*.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if SQL_IN_HANDLER.search(line)
    ]
    assert offenders == []


def test_readme_maps_every_service_package() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    packages = sorted(p.name for p in SERVICES.iterdir() if (p / "__init__.py").exists())
    assert len(packages) >= 6
    missing = [name for name in packages if f"services/{name}/" not in readme]
    assert missing == []
