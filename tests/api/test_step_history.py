"""Step history and restore, on SQLite and PostgreSQL: every change keeps a version, the
history stays bounded, a restore is a new version under the rules of any save."""

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, insert, select

from tests.api.support import load, login, new_client, save
from tests.support import Account, Backend
from workshop_data.app import close_app, create_app
from workshop_data.db.engine import create_engine
from workshop_data.db.tables import workshop_step_data, workshop_step_history
from workshop_data.step_data.history import HistoryPolicy, preview, versions_to_prune
from workshop_data.timeutil import utc_now

HISTORY = "/api/workshop-data/step/ia/ia-3-4/history"


def restore_path(version: int, step: str = "ia/ia-3-4") -> str:
    return f"/api/workshop-data/step/{step}/restore/{version}"


async def history_rows(backend: Backend, user_id: int) -> int:
    engine = create_engine(backend.settings())
    try:
        async with engine.connect() as conn:
            h = workshop_step_history
            count = await conn.execute(
                select(func.count()).select_from(h).where(h.c.user_id == user_id)
            )
            return int(count.scalar_one())
    finally:
        await engine.dispose()


async def test_every_change_keeps_a_version(alice: httpx.AsyncClient) -> None:
    assert (await alice.get(HISTORY)).json()["versions"] == []
    await save(alice, {"whyReflection": "first   draft\nof mine", "nextStep": ""})
    await save(alice, {"whyReflection": "first   draft\nof mine", "nextStep": ""})  # unchanged
    await save(alice, {"whyReflection": "second", "nextStep": "call Sam"}, baseVersion=1)
    patched = await alice.patch(
        "/api/workshop-data/step/ia/ia-3-4",
        json={"nextStep": "call Kim"},
        headers={"Content-Type": "application/merge-patch+json", "If-Match": '"2"'},
    )
    assert patched.status_code == 200, patched.text

    body = (await alice.get(HISTORY)).json()
    assert body["currentVersion"] == 3
    assert [v["version"] for v in body["versions"]] == [3, 2, 1]
    assert [v["current"] for v in body["versions"]] == [True, False, False]
    # (PostgreSQL's JSONB orders keys its own way, and a patch starts from the stored copy.)
    assert set(body["versions"][0]["preview"].split(" · ")) == {"second", "call Kim"}
    assert body["versions"][2]["preview"] == "first draft of mine"
    assert body["versions"][2]["size"] == len(
        b'{"whyReflection":"first   draft\\nof mine","nextStep":""}'
    )
    assert body["versions"][0]["savedAt"].endswith("Z")
    assert "last 20 versions" in body["retention"]


async def test_restore_makes_an_old_version_the_new_one(alice: httpx.AsyncClient) -> None:
    await save(alice, {"whyReflection": "what I wrote an hour ago"})
    await save(alice, {"whyReflection": ""}, baseVersion=1)  # cleared by mistake
    restored = await alice.post(restore_path(1), json={"baseVersion": 2})
    assert restored.status_code == 200, restored.text
    assert restored.headers["ETag"] == '"3"'
    record = restored.json()["data"]
    assert record["version"] == 3
    assert record["data"] == {"whyReflection": "what I wrote an hour ago"}
    assert (await load(alice)).json()["data"] == {"whyReflection": "what I wrote an hour ago"}
    versions = (await alice.get(HISTORY)).json()["versions"]
    assert [v["version"] for v in versions] == [3, 2, 1]
    # Restoring what is current changes nothing.
    again = await alice.post(restore_path(3))
    assert again.status_code == 200 and again.json()["data"]["version"] == 3


async def test_restore_respects_the_base_version(alice: httpx.AsyncClient) -> None:
    await save(alice, {"whyReflection": "one"})
    await save(alice, {"whyReflection": "two"}, baseVersion=1)
    stale = await alice.post(restore_path(1), json={"baseVersion": 1})
    assert stale.status_code == 409
    assert stale.json()["code"] == "version_conflict"
    assert stale.json()["current"]["version"] == 2
    by_header = await alice.post(restore_path(1), headers={"If-Match": '"1"'})
    assert by_header.status_code == 409
    assert (await load(alice)).json()["data"] == {"whyReflection": "two"}
    assert (await load(alice)).json()["version"] == 2


