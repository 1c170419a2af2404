"""PATCH /api/workshop-data/step/{workshopType}/{stepId}: RFC 7396 merge patches of a step's
data, with the save's version check, lock, limits and idempotency."""

import asyncio
from typing import Any

import httpx
import orjson
import pytest

from tests.api.support import load, save

PATH = "/api/workshop-data/step/ia/ia-3-4"
MERGE = {"Content-Type": "application/merge-patch+json"}
STORED = {
    "title": "Rebirth",
    "gone": "remove me",
    "nested": {"x": 1, "y": 2, "deeper": {"a": "a", "b": "b"}},
    "list": [1, 2, {"k": "v"}],
}


async def patch(
    client: httpx.AsyncClient, body: Any, path: str = PATH, **headers: str
) -> httpx.Response:
    return await client.patch(path, content=orjson.dumps(body), headers={**MERGE, **headers})


@pytest.fixture
async def stored(alice: httpx.AsyncClient) -> dict[str, Any]:
    response = await save(alice, STORED, "ia", "ia-3-4")
    assert response.status_code == 200
    record: dict[str, Any] = response.json()["data"]
    assert record["version"] == 1
    return record


async def assert_unchanged(client: httpx.AsyncClient, record: dict[str, Any]) -> None:
    current = (await load(client)).json()
    assert current["data"] == STORED
    assert (current["version"], current["updatedAt"]) == (record["version"], record["updatedAt"])


async def test_merge_patch_semantics(alice: httpx.AsyncClient, stored: dict[str, Any]) -> None:
    response = await patch(
        alice,
        {
            "gone": None,  # null deletes a key
            "nested": {"y": None, "z": 3, "deeper": {"b": "B", "c": "c"}},  # objects merge
            "list": ["replaced"],  # arrays replace
            "title": "Rebirth II",
            "absent": None,  # deleting what is not there is nothing
        },
        **{"If-Match": '"1"'},
    )
    assert response.status_code == 200, response.text
    expected = {
        "title": "Rebirth II",
        "nested": {"x": 1, "z": 3, "deeper": {"a": "a", "b": "B", "c": "c"}},
        "list": ["replaced"],
    }
    body = response.json()
    assert body["success"] is True and body["saved"] is True
    assert body["data"]["data"] == expected
    assert body["data"]["version"] == 2
    assert (body["stepId"], body["workshopType"]) == ("ia-3-4", "ia")
    assert response.headers["ETag"] == '"2"'
    loaded = (await load(alice)).json()
    assert (loaded["data"], loaded["version"]) == (expected, 2)


async def test_a_patch_that_changes_nothing_keeps_the_version(
    alice: httpx.AsyncClient, stored: dict[str, Any]
) -> None:
    response = await patch(alice, {"title": "Rebirth", "absent": None}, **{"If-Match": '"1"'})
    assert response.status_code == 200
    assert response.json()["data"]["version"] == 1
    await assert_unchanged(alice, stored)


async def test_patch_without_a_row_applies_to_an_empty_document(alice: httpx.AsyncClient) -> None:
    created = await patch(alice, {"a": {"b": 1}, "c": None})
    assert created.status_code == 200
    assert created.json()["data"]["data"] == {"a": {"b": 1}}
    assert created.json()["data"]["version"] == 1
    other = await patch(alice, {"x": 1}, "/api/workshop-data/step/ia/ia-3-2", **{"If-Match": '"0"'})
    assert other.status_code == 200
    assert other.json()["data"]["version"] == 1
    # Base 0 means "must not exist yet".
    again = await patch(alice, {"x": 2}, "/api/workshop-data/step/ia/ia-3-2", **{"If-Match": '"0"'})
    assert again.status_code == 409
    assert again.json()["current"]["version"] == 1


@pytest.mark.parametrize(
    "headers",
    [{"If-Match": '"1"'}, {"If-Match": 'W/"1"'}, {"X-Base-Version": "1"}, {"If-Match": "1"}],
    ids=["strong", "weak", "x-base-version", "bare"],
)
async def test_base_version_headers(
    alice: httpx.AsyncClient, stored: dict[str, Any], headers: dict[str, str]
) -> None:
    ok = await patch(alice, {"title": "one"}, **headers)
    assert ok.status_code == 200, ok.text
    assert ok.json()["data"]["version"] == 2
    # The same base again is now stale.
    stale = await patch(alice, {"title": "two"}, **headers)
    assert stale.status_code == 409
    assert (await load(alice)).json()["data"]["title"] == "one"


async def test_conflict_is_409_with_the_current_version(
    alice: httpx.AsyncClient, stored: dict[str, Any]
) -> None:
    assert (await save(alice, STORED | {"title": "elsewhere"}, baseVersion=1)).status_code == 200
    response = await patch(alice, {"title": "mine"}, **{"If-Match": '"1"'})
    assert response.status_code == 409
    error = response.json()
    assert error["code"] == "version_conflict"
    assert error["current"]["version"] == 2
    assert error["current"]["data"] == STORED | {"title": "elsewhere"}
    assert error["current"]["updatedAt"]
    assert (await load(alice)).json()["data"]["title"] == "elsewhere"
    missing = await patch(
        alice, {"a": 1}, "/api/workshop-data/step/ia/ia-3-2", **{"X-Base-Version": "4"}
    )
    assert missing.status_code == 409
    assert missing.json()["current"] == {
        "data": None,
        "version": None,
        "schemaVersion": None,
        "updatedAt": None,
    }


