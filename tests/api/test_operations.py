"""Request ids, structured logs and Prometheus metrics."""

import json
import logging
import re
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import ValidationError

from tests.api.support import new_client, save
from tests.support import Account, Backend
from workshop_data.app import close_app, create_app
from workshop_data.ops.logging import REQUEST_LOGGER, configure_logging
from workshop_data.settings import Settings


def metric(text: str, name: str, labels: str = "") -> float:
    match = re.search(rf"^{re.escape(name + labels)} ([0-9.e+]+)$", text, re.M)
    return float(match.group(1)) if match else 0.0


async def test_request_id_is_echoed_or_made(anon: httpx.AsyncClient) -> None:
    given = await anon.get("/healthz", headers={"X-Request-ID": "trace-42"})
    assert given.headers["x-request-id"] == "trace-42"
    made = await anon.get("/healthz")
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["x-request-id"])
    hostile = await anon.get("/healthz", headers={"X-Request-ID": "bad id\nwith newline"})
    assert re.fullmatch(r"[0-9a-f]{32}", hostile.headers["x-request-id"])


async def test_every_request_is_logged_with_its_id_and_user(
    alice: httpx.AsyncClient, accounts: dict[str, Account], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger=REQUEST_LOGGER):
        started = time.perf_counter()
        response = await alice.post(
            "/api/workshop-data/step",
            json={"workshopType": "ia", "stepId": "ia-3-4", "data": {"a": "secret text"}},
            headers={"X-Request-ID": "req-1"},
        )
        elapsed_ms = (time.perf_counter() - started) * 1000
    assert response.status_code == 200
    records = [r for r in caplog.records if getattr(r, "request_id", None) == "req-1"]
    assert len(records) == 1
    record = records[0]
    assert record.method == "POST"  # type: ignore[attr-defined]
    assert record.route == "/api/workshop-data/step"  # type: ignore[attr-defined]
    assert record.status == 200  # type: ignore[attr-defined]
    assert record.user_id == accounts["alice"].id  # type: ignore[attr-defined]
    # Measured inside the request, in milliseconds: more than nothing, less than the whole call.
    assert 0 < record.latency_ms <= elapsed_ms  # type: ignore[attr-defined]
    assert "secret text" not in caplog.text
    assert alice.cookies["wd_session"] not in caplog.text
    assert alice.cookies["wd_session_device"] not in caplog.text


def test_log_lines_are_json(capsys: pytest.CaptureFixture[str]) -> None:
    logger = logging.getLogger("workshop_data")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    try:
        configure_logging("info")
        logging.getLogger(REQUEST_LOGGER).info(
            "request", extra={"request_id": "abc", "status": 201}
        )
    finally:
        logger.handlers[:], logger.level, logger.propagate = saved
    line = capsys.readouterr().err.strip().splitlines()[-1]
    entry = json.loads(line)
    assert entry["message"] == "request"
    assert entry["request_id"] == "abc"
    assert entry["status"] == 201
    assert entry["level"] == "INFO"


async def test_a_request_is_one_json_line_on_stderr(
    alice: httpx.AsyncClient, accounts: dict[str, Account], capsys: pytest.CaptureFixture[str]
) -> None:
    logger = logging.getLogger("workshop_data")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    try:
        configure_logging("info")
        response = await alice.get(
            "/api/workshop-data/step/ia/ia-3-4", headers={"X-Request-ID": "json-line-1"}
        )
    finally:
        logger.handlers[:], logger.level, logger.propagate = saved
    assert response.status_code == 200
    err = capsys.readouterr().err
    lines = [json.loads(line) for line in err.splitlines() if "json-line-1" in line]
    assert len(lines) == 1, err
    entry = lines[0]
    assert {key: entry[key] for key in ("level", "logger", "message", "request_id")} == {
        "level": "INFO",
        "logger": REQUEST_LOGGER,
        "message": "request",
        "request_id": "json-line-1",
    }
    assert entry["method"] == "GET"
    assert entry["path"] == "/api/workshop-data/step/ia/ia-3-4"
    assert entry["route"] == "/api/workshop-data/step/{workshopType}/{stepId}"
    assert entry["status"] == 200
    assert entry["user_id"] == accounts["alice"].id
    assert isinstance(entry["latency_ms"], float)
    assert isinstance(entry["process"], int)
    assert datetime.fromisoformat(entry["time"]).utcoffset() == timedelta(0)
    assert alice.cookies["wd_session"] not in err
    assert alice.cookies["wd_session_device"] not in err