async def test_a_retried_restore_is_answered_not_refused(alice: httpx.AsyncClient) -> None:
    await save(alice, {"whyReflection": "one"})
    await save(alice, {"whyReflection": "two"}, baseVersion=1)
    key = {"Idempotency-Key": "restore-once"}
    first = await alice.post(restore_path(1), json={"baseVersion": 2}, headers=key)
    retry = await alice.post(restore_path(1), json={"baseVersion": 2}, headers=key)
    assert first.status_code == retry.status_code == 200
    assert first.json()["data"]["version"] == retry.json()["data"]["version"] == 3
    assert (await load(alice)).json()["version"] == 3
    assert len((await alice.get(HISTORY)).json()["versions"]) == 3


async def test_restore_respects_the_lock(alice: httpx.AsyncClient) -> None:
    await save(alice, {"whyReflection": "one"})
    await save(alice, {"whyReflection": "two"}, baseVersion=1)
    await save(alice, {"reflection": "intro one"}, step_id="ia-1-1")
    await save(alice, {"reflection": "intro two"}, step_id="ia-1-1", baseVersion=1)
    assert (await alice.post("/api/workshop-data/complete/ia")).status_code == 200

    refused = await alice.post(restore_path(1))
    assert refused.status_code == 423
    assert refused.json()["code"] == "workshop_locked"
    assert (await load(alice)).json()["data"] == {"whyReflection": "two"}
    # The introduction does not lock on completion: its history can still be restored.
    intro = await alice.post(restore_path(1, "ia/ia-1-1"))
    assert intro.status_code == 200
    assert intro.json()["data"]["data"] == {"reflection": "intro one"}


async def test_bad_restores_are_refused(alice: httpx.AsyncClient) -> None:
    await save(alice, {"whyReflection": "one"})
    missing = await alice.post(restore_path(7))
    assert missing.status_code == 404
    assert missing.json()["code"] == "version_not_found"
    for path, code in (
        (restore_path(0), "invalid_input"),
        ("/api/workshop-data/step/ia/ia-3-4/restore/abc", "invalid_input"),
        ("/api/workshop-data/step/ia/ia-9-9/restore/1", "invalid_step_id"),
        ("/api/workshop-data/step/ia/ia-9-9/history", "invalid_step_id"),
    ):
        method = "GET" if path.endswith("history") else "POST"
        refused = await alice.request(method, path)
        assert refused.status_code == 400, (path, refused.text)
        assert refused.json()["success"] is False
        assert refused.json()["code"] == code
    for body in ([1], {"baseVersion": "2"}, {"baseVersion": -1}, {"other": 1}):
        refused = await alice.post(restore_path(1), json=body)
        assert refused.status_code == 400, (body, refused.text)
    assert (await load(alice)).json()["version"] == 1


async def test_history_is_the_callers_own(alice: httpx.AsyncClient, bob: httpx.AsyncClient) -> None:
    await save(alice, {"whyReflection": "alice's secret"})
    await save(alice, {"whyReflection": "alice's second"}, baseVersion=1)
    assert (await bob.get(HISTORY)).json()["versions"] == []
    # Bob restoring "version 1" finds none of his own; alice's data is untouched.
    assert (await bob.post(restore_path(1))).status_code == 404
    assert (await load(bob)).json()["data"] is None
    assert (await load(alice)).json()["data"] == {"whyReflection": "alice's second"}


