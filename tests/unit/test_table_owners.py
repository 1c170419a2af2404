"""Each table is written only by the package that owns it (docs/architecture.md, "Package
map"): an INSERT, UPDATE or DELETE of a table anywhere else in the server fails here. Another
package that needs a table changed calls its owner's service. Read by walking the source:
SQLAlchemy's insert()/update()/delete() (and `table.insert()`…) of a table imported from
db/tables.py, under any local name, and SQL text that writes one."""

import ast
import re
from pathlib import Path

from sqlalchemy import Table

import workshop_data
from workshop_data.db import tables

PACKAGE_ROOT = Path(workshop_data.__file__).resolve().parent
TABLES = {name for name, value in vars(tables).items() if isinstance(value, Table)}
OWNERS = {
    "users": "users",
    "sessions": "auth",
    "workshop_step_data": "step_data",
    "workshop_step_history": "step_data",
    "workshop_participation": "participation",
    "navigation_progress": "navigation",
    "assessments": "assessments",
    "uploads": "uploads",
}
_WRITES = {"insert", "update", "delete"}
_SQL_WRITE = re.compile(r"\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)", re.IGNORECASE)


def _table_names(tree: ast.Module) -> dict[str, str]:
    """Local name → table, for the tables a module imports (and names it gives them)."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "workshop_data.db.tables":
            for alias in node.names:
                if alias.name in TABLES:
                    names[alias.asname or alias.name] = alias.name
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Name)
            and node.value.id in names
        ):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    names[target.id] = names[node.value.id]
    return names


def writes_of(source: str) -> set[str]:
    """The tables a module's code writes."""
    tree = ast.parse(source)
    names = _table_names(tree)
    written: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            # insert(users), sqlalchemy.update(users), delete(steps)
            called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if called in _WRITES and node.args and isinstance(node.args[0], ast.Name):
                table = names.get(node.args[0].id)
                if table is not None:
                    written.add(table)
            # users.insert(), users.update(), users.delete()
            if (
                isinstance(func, ast.Attribute)
                and func.attr in _WRITES
                and isinstance(func.value, ast.Name)
                and func.value.id in names
            ):
                written.add(names[func.value.id])
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            written.update(t for t in _SQL_WRITE.findall(node.value) if t in TABLES)
    return written


def _package(path: Path) -> str:
    parts = path.relative_to(PACKAGE_ROOT).parts
    return parts[0] if len(parts) > 1 else path.stem


def test_every_table_has_an_owner() -> None:
    assert set(OWNERS) == TABLES


def test_each_table_is_written_only_by_its_owner() -> None:
    trespasses = []
    for path in sorted(PACKAGE_ROOT.rglob("*.py")):
        relative = path.relative_to(PACKAGE_ROOT)
        if relative.parts[0] == "db":  # the schema and its migrations
            continue
        package = _package(path)
        for table in sorted(writes_of(path.read_text())):
            if OWNERS[table] != package:
                trespasses.append(f"{relative} writes {table} (owned by {OWNERS[table]}/)")
    assert trespasses == []


def test_the_scan_sees_each_way_of_writing() -> None:
    source = (
        "from workshop_data.db.tables import users, sessions as s\n"
        "from sqlalchemy import update, delete\n"
        "steps = users\n"
        "a = update(steps)\n"
        "b = s.delete()\n"
        "c = text('INSERT INTO navigation_progress (x) VALUES (1)')\n"
        "d = select(users)\n"
    )
    assert writes_of(source) == {"users", "sessions", "navigation_progress"}
