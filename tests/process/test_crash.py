"""A server killed with SIGKILL in the middle of a burst of saves loses nothing it
acknowledged, on SQLite (default durability) and on PostgreSQL."""

import asyncio

import httpx
import pytest

from tests.server_process import ServerProcess
from tests.support import Backend, MakeAccount, session_cookies_of

pytestmark = pytest.mark.process

CLIENTS = 8


async def _writer(
    client: httpx.AsyncClient, step_id: str, acknowledged: dict[str, int], stop: asyncio.Event
) -> None:
    sequence = 0
    while not stop.is_set():
        sequence += 1
        try:
            response = await client.post(
                "/api/workshop-data/step",
                json={
                    "workshopType": "ia",
                    "stepId": step_id,
                    "data": {"sequence": sequence, "text": f"{step_id} save {sequence} " * 20},
                },
            )
        except httpx.TransportError:
            return
        if response.status_code == 200:
            acknowledged[step_id] = sequence


async def test_acknowledged_saves_survive_sigkill(
    backend: Backend, make_account: MakeAccount, tmp_path: object
) -> None:
    account = await make_account()
    steps = [f"ia-4-{n}" for n in range(1, 7)] + ["ia-3-4", "ia-3-2"]
    assert len(steps) == CLIENTS
    acknowledged: dict[str, int] = {}
    server = ServerProcess(backend.database_url).start()
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
            login = await client.post(
                "/api/auth/login",
                json={"username": account.username, "password": account.password},
            )
            assert login.status_code == 200
            cookies = session_cookies_of(login.cookies)
            stop = asyncio.Event()
            writers = [
                asyncio.create_task(_writer(client, step, acknowledged, stop)) for step in steps
            ]
            await asyncio.sleep(1.5)
            server.kill()
            stop.set()
            await asyncio.gather(*writers)
    finally:
        server.kill()

    assert sum(acknowledged.values()) > CLIENTS, "the burst acknowledged too few saves to judge"
    with ServerProcess(backend.database_url) as restarted:
        async with httpx.AsyncClient(base_url=restarted.url, timeout=10) as client:
            client.cookies.update(cookies)  # sessions survive the crash too
            for step, sequence in acknowledged.items():
                response = await client.get(f"/api/workshop-data/step/ia/{step}")
                assert response.status_code == 200
                stored = response.json()["data"]
                # A save in flight at the kill may have committed without its answer arriving.
                assert stored["sequence"] in (sequence, sequence + 1), (step, stored, sequence)
                assert stored["text"] == f"{step} save {stored['sequence']} " * 20