async def test_export_includes_history_only_when_asked(
    alice: httpx.AsyncClient, accounts: dict[str, Account]
) -> None:
    await save(alice, {"whyReflection": "one"})
    await save(alice, {"whyReflection": "two"}, baseVersion=1)
    path = f"/api/export/users/{accounts['alice'].id}"
    assert "workshopStepHistory" not in (await alice.get(path)).json()
    history = (await alice.get(path, params={"history": "true"})).json()["workshopStepHistory"]
    versions = history["ia"]["ia-3-4"]
    assert [(v["version"], v["data"]) for v in versions] == [
        (2, {"whyReflection": "two"}),
        (1, {"whyReflection": "one"}),
    ]


@pytest.fixture
async def small_history(
    backend: Backend, accounts: dict[str, Account]
) -> AsyncIterator[httpx.AsyncClient]:
    """alice on a server that keeps 5 versions and one per hour for 1 day."""
    app = create_app(backend.settings(history_versions=5, history_hourly_days=1))
    try:
        async with new_client(app) as client:
            assert (await login(client, accounts["alice"])).status_code == 200
            yield client
    finally:
        await close_app(app)


async def test_history_stays_bounded_after_a_thousand_saves(
    small_history: httpx.AsyncClient, backend: Backend, accounts: dict[str, Account]
) -> None:
    client = small_history
    for n in range(1, 1001):
        response = await save(client, {"whyReflection": f"edit {n}"}, baseVersion=n - 1)
        assert response.status_code == 200, response.text
    policy = HistoryPolicy(5, 1)
    rows = await history_rows(backend, accounts["alice"].id)
    # Within the hour the newest of the hour is the current version, so unless the saves
    # crossed an hour boundary the last 5 versions are all that is left.
    assert 5 <= rows <= 6 <= policy.max_rows
    versions = [v["version"] for v in (await client.get(HISTORY)).json()["versions"]]
    assert versions[:5] == [1000, 999, 998, 997, 996]
    restored = await client.post(restore_path(996), json={"baseVersion": 1000})
    assert restored.json()["data"]["data"] == {"whyReflection": "edit 996"}
    assert await history_rows(backend, accounts["alice"].id) <= 6


async def seed_step_history(
    backend: Backend, user_id: int, saved_at: dict[int, datetime], current: int
) -> None:
    """The step ia/ia-3-4 at version `current`, with history rows of the given versions."""
    engine = create_engine(backend.settings())
    t, h = workshop_step_data, workshop_step_history
    step = {"user_id": user_id, "workshop_type": "ia", "step_id": "ia-3-4"}
    try:
        async with engine.begin() as conn:
            await conn.execute(
                insert(t).values(
                    **step,
                    data={"whyReflection": f"edit {current}"},
                    version=current,
                    created_at=min(saved_at.values()),
                    updated_at=max(saved_at.values()),
                )
            )
            await conn.execute(
                insert(h),
                [
                    {
                        **step,
                        "version": v,
                        "data": {"v": v},
                        "size": 8,
                        "preview": "",
                        "saved_at": at,
                    }
                    for v, at in saved_at.items()
                ],
            )
    finally:
        await engine.dispose()


async def history_saved_at(backend: Backend, user_id: int) -> dict[int, datetime]:
    engine = create_engine(backend.settings())
    h = workshop_step_history
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                select(h.c.version, h.c.saved_at).where(h.c.user_id == user_id)
            )
            return {row.version: row.saved_at for row in rows}
    finally:
        await engine.dispose()


