"""The server's import graph: routers translate HTTP and are used by nobody but the app (no
router imports another router), and no modules import each other in a cycle."""

import ast
import graphlib
from pathlib import Path

import pytest

import workshop_data

PACKAGE_ROOT = Path(workshop_data.__file__).resolve().parent
PACKAGE = "workshop_data"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {
    _module_name(path): path
    for path in sorted(PACKAGE_ROOT.rglob("*.py"))
    if "migrations" not in path.relative_to(PACKAGE_ROOT).parts
}


def _is_type_checking_block(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and (
        (isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING")
        or (isinstance(node.test, ast.Attribute) and node.test.attr == "TYPE_CHECKING")
    )


def _imported(module: str, node: ast.Import | ast.ImportFrom) -> set[str]:
    """The package's modules an import statement loads."""
    names: set[str] = set()
    if isinstance(node, ast.Import):
        candidates = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            anchor = module.split(".")
            if MODULES[module].name != "__init__.py":
                anchor = anchor[:-1]
            anchor = anchor[: len(anchor) - (node.level - 1)]
            base = ".".join([*anchor, base] if base else anchor)
        candidates = [base, *(f"{base}.{alias.name}" for alias in node.names)]
    for candidate in candidates:
        if candidate.split(".")[0] != PACKAGE:
            continue
        while candidate not in MODULES and "." in candidate:
            candidate = candidate.rsplit(".", 1)[0]
        if candidate in MODULES and candidate != module:
            names.add(candidate)
    return names


def _imports(module: str, *, at_import_time: bool) -> set[str]:
    """What `module` imports: with `at_import_time`, only what loading it loads (not imports
    inside functions or under `if TYPE_CHECKING:`)."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if _is_type_checking_block(node):
            return
        if at_import_time and isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            return
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.update(_imported(module, node))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _is_router(module: str) -> bool:
    return module.rsplit(".", 1)[-1] == "router"


def test_the_graph_sees_the_imports_it_checks() -> None:
    assert "workshop_data.admin.router" in MODULES
    assert "workshop_data.admin.service" in _imports(
        "workshop_data.admin.router", at_import_time=True
    )


@pytest.mark.parametrize("router", sorted(m for m in MODULES if _is_router(m)))
def test_no_router_imports_another_router(router: str) -> None:
    other_routers = {m for m in _imports(router, at_import_time=False) if _is_router(m)}
    assert not other_routers, f"{router} imports {sorted(other_routers)}"


def test_only_the_app_imports_routers() -> None:
    # Only the application assembles the routers.
    importers = {
        module
        for module in MODULES
        if any(_is_router(m) for m in _imports(module, at_import_time=False))
    }
    assert importers <= {"workshop_data.app", "workshop_data.openapi"}, sorted(importers)


def test_no_import_cycles() -> None:
    graph = {module: _imports(module, at_import_time=True) for module in MODULES}
    try:
        tuple(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as error:
        pytest.fail(f"import cycle: {' -> '.join(error.args[1])}")
