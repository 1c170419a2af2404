"""40 parallel sign-ins with made-up usernames against one real worker: its peak resident
memory stays under the bound (400 MiB; unbounded hashing reached 2.3 GiB), every sign-in is
answered 401 or, past the hashing queue, 503 with Retry-After, and a participant's saves keep
succeeding meanwhile. How long the saves took is measured by `make bench` (login_flood), not
asserted here."""

from pathlib import Path

import pytest
from bench.common import seed_users
from bench.login_flood import RSS_BOUND_MIB, flood, flood_server

pytestmark = pytest.mark.process


async def test_a_sign_in_flood_cannot_grow_memory_without_bound(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'flood.db'}"
    (token,) = await seed_users(url, 1)
    with flood_server(url, hash_concurrency=2) as server:
        result = await flood(server, token, parallel=40, waves=1)
    assert result.peak_rss_mib < RSS_BOUND_MIB, result
    assert set(result.logins) <= {401, 503}, result
    assert result.logins.get(401, 0) >= 1
    assert result.saves >= 1  # each save answered 200 (flood() checks every one)
