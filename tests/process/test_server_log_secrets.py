"""A real `workshop-data serve` process: its whole log (JSON lines on stderr) holds no
password, password hash, session token or token hash after sign-ins, failed and bad ones, and
a database error whose statement carries a token hash."""

import hashlib
import json
import re
import sqlite3
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from tests.server_process import ServerProcess
from workshop_data.db.engine import create_engine
from workshop_data.db.migrate import upgrade_to_head
from workshop_data.db.tables import users
from workshop_data.settings import Settings
from workshop_data.users import service as users_service

pytestmark = pytest.mark.process

PASSWORD = "logged-nowhere-password"


async def test_the_server_log_holds_no_secret(tmp_path: Path) -> None:
    database = tmp_path / "secrets.db"
    url = f"sqlite:///{database}"
    engine = create_engine(Settings(database_url=url))
    await upgrade_to_head(engine)
    async with engine.connect() as conn:
        await users_service.create_user(conn, username="quiet", password=PASSWORD)
        password_hash = (
            await conn.execute(select(users.c.password_hash).where(users.c.username == "quiet"))
        ).scalar_one()
    await engine.dispose()

    log = tmp_path / "server.log"
    credentials = {"username": "quiet", "password": PASSWORD}
    with ServerProcess(url, log_path=log, env={"WORKSHOP_DATA_LOG_LEVEL": "info"}) as server:
        async with httpx.AsyncClient(base_url=server.url) as client:
            signed_in = await client.post("/api/auth/login", json=credentials)
            assert signed_in.status_code == 200
            token = signed_in.cookies["wd_session"]
            device = signed_in.cookies["wd_session_device"]
            assert (await client.get("/api/auth/me")).status_code == 200
            wrong = {"username": "quiet", "password": PASSWORD + "-wrong"}
            assert (await client.post("/api/auth/login", json=wrong)).status_code == 401
            bad = await client.post(
                "/api/auth/login",
                content=json.dumps({"username": "quiet\u0000", "password": PASSWORD}).encode(),
                headers={"Content-Type": "application/json"},
            )
            assert bad.status_code == 400
            with sqlite3.connect(database) as direct:
                direct.execute(
                    "CREATE TRIGGER refuse_sessions BEFORE INSERT ON sessions "
                    "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
                )
            client.cookies.clear()
            refused = await client.post("/api/auth/login", json=credentials)
            assert refused.status_code == 500
            assert refused.headers["x-request-id"]

    text = log.read_text()
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert any(line.get("level") == "ERROR" for line in lines), "the 500 was logged"
    # The refused insert's error is logged without its values: it ran on the SQLite writer's
    # own connection, whose errors carry no statement parameters (through SQLAlchemy they
    # would read "parameters hidden"). No hash of any token, not even the refused one's.
    assert "refused by the test" in text
    assert "parameters hidden" in text or re.search(r"\b[0-9a-f]{64}\b", text) is None
    secrets = [PASSWORD, password_hash, token, device]
    secrets += [hashlib.sha256(secret.encode()).hexdigest() for secret in (token, device)]
    assert [secret for secret in secrets if secret in text] == []
