"""`workshop-data uploads prune`: a dry run lists, a real run removes, on a real database."""

from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, update

from tests.process.test_cli_export import cli, database_url
from workshop_data.db.tables import uploads
from workshop_data.timeutil import utc_now

pytestmark = pytest.mark.process
__all__ = ["database_url"]  # the fixture


def _sync_url(url: str) -> str:
    return url.replace("sqlite:///", "sqlite+pysqlite:///")


def count(url: str) -> int:
    engine = create_engine(_sync_url(url))
    with engine.connect() as conn:
        found = int(conn.execute(select(func.count()).select_from(uploads)).scalar_one())
    engine.dispose()
    return found


def test_prune_dry_run_then_for_real(database_url: str, tmp_path: Path) -> None:
    assert count(database_url) == 6  # two per seeded user, none referred to by a step
    nothing_old = cli("uploads", "prune", database_url=database_url)
    assert nothing_old.returncode == 0, nothing_old.stderr
    assert "removed 0 uploads" in nothing_old.stderr

    engine = create_engine(_sync_url(database_url))
    with engine.begin() as conn:
        oldest = conn.execute(select(uploads.c.id).order_by(uploads.c.id).limit(2)).scalars()
        old_ids = list(oldest)
        conn.execute(
            update(uploads)
            .where(uploads.c.id.in_(old_ids))
            .values(last_referenced_at=utc_now().replace(year=2000))
        )
    engine.dispose()

    dry = cli("uploads", "prune", "--older-than-days", "7", "--dry-run", database_url=database_url)
    assert dry.returncode == 0, dry.stderr
    assert sorted(line.split("\t")[0] for line in dry.stdout.splitlines()) == sorted(old_ids)
    assert "would remove 2 uploads" in dry.stderr
    assert count(database_url) == 6

    real = cli("uploads", "prune", "--older-than-days", "7", database_url=database_url)
    assert real.returncode == 0, real.stderr
    assert real.stdout == dry.stdout
    assert "removed 2 uploads" in real.stderr
    assert count(database_url) == 4

    refused = cli("uploads", "prune", "--older-than-days", "0", database_url=database_url)
    assert refused.returncode == 2
