"""Accept the database URLs people paste and pick the async driver for them."""

_ASYNC_SCHEMES = {
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgresql+psycopg2": "postgresql+asyncpg",
    "postgresql+psycopg": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
    "sqlite": "sqlite+aiosqlite",
    "sqlite+pysqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
}


class UnsupportedDatabaseURL(ValueError):
    pass


def to_async_url(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise UnsupportedDatabaseURL(
            f"'{url}' is not a database URL; use postgresql://user@host/db or sqlite:///path"
        )
    driver = _ASYNC_SCHEMES.get(scheme.lower())
    if driver is None:
        raise UnsupportedDatabaseURL(
            f"unsupported database '{scheme}'; use postgresql://... or sqlite:///..."
        )
    return f"{driver}://{rest}"
