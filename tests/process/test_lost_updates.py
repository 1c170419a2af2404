"""No lost updates: 20 clients x 10 saves to one step, each changing its own field, sending
baseVersion and merging on 409. SQLite with one worker, PostgreSQL with two workers, and
through PgBouncer (transaction pooling) two server processes of two workers each, the clients
spread over both."""

import asyncio
import random
import secrets
from contextlib import ExitStack

import httpx
import pytest

from tests.server_process import ServerProcess
from tests.support import Backend, MakeAccount, session_cookies_of

pytestmark = [pytest.mark.process, pytest.mark.pgbouncer]

# Every save races the other clients' saves of the same row, so a check and a write that were
# not one statement would lose updates within the first few rounds; more clients or saves only
# lengthen the queue of 409s (50 x 20 took about 50 s per backend, most of it retries).
CLIENTS = 20
SAVES_PER_CLIENT = 10
# Through PgBouncer every statement is one more exchange and every save a transaction, and the
# writers of one row queue behind each other's row lock; 16 clients still spread over four
# workers in two processes.
PGBOUNCER_CLIENTS = 16
PGBOUNCER_SAVES_PER_CLIENT = 10


async def _client(
    server: ServerProcess,
    cookies: dict[str, str],
    index: int,
    saves: int,
    successes: list[int],
) -> None:
    field = f"client{index}"
    known: dict[str, object] = {}
    version = 0
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        client.cookies.update(cookies)
        for counter in range(1, saves + 1):
            conflicts = 0
            while True:
                response = await client.post(
                    "/api/workshop-data/step",
                    json={
                        "workshopType": "ia",
                        "stepId": "ia-3-4",
                        "data": {**known, field: counter},
                        "baseVersion": version,
                    },
                )
                if response.status_code == 200:
                    record = response.json()["data"]
                    known, version = record["data"], record["version"]
                    successes.append(version)
                    break
                assert response.status_code == 409, response.text
                current = response.json()["current"]
                known, version = current["data"] or {}, current["version"] or 0
                # As the hook does: back off a little, with jitter, before trying again.
                conflicts += 1
                await asyncio.sleep(random.uniform(0, min(0.25, 0.005 * 2**conflicts)))


async def test_concurrent_clients_never_lose_an_update(
    backend: Backend, make_account: MakeAccount
) -> None:
    account = await make_account()
    workers = 2 if backend.is_postgres else 1
    processes = 2 if backend.name == "pgbouncer" else 1
    clients, saves = (
        (PGBOUNCER_CLIENTS, PGBOUNCER_SAVES_PER_CLIENT)
        if backend.name == "pgbouncer"
        else (CLIENTS, SAVES_PER_CLIENT)
    )
    with ExitStack() as stack:
        servers = [
            stack.enter_context(
                ServerProcess(backend.database_url, workers=workers, env=backend.server_env)
            )
            for _ in range(processes)
        ]
        async with httpx.AsyncClient(base_url=servers[0].url) as client:
            login = await client.post(
                "/api/auth/login",
                json={"username": account.username, "password": account.password},
            )
            cookies = session_cookies_of(login.cookies)
            successes: list[int] = []
            await asyncio.gather(
                *(
                    _client(servers[i % processes], cookies, i, saves, successes)
                    for i in range(clients)
                )
            )
            final = (await client.get("/api/workshop-data/step/ia/ia-3-4")).json()

    assert final["data"] == {f"client{i}": saves for i in range(clients)}
    assert len(successes) == clients * saves
    # Every successful save raised the version by exactly one, and no two shared a version.
    assert final["version"] == len(successes)
    assert sorted(successes) == list(range(1, len(successes) + 1))


async def test_metrics_add_up_across_workers(backend: Backend, make_account: MakeAccount) -> None:
    if not backend.is_postgres:
        pytest.skip("several workers run on PostgreSQL")
    account = await make_account()
    token = secrets.token_hex(32)
    env = {**backend.server_env, "WORKSHOP_DATA_METRICS_TOKEN": token}
    with ServerProcess(backend.database_url, workers=2, env=env) as server:
        async with httpx.AsyncClient(base_url=server.url) as client:
            assert (await client.get("/metrics")).status_code == 401
            await client.post(
                "/api/auth/login",
                json={"username": account.username, "password": account.password},
            )
            for n in range(40):
                response = await client.post(
                    "/api/workshop-data/step",
                    json={"workshopType": "ast", "stepId": "2-1", "data": {"n": n}},
                    headers={"Connection": "close"},  # spread the saves over both workers
                )
                assert response.status_code == 200
            scraped = await client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
            text = scraped.text
    assert 'workshop_data_saves_total{workshop_type="ast"} 40.0' in text
