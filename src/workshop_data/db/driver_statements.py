"""SQLAlchemy Core statements run by a driver itself, without SQLAlchemy's execution around
each one: the save's statement on asyncpg (db/engine.py) and every statement of the SQLite
writer's jobs (db/sqlite_writer.py). On the save path that execution cost more than the
database's own work. A statement is compiled once per dialect; its values are sent, and its
rows read, as SQLAlchemy would send and read them (dates as text on SQLite, JSON through the
engine's serializer)."""

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy.engine import Dialect


@dataclass(frozen=True)
class DriverStatement:
    sql: str
    compiled: Any
    names: tuple[str, ...]
    bind_processors: dict[str, Callable[[Any], Any]]
    result_processors: dict[str, Callable[[Any], Any]]

    def arguments(self, values: dict[str, Any]) -> list[Any]:
        """`values` (by bind parameter name) as the driver takes them, in the order of the
        SQL's placeholders."""
        params = self.compiled.construct_params(values)
        writers = self.bind_processors
        return [
            writers[name](params[name]) if name in writers else params[name] for name in self.names
        ]


@lru_cache(maxsize=64)
def for_driver(statement: Any, dialect: Dialect) -> DriverStatement:
    """`statement` (built once, with named `bindparam`s) compiled for `dialect`'s driver."""
    compiled = statement.compile(dialect=dialect)
    columns = getattr(statement, "selected_columns", None) or statement.exported_columns
    readers = {
        column.name: column.type.dialect_impl(dialect).result_processor(dialect, None)
        for column in columns
    }
    return DriverStatement(
        compiled.string,
        compiled,
        tuple(compiled.positiontup or ()),
        dict(compiled._bind_processors),
        {name: reader for name, reader in readers.items() if reader is not None},
    )
