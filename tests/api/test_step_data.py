"""The step data endpoints: response shapes, versions, conflicts and safe retries."""

import asyncio
import re

import httpx
import pytest

from tests.api.support import load, save

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


async def test_original_client_saves_then_reads_back(alice: httpx.AsyncClient) -> None:
    data = {
        "whyReflection": "Because it matters",
        "howReflection": "Step by step",
        "whatReflection": "A calmer team",
        "nextStep": "Talk to Sam",
    }
    saved = await save(alice, data)
    assert saved.status_code == 200
    body = saved.json()
    assert body["success"] is True
    assert body["saved"] is True
    assert body["stepId"] == "ia-3-4"
    assert body["workshopType"] == "ia"
    record = body["data"]
    assert set(record) == {
        "id",
        "userId",
        "workshopType",
        "stepId",
        "data",
        "version",
        "schemaVersion",
        "createdAt",
        "updatedAt",
    }
    assert record["data"] == data
    assert record["version"] == 1
    assert ISO.match(record["createdAt"]) and ISO.match(record["updatedAt"])
    assert body["lastUpdated"] == record["updatedAt"]
    assert saved.headers["etag"] == '"1"'

    loaded = await load(alice)
    assert loaded.status_code == 200
    assert loaded.json() == {
        "success": True,
        "data": data,
        "stepId": "ia-3-4",
        "workshopType": "ia",
        "version": 1,
        "schemaVersion": None,
        "createdAt": record["createdAt"],
        "updatedAt": record["updatedAt"],
        "lastUpdated": record["updatedAt"],
        "locked": False,
        "lockedSince": None,
    }
    assert loaded.headers["etag"] == '"1"'
    assert loaded.headers["cache-control"] == "no-store"


async def test_nothing_saved_yet_is_null_not_404(alice: httpx.AsyncClient) -> None:
    response = await load(alice, "ast", "4-5")
    assert response.status_code == 200
    assert response.json() == {
        "success": True,
        "data": None,
        "stepId": "4-5",
        "workshopType": "ast",
        "version": None,
        "schemaVersion": None,
        "createdAt": None,
        "updatedAt": None,
        "lastUpdated": None,
        "locked": False,
        "lockedSince": None,
    }


async def test_version_rises_only_when_data_changes(alice: httpx.AsyncClient) -> None:
    first = (await save(alice, {"a": "one"})).json()["data"]
    second = (await save(alice, {"a": "two"})).json()["data"]
    same = (await save(alice, {"a": "two"})).json()["data"]
    assert (first["version"], second["version"], same["version"]) == (1, 2, 2)
    assert same["updatedAt"] == second["updatedAt"]
    assert second["createdAt"] == first["createdAt"]
    assert second["updatedAt"] > first["updatedAt"]


async def test_empty_values_are_stored(alice: httpx.AsyncClient) -> None:
    await save(alice, {"reflection": "some text", "tags": ["x"]})
    await save(alice, {"reflection": "", "tags": []})
    assert (await load(alice)).json()["data"] == {"reflection": "", "tags": []}


async def test_text_is_stored_verbatim(alice: httpx.AsyncClient) -> None:
    data = {
        "reflection": "  <b>bold</b> & 'quotes' \"double\"\n\ttabs  ",
        "emoji": "✨ 👩🏽‍💻 中文 עברית",
        "sql": "'); DROP TABLE users; --",
        "numbers": [0, -1, 1.5, 1e-7, 9007199254740993],
        "nested": {"empty": {}, "null": None, "bool": False},
    }
    await save(alice, data)
    assert (await load(alice)).json()["data"] == data


async def test_list_steps_of_a_workshop(alice: httpx.AsyncClient) -> None:
    await save(alice, {"starPower": "Thinking"}, "ast", "2-1")
    await save(alice, {"goals": ["Goal 1"], "timeline": "Q3"}, "ast", "3-2")
    await save(alice, {"whyReflection": "ia only"}, "ia", "ia-3-4")
    body = (await alice.get("/api/workshop-data/steps/ast")).json()
    assert body["success"] is True
    assert body["workshopType"] == "ast"
    assert body["totalSteps"] == 2
    assert body["stepData"] == {
        "2-1": {"starPower": "Thinking"},
        "3-2": {"goals": ["Goal 1"], "timeline": "Q3"},
    }
    assert set(body["steps"]) == {"2-1", "3-2"}
    assert set(body["steps"]["2-1"]) == {
        "data",
        "version",
        "schemaVersion",
        "createdAt",
        "updatedAt",
    }
    assert body["steps"]["3-2"]["version"] == 1