async def test_locked_workshop_is_423(alice: httpx.AsyncClient, stored: dict[str, Any]) -> None:
    completed = await alice.post("/api/workshop-data/complete/ia")
    assert completed.status_code == 200
    for headers in ({}, {"If-Match": '"1"'}, {"If-Match": '"7"'}, {"Idempotency-Key": "k"}):
        response = await patch(alice, {"title": "after"}, **headers)
        assert response.status_code == 423, headers
        error = response.json()
        assert error["code"] == "workshop_locked"
        assert (error["stepId"], error["workshopType"]) == ("ia-3-4", "ia")
        assert error["lockedSince"] == completed.json()["completedAt"]
    # Even a patch that would change nothing is refused, as the same POST would be.
    assert (await patch(alice, {"title": "Rebirth"})).status_code == 423
    await assert_unchanged(alice, stored)


async def test_idempotent_retry_returns_the_stored_record(
    alice: httpx.AsyncClient, stored: dict[str, Any]
) -> None:
    headers = {"If-Match": '"1"', "Idempotency-Key": "patch-1"}
    first = await patch(alice, {"title": "once"}, **headers)
    assert first.status_code == 200
    retry = await patch(alice, {"title": "once"}, **headers)
    assert retry.status_code == 200, retry.text
    assert retry.json()["data"] == first.json()["data"]
    assert retry.headers["ETag"] == '"2"'
    # Another key with the stale base is a conflict.
    other = await patch(alice, {"title": "once"}, **{"If-Match": '"1"', "Idempotency-Key": "x"})
    assert other.status_code == 409


async def test_concurrent_patches_without_a_base_all_land(alice: httpx.AsyncClient) -> None:
    assert (await save(alice, {"start": True})).status_code == 200
    responses = await asyncio.gather(*(patch(alice, {f"key{i}": i}) for i in range(8)))
    assert [r.status_code for r in responses] == [200] * 8
    data = (await load(alice)).json()["data"]
    assert data == {"start": True, **{f"key{i}": i for i in range(8)}}


BAD = [
    ("an array", b"[1, 2]", 400, "JSON object"),
    ("a string", b'"text"', 400, "JSON object"),
    ("null", b"null", 400, "JSON object"),
    ("empty", b"", 400, "empty"),
    ("broken json", b'{"a": ', 400, "not valid JSON"),
    ("too deep", b'{"a": ' * 70 + b"1" + b"}" * 70, 400, "nested deeper than 64"),
    ("NUL in a key", b'{"a\\u0000": 1}', 400, "NUL"),
    ("lone surrogate in a key", b'{"\\ud800": 1}', 400, "surrogate"),
    ("NUL in a value", b'{"nested": {"t": "a\\u0000"}}', 400, "data.nested.t"),
    ("NaN", b'{"a": NaN}', 400, "finite"),
    ("huge integer", b'{"n": ' + b"9" * 40 + b"}", 400, "data.n"),
]


@pytest.mark.parametrize(("case", "raw", "status", "mentions"), BAD, ids=[c[0] for c in BAD])
async def test_bad_patches_are_refused_and_change_nothing(
    alice: httpx.AsyncClient,
    stored: dict[str, Any],
    case: str,
    raw: bytes,
    status: int,
    mentions: str,
) -> None:
    response = await alice.patch(PATH, content=raw, headers=MERGE)
    assert response.status_code == status, response.text
    error = response.json()
    assert error["success"] is False and error["code"]
    assert mentions.lower() in error["error"].lower(), error["error"]
    await assert_unchanged(alice, stored)


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({"If-Match": "*"}, "invalid_if_match"),
        ({"X-Base-Version": "three"}, "invalid_base_version"),
        ({"X-Base-Version": "-1"}, "invalid_base_version"),
        ({"If-Match": '"1"', "X-Base-Version": "2"}, "invalid_base_version"),
        ({"Idempotency-Key": "k" * 101}, "invalid_idempotency_key"),
    ],
)
async def test_bad_headers_are_400(
    alice: httpx.AsyncClient, stored: dict[str, Any], headers: dict[str, str], code: str
) -> None:
    response = await patch(alice, {"title": "x"}, **headers)
    assert response.status_code == 400
    assert response.json()["code"] == code
    await assert_unchanged(alice, stored)


async def test_the_document_limit_applies_to_the_result(
    alice: httpx.AsyncClient, stored: dict[str, Any]
) -> None:
    half = "A" * (5 * 1024 * 1024)
    assert (await patch(alice, {"first": half})).status_code == 200
    # Each patch fits the limits; the document they would make does not.
    response = await patch(alice, {"second": half})
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    current = (await load(alice)).json()
    assert set(current["data"]) == {*STORED, "first"}
    assert current["version"] == 2


async def test_unknown_steps_and_cross_site_patches_are_refused(
    alice: httpx.AsyncClient, stored: dict[str, Any]
) -> None:
    assert (await patch(alice, {"a": 1}, "/api/workshop-data/step/ia/ia-9-9")).status_code == 400
    assert (await patch(alice, {"a": 1}, "/api/workshop-data/step/ast/ia-3-4")).status_code == 400
    cross = await patch(alice, {"title": "x"}, Origin="https://evil.example")
    assert cross.status_code == 403
    form = await alice.patch(PATH, content=b"title=x", headers={"Content-Type": "text/plain"})
    assert form.status_code == 415
    await assert_unchanged(alice, stored)
