"""The layers of STYLE.md, read from the source (ast, nothing imported): ``smpp_adapters`` and
``policies`` import nothing from ``gateway``, and ``policies`` nothing from ``smpp_adapters``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

FORBIDDEN = {
    "smpp_adapters": {"gateway", "policies"},
    "policies": {"gateway", "smpp_adapters"},
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(source: str, module: str, *, is_package: bool = False) -> set[str]:
    """Every absolute module name ``source`` (the text of ``module``) imports, relative imports
    resolved, wherever they sit (top level, functions, ``if TYPE_CHECKING:`` blocks)."""
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if target:
                found.add(target)
            # `from pkg import sub` may import the submodule pkg.sub
            found.update(
                f"{target}.{alias.name}" if target else alias.name
                for alias in node.names
                if alias.name != "*"
            )
    return found


def imports_of(path: Path) -> set[str]:
    return imported_modules(
        path.read_text(encoding="utf-8"), _module_name(path), is_package=path.name == "__init__.py"
    )


def _files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_has_modules(package: str) -> None:
    assert (ROOT / package / "__init__.py").is_file()
    assert _files(package)


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_keep_the_layers(package: str) -> None:
    offending = []
    for path in _files(package):
        for module in sorted(imports_of(path)):
            top = module.split(".")[0]
            if top in FORBIDDEN[package]:
                offending.append(f"{path.relative_to(ROOT)} imports {module}")
    assert offending == []


def test_the_reader_resolves_relative_and_nested_imports() -> None:
    source = """
from __future__ import annotations
import struct, smpp_adapters.constants as constants
from . import events
from .pdu import Pdu
from .. import gateway
from ..policies.facts import MessageFacts
if TYPE_CHECKING:
    from gateway.clock import Clock
def later():
    import gateway.store
"""
    found = imported_modules(source, "smpp_adapters.session")
    assert {
        "struct",
        "smpp_adapters.constants",
        "smpp_adapters",
        "smpp_adapters.events",
        "smpp_adapters.pdu",
        "gateway",
        "policies.facts",
        "gateway.clock",
        "gateway.store",
    } <= found
    assert "smpp_adapters.errors" in imports_of(ROOT / "smpp_adapters" / "pdu.py")
    assert "smpp_adapters.pdu" in imported_modules(
        "from . import pdu", "smpp_adapters", is_package=True
    )


def test_one_list_of_event_types_for_the_policy_the_holds_and_the_webhooks() -> None:
    from gateway.holds.book import EVENTS
    from gateway.webhooks import events
    from policies import event_types
    from policies.policy_file import EVENT_TYPES

    assert set(EVENTS.values()) == set(event_types.HOLD_EVENTS)
    assert events.EVENT_TYPES is event_types.EVENT_TYPES
    assert frozenset(event_types.EVENT_TYPES) == EVENT_TYPES


def _gateway_graph() -> dict[str, set[str]]:
    """Module -> the gateway modules it imports (package imports count as their __init__)."""
    modules = {_module_name(path): path for path in _files("gateway")}
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        graph[module] = {
            name for name in imports_of(path) if name in modules and name != module
        } - {"gateway"}
    return graph


def test_nothing_below_the_entry_points_imports_the_composition_root() -> None:
    above = {"gateway.app", "gateway.cli", "gateway.demo"}
    offending = [
        m for m, deps in _gateway_graph().items() if "gateway.app" in deps and m not in above
    ]
    assert offending == []


def test_the_holds_never_import_the_traffic() -> None:
    offending = [
        f"{m} imports {d}"
        for m, deps in _gateway_graph().items()
        if m.startswith("gateway.holds")
        for d in deps
        if d.startswith("gateway.traffic")
    ]
    assert offending == []


def test_no_import_circle_in_the_gateway() -> None:
    graph = _gateway_graph()
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    circles: list[list[str]] = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for dep in sorted(graph.get(module, ())):
            if state.get(dep) == 1:
                circles.append([*path[path.index(dep) :], dep] if dep in path else [module, dep])
            elif dep not in state:
                visit(dep, [*path, dep])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert circles == []
