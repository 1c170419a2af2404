"""A step's schema version: stored with the document a save writes, returned by every read,
the 409's `current` and the export; a patch keeps it unless X-Schema-Version says otherwise."""

from typing import Any

import httpx
import orjson
import pytest

from tests.api.support import ClientFor, load, save
from tests.support import MakeAccount

PATH = "/api/workshop-data/step/ia/ia-3-4"
MERGE = {"Content-Type": "application/merge-patch+json"}


@pytest.fixture
async def writer(make_account: MakeAccount, client_for: ClientFor) -> httpx.AsyncClient:
    return await client_for(await make_account())


async def test_a_save_stores_its_schema_version_and_every_read_returns_it(
    writer: httpx.AsyncClient,
) -> None:
    saved = await save(writer, {"goal": "Run"}, schemaVersion=2)
    assert saved.status_code == 200, saved.text
    assert saved.json()["data"]["schemaVersion"] == 2

    loaded = (await load(writer)).json()
    assert loaded["schemaVersion"] == 2
    listed = (await writer.get("/api/workshop-data/steps/ia")).json()
    assert listed["steps"]["ia-3-4"]["schemaVersion"] == 2


async def test_without_a_schema_version_it_is_null(writer: httpx.AsyncClient) -> None:
    assert (await load(writer)).json()["schemaVersion"] is None  # never saved
    saved = await save(writer, {"goal": "Run"})
    assert saved.json()["data"]["schemaVersion"] is None
    assert (await load(writer)).json()["schemaVersion"] is None


async def test_saving_the_same_data_in_a_new_schema_version_is_a_new_version(
    writer: httpx.AsyncClient,
) -> None:
    first = (await save(writer, {"goal": "Run"}, schemaVersion=1)).json()["data"]
    again = (await save(writer, {"goal": "Run"}, schemaVersion=1)).json()["data"]
    assert again["version"] == first["version"]  # nothing changed
    moved = await save(writer, {"goal": "Run"}, schemaVersion=2, baseVersion=first["version"])
    assert moved.status_code == 200, moved.text
    assert moved.json()["data"]["version"] == first["version"] + 1
    assert moved.json()["data"]["schemaVersion"] == 2
    upserted = (await save(writer, {"goal": "Run"}, schemaVersion=3)).json()["data"]
    assert upserted["version"] == first["version"] + 2
    assert upserted["schemaVersion"] == 3


async def test_a_conflict_names_the_stored_schema_version(writer: httpx.AsyncClient) -> None:
    await save(writer, {"goal": "Run"}, schemaVersion=4)
    refused = await save(writer, {"goal": "Walk"}, schemaVersion=4, baseVersion=0)
    assert refused.status_code == 409
    assert refused.json()["current"]["schemaVersion"] == 4


@pytest.mark.parametrize("bad", [0, -1, "2", 1.5, True, 2**31])
async def test_a_schema_version_must_be_a_positive_integer(
    writer: httpx.AsyncClient, bad: Any
) -> None:
    refused = await save(writer, {"goal": "Run"}, schemaVersion=bad)
    assert refused.status_code == 400, refused.text
    assert (await load(writer)).json()["data"] is None


async def test_a_patch_keeps_the_stored_schema_version_unless_it_names_one(
    writer: httpx.AsyncClient,
) -> None:
    await save(writer, {"goal": "Run", "why": "Fit"}, schemaVersion=2)
    kept = await writer.patch(PATH, content=orjson.dumps({"why": "Joy"}), headers=MERGE)
    assert kept.status_code == 200, kept.text
    assert kept.json()["data"]["schemaVersion"] == 2

    moved = await writer.patch(
        PATH, content=orjson.dumps({"why": "Calm"}), headers={**MERGE, "X-Schema-Version": "3"}
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["data"]["schemaVersion"] == 3
    assert (await load(writer)).json()["schemaVersion"] == 3


@pytest.mark.parametrize("bad", ["0", "two", "-1", "99999999999", "2147483648"])
async def test_a_bad_schema_version_header_is_refused(writer: httpx.AsyncClient, bad: str) -> None:
    refused = await writer.patch(
        PATH, content=orjson.dumps({"why": "Calm"}), headers={**MERGE, "X-Schema-Version": bad}
    )
    assert refused.status_code == 400, refused.text
    assert refused.json()["code"] == "invalid_schema_version"


async def test_the_export_returns_the_schema_version(
    make_account: MakeAccount, client_for: ClientFor, root: httpx.AsyncClient
) -> None:
    account = await make_account()
    owner = await client_for(account)
    await save(owner, {"goal": "Run"}, schemaVersion=5)
    await save(owner, {"moments": []}, "ia", "ia-4-2")
    export = (await root.get(f"/api/export/users/{account.id}")).json()
    steps = export["workshopStepData"]["ia"]
    assert steps["ia-3-4"]["schemaVersion"] == 5
    assert steps["ia-4-2"]["schemaVersion"] is None


async def test_a_restore_brings_back_the_schema_version_of_the_kept_version(
    writer: httpx.AsyncClient,
) -> None:
    await save(writer, {"goal": "Run"}, schemaVersion=1)
    await save(writer, {"goal": "Walk"}, schemaVersion=2)
    await save(writer, {"goal": "Swim"})
    restored = await writer.post(f"{PATH}/restore/1", json={"baseVersion": 3})
    assert restored.status_code == 200, restored.text
    assert restored.json()["data"]["data"] == {"goal": "Run"}
    # Written in version 1 of the step's shape: the client migrates it from there.
    assert restored.json()["data"]["schemaVersion"] == 1
    again = await writer.post(f"{PATH}/restore/3", json={"baseVersion": 4})
    assert again.status_code == 200, again.text
    assert again.json()["data"]["data"] == {"goal": "Swim"}
    assert again.json()["data"]["schemaVersion"] is None
