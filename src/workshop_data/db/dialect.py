from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite


def upsertable_insert(dialect: str, table: Table) -> postgresql.Insert | sqlite.Insert:
    """INSERT with the backend's ON CONFLICT support (PostgreSQL and SQLite share the syntax)."""
    if dialect == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
