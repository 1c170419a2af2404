"""`serve` believes X-Forwarded-Proto only from WORKSHOP_DATA_TRUSTED_PROXIES: the session
cookie is Secure when a trusted proxy says the client used https, and not when anyone
else says so."""

from pathlib import Path

import httpx
import pytest

from tests.server_process import ServerProcess
from workshop_data.db.engine import create_engine
from workshop_data.db.migrate import upgrade_to_head
from workshop_data.settings import Settings
from workshop_data.users import service as users_service

pytestmark = pytest.mark.process


@pytest.mark.parametrize(
    ("trusted", "secure"), [('["127.0.0.1", "::1"]', True), ('["192.0.2.1"]', False)]
)
async def test_forwarded_https_counts_only_from_trusted_proxies(
    tmp_path: Path, trusted: str, secure: bool
) -> None:
    url = f"sqlite:///{tmp_path / 'proxy.db'}"
    engine = create_engine(Settings(database_url=url))
    await upgrade_to_head(engine)
    async with engine.connect() as conn:
        await users_service.create_user(conn, username="proxied", password="proxied-password")
    await engine.dispose()

    with ServerProcess(url, env={"WORKSHOP_DATA_TRUSTED_PROXIES": trusted}) as server:
        async with httpx.AsyncClient(base_url=server.url) as client:
            response = await client.post(
                "/api/auth/login",
                json={"username": "proxied", "password": "proxied-password"},
                headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"},
            )
    assert response.status_code == 200
    assert ("secure" in response.headers["set-cookie"].lower()) is secure


async def test_a_forged_forwarded_for_from_an_untrusted_peer_counts_as_the_peer(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'forged.db'}"
    engine = create_engine(Settings(database_url=url))
    await upgrade_to_head(engine)
    async with engine.connect() as conn:
        await users_service.create_user(conn, username="target", password="target-password")
    await engine.dispose()

    with ServerProcess(url, env={"WORKSHOP_DATA_TRUSTED_PROXIES": '["192.0.2.1"]'}) as server:
        async with httpx.AsyncClient(base_url=server.url) as client:
            statuses = [
                (
                    await client.post(
                        "/api/auth/login",
                        json={"username": "target", "password": f"guess-{i}"},
                        headers={"X-Forwarded-For": f"203.0.113.{i + 1}"},
                    )
                ).status_code
                for i in range(11)
            ]
    # Eleven made-up addresses are one peer: ten guesses for the account, then 429.
    assert statuses == [401] * 10 + [429]