async def test_base_version_conflict_returns_current(alice: httpx.AsyncClient) -> None:
    await save(alice, {"a": "1"}, baseVersion=0)
    await save(alice, {"a": "2"}, baseVersion=1)
    stale = await save(alice, {"a": "stale"}, baseVersion=1)
    assert stale.status_code == 409
    body = stale.json()
    assert body["success"] is False
    assert body["code"] == "version_conflict"
    assert body["error"]
    assert body["current"]["data"] == {"a": "2"}
    assert body["current"]["version"] == 2
    assert ISO.match(body["current"]["updatedAt"])
    assert (await load(alice)).json()["data"] == {"a": "2"}


async def test_base_version_zero_means_must_not_exist(alice: httpx.AsyncClient) -> None:
    assert (await save(alice, {"a": "1"}, baseVersion=0)).status_code == 200
    again = await save(alice, {"a": "other"}, baseVersion=0)
    assert again.status_code == 409
    assert again.json()["current"]["version"] == 1


async def test_base_version_of_missing_step_conflicts(alice: httpx.AsyncClient) -> None:
    response = await save(alice, {"a": "1"}, baseVersion=3)
    assert response.status_code == 409
    assert response.json()["current"] == {
        "data": None,
        "version": None,
        "schemaVersion": None,
        "updatedAt": None,
    }
    assert (await load(alice)).json()["data"] is None


async def test_base_version_via_if_match_header(alice: httpx.AsyncClient) -> None:
    await save(alice, {"a": "1"})
    response = await alice.post(
        "/api/workshop-data/step",
        json={"workshopType": "ia", "stepId": "ia-3-4", "data": {"a": "x"}},
        headers={"If-Match": 'W/"7"'},
    )
    assert response.status_code == 409
    ok = await alice.post(
        "/api/workshop-data/step",
        json={"workshopType": "ia", "stepId": "ia-3-4", "data": {"a": "x"}},
        headers={"If-Match": '"1"'},
    )
    assert ok.status_code == 200
    assert ok.json()["data"]["version"] == 2


@pytest.mark.parametrize("if_match", ['"2147483648"', '"9999999999"', "*", '"-1"'])
async def test_if_match_must_be_a_version(alice: httpx.AsyncClient, if_match: str) -> None:
    response = await alice.post(
        "/api/workshop-data/step",
        json={"workshopType": "ia", "stepId": "ia-3-4", "data": {"a": "x"}},
        headers={"If-Match": if_match},
    )
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "invalid_if_match"
    assert (await load(alice)).json()["data"] is None


async def test_sixteen_concurrent_saves_with_one_base_exactly_one_wins(
    alice: httpx.AsyncClient,
) -> None:
    await save(alice, {"writer": "initial"})
    responses = await asyncio.gather(
        *(save(alice, {"writer": f"w{i}"}, baseVersion=1) for i in range(16))
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [409] * 15
    winner = next(r for r in responses if r.status_code == 200).json()["data"]
    assert winner["version"] == 2
    for loser in (r for r in responses if r.status_code == 409):
        assert loser.json()["current"]["version"] == 2
        assert loser.json()["current"]["data"] == winner["data"]
    stored = (await load(alice)).json()
    assert (stored["version"], stored["data"]) == (2, winner["data"])


async def test_retry_with_same_idempotency_key_is_not_a_conflict(
    alice: httpx.AsyncClient,
) -> None:
    await save(alice, {"a": "1"})
    headers = {"Idempotency-Key": "save-42"}
    body = {"workshopType": "ia", "stepId": "ia-3-4", "data": {"a": "2"}, "baseVersion": 1}
    first = await alice.post("/api/workshop-data/step", json=body, headers=headers)
    retry = await alice.post("/api/workshop-data/step", json=body, headers=headers)
    assert first.status_code == retry.status_code == 200
    assert retry.json()["data"] == first.json()["data"]
    assert retry.json()["data"]["version"] == 2
    other = await alice.post(
        "/api/workshop-data/step", json=body, headers={"Idempotency-Key": "save-43"}
    )
    assert other.status_code == 409


async def test_retry_with_request_id_in_body(alice: httpx.AsyncClient) -> None:
    await save(alice, {"a": "1"})
    first = await save(alice, {"a": "2"}, baseVersion=1, requestId="r-1")
    retry = await save(alice, {"a": "2"}, baseVersion=1, requestId="r-1")
    assert first.status_code == retry.status_code == 200
    assert retry.json()["data"]["version"] == 2


async def test_same_step_id_is_separate_per_workshop_and_user(
    alice: httpx.AsyncClient, bob: httpx.AsyncClient
) -> None:
    await save(alice, {"owner": "alice"}, "ast", "2-1")
    await save(bob, {"owner": "bob"}, "ast", "2-1")
    assert (await load(alice, "ast", "2-1")).json()["data"] == {"owner": "alice"}
    assert (await load(bob, "ast", "2-1")).json()["data"] == {"owner": "bob"}
