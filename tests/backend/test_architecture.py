"""backend/ imports in one direction: no cycles, and no router imports another router.

Every import counts, including ones inside functions and under ``TYPE_CHECKING``: a
local import only hides a cycle until modules are imported in another order.
"""

from __future__ import annotations

import ast
from pathlib import Path

import backend

ROOT = Path(backend.__file__).parent
PACKAGE = ROOT.parent


#: Router-to-router imports in files another change is reworking; delete the entry
#: when that change lands (backend/overview imports ClientCode from clients/schemas.py).
def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in sorted(ROOT.rglob("*.py"))}


def _resolve(name: str) -> str | None:
    """The backend module an imported name lives in (a package's __init__ counts)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _imports(module: str) -> set[str]:
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}".rstrip(".")
            names = [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            target = _resolve(name)
            if target is not None and target != module:
                found.add(target)
    return found


GRAPH = {module: _imports(module) for module in MODULES}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle through each strongly connected group of modules (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

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
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def _is_router(module: str) -> bool:
    leaf = module.rpartition(".")[2]
    return leaf == "router" or leaf.endswith("_router")


def test_backend_has_no_import_cycle():
    assert _cycles(GRAPH) == []


def test_the_cycle_check_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]


def test_no_router_imports_another_router():
    crossing = {
        (module, imported)
        for module, imported_modules in GRAPH.items()
        if _is_router(module)
        for imported in imported_modules
        if _is_router(imported)
    }
    assert crossing == set()


def test_the_graph_sees_imports_inside_functions_and_type_checking_blocks():
    assert "backend.clients.scope" in GRAPH["backend.audit.service"]
    assert "backend.db" in GRAPH["backend.audit.writer"]
