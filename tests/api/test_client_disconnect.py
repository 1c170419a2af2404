"""A client that goes away in the middle of its request body is no error: nothing is logged
above INFO, no 500 is sent or counted, and the request's log line says 499."""

import logging

import httpx
import pytest
from fastapi import FastAPI
from starlette.types import Message

from tests.support import session_cookies_of
from workshop_data.ops.logging import REQUEST_LOGGER


@pytest.mark.parametrize("path", ["/api/auth/login", "/api/workshop-data/step"])
async def test_a_disconnect_mid_body_is_not_an_error(
    app: FastAPI, alice: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, path: str
) -> None:
    cookie = "; ".join(f"{k}={v}" for k, v in session_cookies_of(alice.cookies).items()).encode()
    incoming: list[Message] = [
        {"type": "http.request", "body": b'{"username": "al', "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/json"),
            (b"content-length", b"100"),
            (b"cookie", cookie),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    with caplog.at_level(logging.INFO):
        await app(scope, receive, send)
    assert [m for m in sent if m["type"] == "http.response.start" and m["status"] >= 500] == []
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    requests = [r for r in caplog.records if r.name == REQUEST_LOGGER]
    assert [getattr(r, "status", None) for r in requests] == [499]
