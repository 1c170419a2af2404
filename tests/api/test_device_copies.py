"""Device copies in a step's history (POST …/history), on SQLite and PostgreSQL: a device's own
text, kept before a merge replaced it, is listed, exported and restorable like any version,
scoped to its owner, checked like a save, refused once locked, and bounded."""

import httpx
from sqlalchemy import func, select

from tests.api.support import load, login, new_client, save
from tests.api.test_step_history import HISTORY, restore_path
from tests.support import Account, Backend
from workshop_data.app import close_app, create_app
from workshop_data.db.engine import create_engine
from workshop_data.db.tables import workshop_step_history


async def device_rows(backend: Backend, user_id: int) -> int:
    engine = create_engine(backend.settings())
    h = workshop_step_history
    try:
        async with engine.connect() as conn:
            count = await conn.execute(
                select(func.count())
                .select_from(h)
                .where(h.c.user_id == user_id, h.c.source == "device")
            )
            return int(count.scalar_one())
    finally:
        await engine.dispose()


async def keep_copy(client: httpx.AsyncClient, body: object, path: str = HISTORY) -> httpx.Response:
    return await client.post(path, json=body)


async def test_a_device_copy_is_listed_restorable_and_exported(
    alice: httpx.AsyncClient, accounts: dict[str, Account]
) -> None:
    await save(alice, {"whyReflection": "I want to grow as a leader this year."})
    await save(alice, {"whyReflection": "My team needs me to be more present."}, baseVersion=1)
    device = {"whyReflection": "Honestly, I need a new job where I can learn."}
    kept = await keep_copy(alice, {"data": device, "schemaVersion": 2})
    assert kept.status_code == 200, kept.text
    body = kept.json()
    assert body["kept"] is True
    assert body["entry"]["version"] == -1
    assert body["entry"]["source"] == "device"
    assert body["entry"]["preview"] == "Honestly, I need a new job where I can learn."
    # A retry of the same copy is answered with the one kept, not kept twice.
    again = await keep_copy(alice, {"data": device, "schemaVersion": 2})
    assert again.status_code == 200 and again.json()["entry"]["version"] == -1

    versions = (await alice.get(HISTORY)).json()["versions"]
    assert [(v["version"], v["source"], v["current"]) for v in versions] == [
        (-1, "device", False),
        (2, "save", True),
        (1, "save", False),
    ]
    # Saves go on numbering from the step's version; a further copy is -2.
    await save(alice, {"whyReflection": "merged"}, baseVersion=2)
    second = await keep_copy(alice, {"data": {"whyReflection": "another device's"}})
    assert second.json()["entry"]["version"] == -2
    versions = (await alice.get(HISTORY)).json()["versions"]
    assert [v["version"] for v in versions] == [-2, 3, -1, 2, 1]

    restored = await alice.post(restore_path(-1), json={"baseVersion": 3})
    assert restored.status_code == 200, restored.text
    record = restored.json()["data"]
    assert (record["version"], record["data"], record["schemaVersion"]) == (4, device, 2)
    assert (await load(alice)).json()["data"] == device

    path = f"/api/export/users/{accounts['alice'].id}"
    exported = (await alice.get(path, params={"history": "true"})).json()["workshopStepHistory"]
    by_version = {v["version"]: v for v in exported["ia"]["ia-3-4"]}
    assert by_version[-1]["source"] == "device" and by_version[-1]["data"] == device
    assert by_version[4]["source"] == "save"


async def test_device_copies_are_the_callers_own(
    alice: httpx.AsyncClient,
    bob: httpx.AsyncClient,
    anon: httpx.AsyncClient,
    backend: Backend,
    accounts: dict[str, Account],
) -> None:
    await save(alice, {"whyReflection": "alice's"})
    kept = await keep_copy(alice, {"data": {"whyReflection": "alice's device"}})
    assert kept.status_code == 200
    # Bob sees none of alice's copies, cannot restore one, and his own go to his step.
    assert (await bob.get(HISTORY)).json()["versions"] == []
    assert (await bob.post(restore_path(-1))).status_code == 404
    bobs = await keep_copy(bob, {"data": {"whyReflection": "alice's device"}})
    assert bobs.status_code == 200
    # Numbered and compared among bob's copies only: his first, though it equals alice's.
    assert bobs.json()["entry"]["version"] == -1
    alices = (await alice.get(HISTORY)).json()["versions"]
    assert [v["preview"] for v in alices] == ["alice's device", "alice's"]
    assert await device_rows(backend, accounts["alice"].id) == 1
    assert await device_rows(backend, accounts["bob"].id) == 1
    # Not signed in: nothing kept.
    assert (await anon.post(HISTORY, json={"data": {"x": "y"}})).status_code == 401
    assert await device_rows(backend, accounts["alice"].id) == 1


