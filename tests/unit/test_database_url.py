import pytest

from workshop_data.db.url import UnsupportedDatabaseURL, to_async_url


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u:p@db:5432/app", "postgresql+asyncpg://u:p@db:5432/app"),
        ("postgres://u@db/app", "postgresql+asyncpg://u@db/app"),
        ("postgresql+psycopg2://u@db/app", "postgresql+asyncpg://u@db/app"),
        ("postgresql+asyncpg://u@db/app", "postgresql+asyncpg://u@db/app"),
        ("sqlite:///./workshop-data.db", "sqlite+aiosqlite:///./workshop-data.db"),
        ("sqlite:////var/lib/wd.db", "sqlite+aiosqlite:////var/lib/wd.db"),
        ("SQLITE:///x.db", "sqlite+aiosqlite:///x.db"),
    ],
)
def test_plain_urls_get_the_async_driver(given: str, expected: str) -> None:
    assert to_async_url(given) == expected


@pytest.mark.parametrize("given", ["mysql://root@localhost/db", "workshop-data.db", "http://x"])
def test_unsupported_urls_are_refused(given: str) -> None:
    with pytest.raises(UnsupportedDatabaseURL):
        to_async_url(given)