@pytest.mark.parametrize(
    "policy", [HistoryPolicy(3, 2), HistoryPolicy(4, 0), HistoryPolicy(0, 1)], ids=str
)
async def test_a_save_prunes_what_the_retention_rule_does_not_keep(
    backend: Backend, accounts: dict[str, Account], policy: HistoryPolicy
) -> None:
    """Whichever way the backend prunes (on PostgreSQL in the save statement), what is left
    is what `versions_to_prune` keeps: the same rule, row for row."""
    alice = accounts["alice"].id
    start = utc_now()
    # Versions 1..60 every 20 minutes up to now, some versions missing (history switched
    # off for a while), two beyond any kept day, a version a minute either side of the
    # day boundary, and one in the hour of the next save.
    saved_at = {v: start - timedelta(minutes=20 * (61 - v)) for v in range(1, 61)}
    for missing in (10, 11, 12, 40):
        del saved_at[missing]
    saved_at |= {
        61: start - timedelta(days=5),
        62: start - timedelta(days=3),
        63: start - timedelta(days=policy.hourly_days or 1, minutes=-1),
        64: start - timedelta(days=policy.hourly_days or 1, minutes=1),
        65: start - timedelta(seconds=1),
    }
    await seed_step_history(backend, alice, saved_at, current=65)
    app = create_app(
        backend.settings(
            history_versions=policy.keep_versions, history_hourly_days=policy.hourly_days
        )
    )
    try:
        async with new_client(app) as client:
            await login(client, accounts["alice"])
            response = await save(client, {"whyReflection": "edit 66"}, baseVersion=65)
            assert response.status_code == 200, response.text
    finally:
        await close_app(app)
    left = await history_saved_at(backend, alice)
    assert 66 in left
    before = [(v, v, at) for v, at in {**saved_at, 66: left[66]}.items()]
    expected = {v for v, _, _ in before} - set(versions_to_prune(before, policy, left[66]))
    assert set(left) == expected
    assert len(left) <= policy.max_rows


async def test_history_can_be_turned_off(backend: Backend, accounts: dict[str, Account]) -> None:
    app = create_app(backend.settings(history_versions=0, history_hourly_days=0))
    try:
        async with new_client(app) as client:
            await login(client, accounts["alice"])
            assert (await save(client, {"whyReflection": "one"})).status_code == 200
            assert (await save(client, {"whyReflection": "two"})).status_code == 200
            body = (await client.get(HISTORY)).json()
            assert body["versions"] == []
            assert body["retention"] == "Step history is turned off on this server."
            assert (await client.post(restore_path(1))).status_code == 404
    finally:
        await close_app(app)
    assert await history_rows(backend, accounts["alice"].id) == 0


NOW = datetime(2026, 11, 24, 12, 30)


def test_retention_keeps_the_last_versions_and_one_per_hour() -> None:
    policy = HistoryPolicy(keep_versions=3, hourly_days=2)
    # Version v saved 10 minutes apart, newest at NOW: 6 per hour, 72 versions = 12 hours.
    rows = [(v, v, NOW - timedelta(minutes=10 * (72 - v))) for v in range(1, 73)]
    # And three very old versions, beyond the 2 days.
    rows = [(-3, -3, NOW - timedelta(days=5)), (-2, -2, NOW - timedelta(days=3)), *rows]
    pruned = set(versions_to_prune(rows, policy, NOW))
    kept = sorted(v for _, v, _ in rows if v not in pruned)
    newest_per_hour = {
        max(v for _, v, t in rows if t.replace(minute=0) == hour and t >= NOW - timedelta(days=2))
        for _, _, hour in ((0, 0, t.replace(minute=0)) for _, _, t in rows[2:])
    }
    assert kept == sorted(newest_per_hour | {70, 71, 72})
    assert -3 in pruned and -2 in pruned
    assert len(kept) <= policy.max_rows


def test_retention_without_hours_keeps_only_the_last_versions() -> None:
    rows = [(v, v, NOW - timedelta(hours=100 - v)) for v in range(1, 101)]
    pruned = versions_to_prune(rows, HistoryPolicy(keep_versions=4, hourly_days=0), NOW)
    assert sorted(set(range(1, 101)) - set(pruned)) == [97, 98, 99, 100]


def test_preview_is_one_short_line_of_the_text() -> None:
    assert preview({"a": "  two\n lines ", "b": "", "c": [{"text": "x", "tag": "Memory"}]}) == (
        "two lines · x · Memory"
    )
    assert (
        preview({"image": "data:image/png;base64,AAAA", "n": 3, "ok": True}) == "[image] · 3 · true"
    )
    long = preview({"a": "word " * 100})
    assert len(long) <= 120 and long.endswith("…")