async def test_bad_device_copies_are_refused(
    alice: httpx.AsyncClient, backend: Backend, accounts: dict[str, Account]
) -> None:
    for body in (
        [1],
        {},
        {"data": "text"},
        {"data": [1]},
        {"data": {}, "schemaVersion": 0},
        {"data": {}, "schemaVersion": "2"},
        {"data": {}, "other": 1},
        {"data": {"bad": "\u0000"}},
    ):
        refused = await keep_copy(alice, body)
        assert refused.status_code == 400, (body, refused.text)
        assert refused.json()["success"] is False
    unknown = await keep_copy(alice, {"data": {}}, "/api/workshop-data/step/ia/ia-9-9/history")
    assert unknown.status_code == 400 and unknown.json()["code"] == "invalid_step_id"
    not_json = await alice.post(HISTORY, content=b"{", headers={"Content-Type": "application/json"})
    assert not_json.status_code == 400
    huge = await keep_copy(alice, {"data": {"whyReflection": "x" * (8 * 1024 * 1024)}})
    assert huge.status_code == 413, huge.text
    assert (await alice.post(restore_path(0))).status_code == 400
    assert await device_rows(backend, accounts["alice"].id) == 0


async def test_a_device_copy_is_refused_once_locked(
    alice: httpx.AsyncClient, backend: Backend, accounts: dict[str, Account]
) -> None:
    await save(alice, {"whyReflection": "one"})
    assert (await alice.post("/api/workshop-data/complete/ia")).status_code == 200
    refused = await keep_copy(alice, {"data": {"whyReflection": "too late"}})
    assert refused.status_code == 423
    assert refused.json()["code"] == "workshop_locked"
    assert await device_rows(backend, accounts["alice"].id) == 0
    # The introduction does not lock on completion.
    intro = await keep_copy(
        alice, {"data": {"reflection": "intro"}}, "/api/workshop-data/step/ia/ia-1-1/history"
    )
    assert intro.status_code == 200 and intro.json()["kept"] is True


async def test_device_copies_are_bounded_and_leave_the_saves_alone(
    backend: Backend, accounts: dict[str, Account]
) -> None:
    app = create_app(backend.settings(history_versions=5, history_hourly_days=1))
    try:
        async with new_client(app) as client:
            await login(client, accounts["alice"])
            for n in range(1, 8):
                assert (
                    await save(client, {"whyReflection": f"save {n}"}, baseVersion=n - 1)
                ).status_code == 200
            for n in range(1, 31):
                kept = await keep_copy(client, {"data": {"whyReflection": f"device {n}"}})
                assert kept.json()["entry"]["version"] == -n
            # Saves after the copies prune saves only.
            for n in range(8, 11):
                assert (
                    await save(client, {"whyReflection": f"save {n}"}, baseVersion=n - 1)
                ).status_code == 200
            versions = (await client.get(HISTORY)).json()["versions"]
    finally:
        await close_app(app)
    copies = [v["version"] for v in versions if v["source"] == "device"]
    saves = [v["version"] for v in versions if v["source"] == "save"]
    # All within one hour (unless the test crossed an hour): the newest 5, perhaps one more.
    assert copies[:5] == [-30, -29, -28, -27, -26] and len(copies) <= 6, copies
    assert saves[:5] == [10, 9, 8, 7, 6] and len(saves) <= 6, saves


async def test_no_device_copy_is_kept_without_history(
    backend: Backend, accounts: dict[str, Account]
) -> None:
    app = create_app(backend.settings(history_versions=0, history_hourly_days=0))
    try:
        async with new_client(app) as client:
            await login(client, accounts["alice"])
            kept = await keep_copy(client, {"data": {"whyReflection": "x"}})
            assert kept.status_code == 200
            assert kept.json() == {"success": True, "kept": False, "entry": None}
    finally:
        await close_app(app)
    assert await device_rows(backend, accounts["alice"].id) == 0
