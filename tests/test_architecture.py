"""The house keeps its floors (``docs/architecture.md``): read from the code's own imports,
no module or package of ``storefront_sdk`` imports another that imports it back, no floor
imports one above it, nothing below the web imports from it or reads Flask's request
globals, no module is over 500 lines, no private helper is imported across modules, each
front door declares its blueprints and lists its routes in its own ``__init__.py``, and
nothing cites a design file outside the repository."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "storefront_sdk"

#: The floors from the ground up (``docs/architecture.md``): a module may import its own
#: floor and the ones below, never one above.
FLOORS: tuple[tuple[str, ...], ...] = (
    (
        "errors",
        "money",
        "validation",
        "db",
        "sql",
        "signals",
        "webhooks",
        "outbound",
        "i18n",
        "storage",
        "ratelimit",
        "idempotency",
        "messages",
        "migrate",
        "config",
    ),
    ("catalog",),
    ("pricing",),
    ("shops",),
    ("consumers",),
    ("referrals",),
    ("promotions",),
    ("orders",),
    ("commissions",),
    ("fulfillment",),
    ("payments",),
    ("platform_admins", "dispatcher", "models", "testing"),
    ("web",),
    ("cli",),
    ("__init__",),
)
#: Where the web may be imported from, and Flask's request globals used.
WEB_ALLOWED = ("web", "cli", "__init__")
#: Flask's per-request globals.
REQUEST_GLOBALS = frozenset({"request", "session", "g", "current_app", "url_for"})
MAX_LINES = 500


@dataclass(frozen=True)
class Import:
    """``module`` imports ``target`` (a module of the package) at ``line``, taking
    ``names`` from it."""

    module: str
    target: str
    line: int
    names: tuple[str, ...]


@cache
def modules() -> dict[str, Path]:
    """Every module of the package (migrations aside), by dotted name."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        if "migrations" in path.relative_to(PACKAGE).parts:
            continue
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _resolve(name: str) -> str | None:
    known = modules()
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


@cache
def imports() -> tuple[Import, ...]:
    """Every import of a package module by another, lazy ones inside functions included."""
    found: list[Import] = []
    for module, path in modules().items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    target = _resolve(alias.name)
                    if target and target != module:
                        found.append(Import(module, target, node.lineno, ()))
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = module.split(".")[: None if is_package else -1]
                    parts = parts[: len(parts) - (node.level - 1)]
                    base = ".".join([*parts, *([base] if base else [])])
                for alias in node.names:
                    target = _resolve(f"{base}.{alias.name}") or _resolve(base)
                    if target and target != module and not module.startswith(target + "."):
                        found.append(Import(module, target, node.lineno, (alias.name,)))
    return tuple(found)


def _cycles(edges: set[tuple[str, str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan)."""
    graph: dict[str, set[str]] = {}
    for source, target in edges:
        graph.setdefault(source, set()).add(target)
        graph.setdefault(target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _in_package(module: str, package: str) -> str | None:
    """The child of ``package`` that ``module`` is, or is inside (``None`` if outside)."""
    if not module.startswith(package + "."):
        return None
    return module[len(package) + 1 :].split(".")[0]


def _packages() -> Iterator[str]:
    yield "storefront_sdk"
    for name, path in modules().items():
        if path.name == "__init__.py" and name != "storefront_sdk":
            yield name


def test_no_module_imports_one_that_imports_it_back() -> None:
    edges = {(found.module, found.target) for found in imports()}
    assert _cycles(edges) == []


@pytest.mark.parametrize("package", sorted(_packages()))
def test_no_two_parts_of_a_package_import_each_other(package: str) -> None:
    # Given the package's direct children (sub-packages and modules) as parts
    edges = set()
    for found in imports():
        source, target = _in_package(found.module, package), _in_package(found.target, package)
        if source and target and source != target:
            edges.add((source, target))
    # Then the parts' imports form no circle
    assert _cycles(edges) == []


def _floor(module: str) -> int:
    top = module.split(".")[1] if "." in module else "__init__"
    for number, floor in enumerate(FLOORS):
        if top in floor:
            return number
    raise AssertionError(f"{module} stands on no floor of FLOORS (docs/architecture.md)")


def test_no_import_runs_up_the_floors() -> None:
    upward = [
        f"{found.module}:{found.line} imports {found.target}"
        for found in imports()
        if _floor(found.target) > _floor(found.module)
    ]
    assert upward == []


def _top(module: str) -> str:
    return module.split(".")[1] if "." in module else "__init__"


def test_only_the_web_the_cli_and_the_extension_reach_the_web() -> None:
    reaching = [
        f"{found.module}:{found.line}"
        for found in imports()
        if _top(found.target) == "web" and _top(found.module) not in WEB_ALLOWED
    ]
    assert reaching == []


def test_nothing_below_the_web_reads_flasks_request_globals() -> None:
    users = []
    for module, path in modules().items():
        if _top(module) in WEB_ALLOWED:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "flask":
                taken = {alias.name for alias in node.names} & REQUEST_GLOBALS
                users.extend(f"{module}:{node.lineno} {name}" for name in sorted(taken))
    assert users == []


def test_no_module_is_over_500_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): lines
        for path in modules().values()
        if (lines := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def test_no_private_helper_is_imported_from_another_module() -> None:
    private = [
        f"{found.module}:{found.line} takes {name} from {found.target}"
        for found in imports()
        for name in found.names
        if name.startswith("_") and not name.startswith("__")
    ]
    assert private == []


def test_each_front_door_declares_its_blueprints_and_routes_in_its_init() -> None:
    # Given every module of the web
    declared, decorated = [], []
    for module, path in modules().items():
        if _top(module) != "web":
            continue
        text = path.read_text()
        is_door = path.name == "__init__.py" and module.count(".") == 2
        # Then blueprints are made only in a door's __init__.py
        if re.search(r"\bBlueprint\(", text) and not is_door:
            declared.append(module)
        # And no module adds a route to a blueprint by decorating a view
        decorated.extend(
            f"{module}: {match}"
            for match in re.findall(r"^@\w+\.(?:route|get|post|put|patch|delete)\(.*$", text, re.M)
        )
    assert declared == []
    assert decorated == []
    doors = {name for name, path in modules().items() if path.parent.parent.name == "web"}
    assert {"storefront_sdk.web.shop", "storefront_sdk.web.console"} <= doors
    assert {"storefront_sdk.web.admin", "storefront_sdk.web.api"} <= doors


def test_nothing_cites_a_design_file_outside_the_repository() -> None:
    files = [
        *ROOT.glob("*.md"),
        *(ROOT / "docs").rglob("*.md"),
        *PACKAGE.rglob("*.py"),
        *(ROOT / "tests").rglob("*.py"),
        *(ROOT / "bench").rglob("*.py"),
        *(ROOT / "example_shop").rglob("*.py"),
    ]
    citing = [str(path.relative_to(ROOT)) for path in files if "DESIGN" + ".md" in path.read_text()]
    assert citing == []
    assert (ROOT / "docs" / "architecture.md").is_file()