async def test_an_unexpected_error_keeps_its_request_id(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken() -> None:
        raise RuntimeError("the database said something private")

    app.router.routes.insert(0, APIRoute("/api/broken", broken))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        with caplog.at_level(logging.INFO, logger="workshop_data"):
            response = await client.get("/api/broken", headers={"X-Request-ID": "oops-1"})
    assert response.status_code == 500
    assert response.headers["x-request-id"] == "oops-1"
    assert "private" not in response.text
    logged = {
        (r.name, r.levelname) for r in caplog.records if getattr(r, "request_id", 0) == "oops-1"
    }
    assert logged == {("workshop_data", "ERROR"), (REQUEST_LOGGER, "INFO")}


METRICS_TOKEN = "a-scraper-token-of-the-test-run-0123456789"
SCRAPER = {"Authorization": f"Bearer {METRICS_TOKEN}"}


@pytest.fixture
async def scraped_app(backend: Backend) -> AsyncIterator[FastAPI]:
    """An app whose /metrics answers the test's scraper (the counters are the process's)."""
    application = create_app(backend.settings(metrics_token=METRICS_TOKEN))
    yield application
    await close_app(application)


async def test_metrics_count_requests_saves_conflicts_and_locks(
    scraped_app: FastAPI, alice: httpx.AsyncClient
) -> None:
    async with new_client(scraped_app) as scraper:
        scraper.headers.update(SCRAPER)
        before = (await scraper.get("/metrics")).text
        assert (await save(alice, {"a": "1"})).status_code == 200
        assert (await save(alice, {"a": "2"}, baseVersion=0)).status_code == 409
        await alice.post("/api/workshop-data/complete/ia")
        assert (await save(alice, {"a": "3"})).status_code == 423
        after = await scraper.get("/metrics")
    assert after.status_code == 200
    assert after.headers["content-type"].startswith("text/plain")
    text = after.text
    saves, ia = "workshop_data_saves_total", '{workshop_type="ia"}'
    assert metric(text, saves, ia) - metric(before, saves, ia) == 1
    conflicts = "workshop_data_version_conflicts_total"
    assert metric(text, conflicts) - metric(before, conflicts) == 1
    locked = "workshop_data_locked_rejections_total"
    assert metric(text, locked) - metric(before, locked) == 1
    ok = 'workshop_data_requests_total{method="POST",route="/api/workshop-data/step",status="200"}'
    assert metric(text, ok) - metric(before, ok) == 1


async def test_metrics_can_be_switched_off(backend: Backend) -> None:
    app = create_app(backend.settings(metrics_enabled=False, metrics_token=METRICS_TOKEN))
    try:
        async with new_client(app) as client:
            assert (await client.get("/metrics", headers=SCRAPER)).status_code == 404
    finally:
        await close_app(app)


async def test_metrics_are_not_public_by_default(anon: httpx.AsyncClient) -> None:
    # No token set: nothing at that address, for anyone, whatever they send.
    for headers in ({}, {"Authorization": "Bearer "}, SCRAPER):
        response = await anon.get("/metrics", headers=headers)
        assert response.status_code == 404, headers
        assert "workshop_data_requests_total" not in response.text


async def test_metrics_answer_only_the_scrapers_bearer_token(
    backend: Backend, alice: httpx.AsyncClient
) -> None:
    app = create_app(backend.settings(metrics_token=METRICS_TOKEN))
    try:
        async with new_client(app) as client:
            for headers in (
                {},
                {"Authorization": f"Bearer {METRICS_TOKEN[:-1]}"},
                {"Authorization": f"Basic {METRICS_TOKEN}"},
                {"Authorization": METRICS_TOKEN},
                {"Cookie": "; ".join(f"{k}={v}" for k, v in alice.cookies.items())},
            ):
                refused = await client.get("/metrics", headers=headers)
                assert refused.status_code == 401, headers
                assert refused.json()["code"] == "not_authenticated"
                assert "workshop_data_requests_total" not in refused.text
            scraped = await client.get("/metrics", headers=SCRAPER)
            assert scraped.status_code == 200
            assert "workshop_data_requests_total" in scraped.text
    finally:
        await close_app(app)


def test_a_short_metrics_token_is_refused() -> None:
    with pytest.raises(ValidationError):
        Settings(metrics_token="guessable")
