"""The benchmark peer: the original platform's save path (Node, Express 5, express-session in
PostgreSQL by connect-pg-simple, pg), built and started here with its own database.

`npm ci` installs it from the committed `bench/original_stack/package-lock.json`; its schema is
`bench/original_stack/schema.sql`; users and their sessions are seeded directly, with cookies
signed the way express-session signs them, so wrk can send them like a browser would."""

import asyncio
import base64
import hashlib
import hmac
import json
import os
import secrets
import shutil
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import asyncpg
import httpx
from tests.server_process import free_port

from bench.common import require

PEER_DIR = Path(__file__).with_name("original_stack")
_INSTALLED = PEER_DIR / "node_modules" / ".installed"
SESSION_MAX_AGE = timedelta(days=14)


def install() -> None:
    """`npm ci` when the lockfile is newer than the last install."""
    lockfile = PEER_DIR / "package-lock.json"
    if _INSTALLED.exists() and _INSTALLED.stat().st_mtime >= lockfile.stat().st_mtime:
        return
    subprocess.run(
        [require("npm"), "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=PEER_DIR,
        check=True,
    )
    _INSTALLED.touch()


def _signed_cookie(sid: str, secret: str) -> str:
    """express-session's cookie value: `s:` + sid + `.` + base64(HMAC-SHA256) without padding."""
    digest = hmac.new(secret.encode(), sid.encode(), hashlib.sha256).digest()
    signature = base64.b64encode(digest).decode().rstrip("=")
    return "connect.sid=" + quote(f"s:{sid}.{signature}", safe="")


async def seed(database_url: str, count: int, secret: str) -> list[str]:
    """The peer's schema, `count` users with a live session each; their Cookie header values."""
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute((PEER_DIR / "schema.sql").read_text())
        await conn.executemany(
            "INSERT INTO users (username) VALUES ($1)", [(f"bench-{i}",) for i in range(count)]
        )
        ids = [row["id"] for row in await conn.fetch("SELECT id FROM users ORDER BY id")]
        expires = datetime.now(UTC) + SESSION_MAX_AGE
        rows, cookies = [], []
        for user_id in ids:
            sid = secrets.token_urlsafe(24)
            sess = {
                "cookie": {
                    "originalMaxAge": int(SESSION_MAX_AGE.total_seconds() * 1000),
                    "expires": expires.isoformat(),
                    "httpOnly": True,
                    "path": "/",
                    "sameSite": "lax",
                },
                "userId": user_id,
            }
            rows.append((sid, json.dumps(sess), expires.replace(tzinfo=None)))
            cookies.append(_signed_cookie(sid, secret))
        await conn.executemany(
            "INSERT INTO session (sid, sess, expire) VALUES ($1, $2::json, $3)", rows
        )
        return cookies
    finally:
        await conn.close()


class OriginalStack:
    """The peer's server process on a free port."""

    def __init__(self, database_url: str, secret: str, pool_size: int = 10) -> None:
        self.database_url = database_url
        self.secret = secret
        self.pool_size = pool_size
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> "OriginalStack":
        node = shutil.which("node")
        if node is None:
            raise SystemExit("node is not installed; it runs the original-stack peer")
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "PORT": str(self.port),
            "SESSION_SECRET": self.secret,
            "POOL_SIZE": str(self.pool_size),
            "NODE_ENV": "production",
        }
        self.process = subprocess.Popen(
            [node, "server.js"], cwd=PEER_DIR, env=env, stdout=subprocess.DEVNULL
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the original-stack peer exited with {self.process.returncode}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("the original-stack peer did not start")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def prepare(database_url: str, users: int) -> tuple[OriginalStack, list[str]]:
    install()
    secret = secrets.token_urlsafe(32)
    cookies = asyncio.run(seed(database_url, users, secret))
    return OriginalStack(database_url, secret), cookies
