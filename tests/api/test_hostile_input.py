"""Every route of the OpenAPI table, every parameter and body field, every hostile value class.

The injection points are generated from the app's own OpenAPI schema (path, query and header
parameters; body properties, recursively) and from the valid sample request of each route
(every value in it, and a new key in every object, a new item in every list). Each hostile
value is sent on its own into an otherwise valid request; the answer must be a 4xx in the
common error shape, and no table may change. Last, the valid sample itself must succeed, so a
refusal cannot come from a broken sample. A route the schema lists without a sample here
fails `test_every_route_has_a_sample`."""

import io
import json
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from PIL import Image
from sqlalchemy import select

from tests.api.support import new_client
from tests.support import Account, MakeAccount
from workshop_data.app_services import services_of
from workshop_data.db.tables import metadata
from workshop_data.users import passwords

NUL = "a\x00b"
SURROGATE = "a\ud800b"
# Integers no column can hold (ids are 64-bit, versions 32-bit, percentages 0-100).
HUGE_NUMBERS = [2**63, -(2**63) - 1, 10**20]
# Valid ISO 8601 text whose UTC equivalent lies outside the calendar.
DATETIME_LIMITS = ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"]
HOSTILE_TEXT = [NUL, SURROGATE]


@dataclass(frozen=True)
class Sample:
    """A valid request; `{owner}` in the path is a participant whose data is at stake."""

    path: str
    body: dict[str, Any] | None = None
    anonymous: bool = False
    # The owner completes the IA workshop first (reopening needs a completed one).
    owner_completes: bool = False
    status: int = 200
    # Sent by the owner rather than by an administrator (routes on the caller's own steps).
    by_owner: bool = False
    # A raw body and its content type instead of JSON (an upload).
    raw: tuple[bytes, str] | None = None


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 3), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


PNG = _png()


OWN_STEP = {"workshopType": "ia", "stepId": "ia-3-4", "data": {"note": "kept", "n": 1}}
SAMPLES: dict[tuple[str, str], Sample] = {
    ("POST", "/api/auth/login"): Sample(
        "/api/auth/login", {"username": "{admin}", "password": "{admin_password}"}, anonymous=True
    ),
    ("POST", "/api/auth/logout"): Sample("/api/auth/logout"),
    ("GET", "/api/auth/me"): Sample("/api/auth/me"),
    ("GET", "/api/catalog"): Sample("/api/catalog"),
    ("POST", "/api/workshop-data/step"): Sample("/api/workshop-data/step", OWN_STEP),
    ("GET", "/api/workshop-data/step/{workshopType}/{stepId}"): Sample(
        "/api/workshop-data/step/ia/ia-3-4"
    ),
    ("GET", "/api/workshop-data/steps/{workshopType}"): Sample("/api/workshop-data/steps/ia"),
    ("GET", "/api/workshop-data/status/{workshopType}"): Sample("/api/workshop-data/status/ia"),
    ("POST", "/api/workshop-data/complete/{workshopType}"): Sample(
        "/api/workshop-data/complete/ast"
    ),
    ("GET", "/healthz"): Sample("/healthz", anonymous=True),
    ("GET", "/readyz"): Sample("/readyz", anonymous=True),
    ("GET", "/api/navigation-progress/{workshopType}"): Sample("/api/navigation-progress/ast"),
    ("PUT", "/api/navigation-progress/{workshopType}"): Sample(
        "/api/navigation-progress/ast",
        {
            "currentStepId": "2-1",
            "completedSteps": ["1-1"],
            "unlockedSteps": ["1-1", "2-1"],
            "videoProgress": {"intro-video": 50},
            "lastVisitedAt": "2026-01-02T03:04:05+01:00",
        },
    ),
    ("POST", "/api/navigation-progress/{workshopType}/reset"): Sample(
        "/api/navigation-progress/ast/reset"
    ),
    ("GET", "/api/assessments"): Sample("/api/assessments"),
    ("GET", "/api/assessments/{assessmentType}"): Sample("/api/assessments/flowAttributes"),
    ("PUT", "/api/assessments/{assessmentType}"): Sample(
        "/api/assessments/flowAttributes", {"results": {"attributes": ["Calm"], "flowScore": 3}}
    ),
    ("GET", "/api/export/users/{userId}"): Sample("/api/export/users/{owner}"),
    ("GET", "/api/admin/users"): Sample("/api/admin/users?q=tmp&page=1&pageSize=10"),
    ("POST", "/api/admin/users"): Sample(
        "/api/admin/users",
        {
            "username": "tmp-{token}",
            "password": "long-enough-password",
            "role": "participant",
            "name": "New Person",
            "email": "{token}@example.org",
        },
        status=201,
    ),
    ("GET", "/api/admin/users/{userId}"): Sample("/api/admin/users/{owner}"),
    ("PATCH", "/api/admin/users/{userId}"): Sample(
        "/api/admin/users/{owner}",
        {"name": "Renamed", "email": "{token}@example.org", "role": "participant"},
    ),
    ("DELETE", "/api/admin/users/{userId}"): Sample("/api/admin/users/{owner}"),
    ("POST", "/api/admin/users/{userId}/password"): Sample(
        "/api/admin/users/{owner}/password", {"password": "a-new-quiet-harbor-93"}
    ),
    ("GET", "/api/admin/users/{userId}/step-data/{workshopType}"): Sample(
        "/api/admin/users/{owner}/step-data/ia"
    ),
    ("POST", "/api/admin/users/{userId}/workshops/{workshopType}/reopen"): Sample(
        "/api/admin/users/{owner}/workshops/ia/reopen", owner_completes=True
    ),
    ("PATCH", "/api/workshop-data/step/{workshopType}/{stepId}"): Sample(
        "/api/workshop-data/step/ia/ia-3-4", {"note": "patched"}, by_owner=True
    ),
    ("GET", "/api/workshop-data/step/{workshopType}/{stepId}/history"): Sample(
        "/api/workshop-data/step/ia/ia-3-4/history", by_owner=True
    ),
    ("POST", "/api/workshop-data/step/{workshopType}/{stepId}/history"): Sample(
        "/api/workshop-data/step/ia/ia-3-4/history",
        {"data": {"note": "on this device"}, "schemaVersion": 1},
        by_owner=True,
    ),
    ("POST", "/api/workshop-data/step/{workshopType}/{stepId}/restore/{version}"): Sample(
        "/api/workshop-data/step/ia/ia-3-4/restore/1", {}, by_owner=True
    ),
    ("POST", "/api/uploads"): Sample("/api/uploads", raw=(PNG, "image/png"), by_owner=True),
    ("GET", "/api/uploads/{uploadId}"): Sample("/api/uploads/{upload}"),
    ("GET", "/api/facilitator/participants"): Sample("/api/facilitator/participants?q=tmp"),
    # The stream ends after `events_stream_max_seconds`, which the tests' settings keep short.
    ("GET", "/api/events"): Sample("/api/events", by_owner=True),
    ("POST", "/api/events/presence"): Sample(
        "/api/events/presence", {"pending": 1}, by_owner=True, status=204
    ),
    ("GET", "/api/facilitator/workshops/{workshopType}/grid"): Sample(
        "/api/facilitator/workshops/ast/grid?userId={owner}&page=1&pageSize=10"
    ),
    ("GET", "/api/facilitator/participants/{userId}/step-data/{workshopType}"): Sample(
        "/api/facilitator/participants/{owner}/step-data/ia"
    ),
    ("GET", "/api/facilitator/participants/{userId}/navigation-progress/{workshopType}"): Sample(
        "/api/facilitator/participants/{owner}/navigation-progress/ast"
    ),
}


def operations(app: FastAPI) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): operation
        for path, by_method in app.openapi()["paths"].items()
        for method, operation in by_method.items()
    }


def test_every_route_has_a_sample(app: FastAPI) -> None:
    listed = set(operations(app))
    assert listed - SAMPLES.keys() == set(), "add a valid sample request to SAMPLES"
    assert SAMPLES.keys() - listed == set(), "SAMPLES names routes the app does not serve"


# Where a hostile value goes, and the request it makes.
@dataclass(frozen=True)
class Injection:
    where: str  # "path", "query", "header" or "body"
    name: str  # the parameter, or the JSON path in the body
    value: Any
    # The text the error message must name (None: any 4xx will do).
    named: str | None = None
    # For the body: the steps to the parent container and the key or index to set.
    steps: tuple[str | int, ...] = ()


def _kind(schema: dict[str, Any], components: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The JSON type a schema describes (the non-null branch of an anyOf) and that schema."""
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[1]]
    for option in schema.get("anyOf", []):
        kind, resolved = _kind(option, components)
        if kind != "null":
            return kind, resolved
    return schema.get("type", "any"), schema


def _values_for(kind: str, schema: dict[str, Any]) -> list[Any]:
    if kind == "string":
        extra = DATETIME_LIMITS if schema.get("format") == "date-time" else []
        return [*HOSTILE_TEXT, *extra]
    if kind in ("integer", "number"):
        return list(HUGE_NUMBERS)
    return [*HOSTILE_TEXT, HUGE_NUMBERS[0]]


def _body_points(
    schema: dict[str, Any] | None,
    sample: Any,
    components: dict[str, Any],
    steps: tuple[str | int, ...] = (),
) -> Iterator[tuple[tuple[str | int, ...], list[Any]]]:
    """(steps to a value, hostile values for it) for every field the schema or the sample has;
    and a new key or item in every object and list."""
    kind, resolved = _kind(schema or {}, components) if schema else ("any", {})
    if isinstance(sample, dict) or kind == "object":
        properties: dict[str, Any] = resolved.get("properties", {})
        present = sample if isinstance(sample, dict) else {}
        for key in sorted(set(properties) | set(present)):
            child_schema = properties.get(key)
            if child_schema is None and isinstance(resolved.get("additionalProperties"), dict):
                child_schema = resolved["additionalProperties"]
            yield from _body_points(child_schema, present.get(key), components, (*steps, key))
        if steps:  # a new key in every object below the top (the top refuses unknown keys)
            for bad_key in HOSTILE_TEXT:
                yield (*steps, bad_key), [1]
            value_schema = resolved.get("additionalProperties")
            values = (
                _values_for(*_kind(value_schema, components))
                if isinstance(value_schema, dict)
                else [*HOSTILE_TEXT, HUGE_NUMBERS[0]]
            )
            yield (*steps, "hostile"), values
        return
    if isinstance(sample, list) or kind == "array":
        items = sample if isinstance(sample, list) else []
        item_schema = resolved.get("items")
        item_kind, item_resolved = _kind(item_schema, components) if item_schema else ("any", {})
        for index, item in enumerate(items):
            yield from _body_points(item_schema, item, components, (*steps, index))
        yield (*steps, len(items)), _values_for(item_kind, item_resolved)
        yield steps, _values_for("any", {})  # the list itself replaced
        return
    if kind == "any" and sample is not None:
        kind = "string" if isinstance(sample, str) else "number"
    yield steps, _values_for(kind, resolved)


def _set(body: Any, steps: tuple[str | int, ...], value: Any) -> Any:
    if not steps:
        return value
    head, rest = steps[0], steps[1:]
    if isinstance(body, list):
        copy = list(body)
        assert isinstance(head, int)
        child = copy[head] if head < len(copy) else None
        if head < len(copy):
            copy[head] = _set(child, rest, value)
        else:
            copy.append(_set(child, rest, value))
        return copy
    copy_dict = dict(body) if isinstance(body, dict) else {}
    copy_dict[head] = _set(copy_dict.get(head), rest, value)
    return copy_dict


def _json_path(steps: tuple[str | int, ...]) -> str:
    return "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in steps).lstrip(".")


def injections(
    operation: dict[str, Any], sample_body: Any, components: dict[str, Any]
) -> list[Injection]:
    found: list[Injection] = []
    for parameter in operation.get("parameters", []):
        kind, _ = _kind(parameter["schema"], components)
        where = parameter["in"]
        if kind == "string":
            # Text in a URL or a header can hold a NUL; a lone surrogate cannot be sent there
            # (percent-encoded bytes that are not UTF-8 arrive as U+FFFD).
            values: list[Any] = [NUL]
        else:
            values = list(HUGE_NUMBERS)
        for value in values:
            named = parameter["name"] if isinstance(value, str) else None
            found.append(Injection(where, parameter["name"], value, named))
    body_schema = (
        operation.get("requestBody", {})
        .get("content", {})
        .get("application/json", {})
        .get("schema")
    )
    if body_schema is not None or sample_body is not None:
        for steps, values in _body_points(body_schema, sample_body, components):
            for value in values:
                textual = isinstance(value, str) and value in HOSTILE_TEXT
                named = next((s for s in reversed(steps) if isinstance(s, str)), None)
                if named in HOSTILE_TEXT:  # the hostile text is the key itself
                    named = None
                found.append(
                    Injection("body", _json_path(steps), value, named if textual else None, steps)
                )
    return found


async def snapshot(app: FastAPI) -> dict[str, list[tuple[Any, ...]]]:
    tables: dict[str, list[tuple[Any, ...]]] = {}
    async with services_of(app).engine.connect() as conn:
        for table in metadata.sorted_tables:
            rows = await conn.execute(select(table).order_by(*table.primary_key.columns))
            tables[table.name] = [tuple(row) for row in rows]
    return tables


def _fill(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**names)
    if isinstance(value, dict):
        return {key: _fill(item, names) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill(item, names) for item in value]
    return value


def _url(path: str, injection: Injection | None, operation: dict[str, Any]) -> str:
    parsed = urllib.parse.urlsplit(path)
    if injection is None or injection.where not in ("path", "query"):
        return path
    value = urllib.parse.quote(str(injection.value), safe="")
    if injection.where == "query":
        query = [(k, v) for k, v in urllib.parse.parse_qsl(parsed.query) if k != injection.name]
        encoded = "&".join(
            [f"{k}={urllib.parse.quote(v)}" for k, v in query] + [f"{injection.name}={value}"]
        )
        return f"{parsed.path}?{encoded}"
    # A path parameter: put the value where the route's template has it.
    template = operation["x-template"].split("/")
    actual = parsed.path.split("/")
    index = template.index("{" + injection.name + "}")
    actual[index] = value
    return "/".join(actual) + (f"?{parsed.query}" if parsed.query else "")


async def _send(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    body: Any,
    headers: dict[str, str],
    raw: tuple[bytes, str] | None = None,
) -> httpx.Response:
    if body is None and raw is not None:
        return await client.request(
            method, url, content=raw[0], headers={"Content-Type": raw[1], **headers}
        )
    if body is None:
        return await client.request(method, url, headers=headers)
    # Plain JSON (escapes for NUL and surrogates, integers of any size), as a client sends it.
    return await client.request(
        method,
        url,
        content=json.dumps(body).encode(),
        headers={**headers, "Content-Type": "application/json"},
    )


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """A throw-away owner per route: hash its password quickly (a hash records its own cost,
    so the long-lived accounts keep theirs)."""
    monkeypatch.setattr(
        passwords, "HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


@pytest.mark.parametrize("route", sorted(SAMPLES), ids=" ".join)
async def test_hostile_values_are_refused_and_change_nothing(
    route: tuple[str, str],
    app: FastAPI,
    accounts: dict[str, Account],
    make_account: MakeAccount,
) -> None:
    method, template = route
    sample = SAMPLES[route]
    schema = app.openapi()
    operation = {**schema["paths"][template][method.lower()], "x-template": template}
    components = schema.get("components", {}).get("schemas", {})

    owner = await make_account()
    admin = accounts["root"]
    names = {
        "owner": str(owner.id),
        "admin": admin.username,
        "admin_password": admin.password,
        "token": "tok" + str(owner.id),
    }
    async with (
        new_client(app) as anonymous,
        new_client(app) as signed_in,
        new_client(app) as as_owner,
    ):
        assert (
            await signed_in.post(
                "/api/auth/login", json={"username": admin.username, "password": admin.password}
            )
        ).status_code == 200
        assert (
            await as_owner.post(
                "/api/auth/login", json={"username": owner.username, "password": owner.password}
            )
        ).status_code == 200
        for step in (("ia", "ia-3-4"), ("ast", "2-1")):
            await as_owner.post(
                "/api/workshop-data/step",
                json={"workshopType": step[0], "stepId": step[1], "data": {"mine": True}},
            )
        uploaded = await as_owner.post(
            "/api/uploads", content=PNG, headers={"Content-Type": "image/png"}
        )
        assert uploaded.status_code == 201, uploaded.text
        names["upload"] = uploaded.json()["upload"]["id"]
        if sample.owner_completes:
            assert (await as_owner.post("/api/workshop-data/complete/ia")).status_code == 200
        client = anonymous if sample.anonymous else as_owner if sample.by_owner else signed_in
        path = _fill(sample.path, names)
        body = _fill(sample.body, names)

        problems: list[str] = []
        points = injections(operation, body, components)
        assert points or not (operation.get("parameters") or body), "no injection point found"
        for injection in points:
            url = _url(path, injection, operation)
            headers = {}
            if injection.where == "header":
                headers[injection.name] = str(injection.value)
            sent_body = (
                _set(body, injection.steps, injection.value) if injection.where == "body" else body
            )
            before = await snapshot(app)
            response = await _send(client, method, url, sent_body, headers, sample.raw)
            label = f"{injection.where} {injection.name} = {injection.value!r}"
            if not 400 <= response.status_code < 500:
                problems.append(f"{label}: {response.status_code} {response.text[:200]}")
                continue
            error = orjson.loads(response.content)
            if error.get("success") is not False or not error.get("code"):
                problems.append(f"{label}: not the error shape: {error}")
            if injection.named is not None and injection.named not in error["error"]:
                problems.append(f"{label}: the error does not name it: {error['error']}")
            if await snapshot(app) != before:
                problems.append(f"{label}: the database changed")
        assert not problems, "\n".join(problems)

        valid = await _send(client, method, path, body, {}, sample.raw)
        assert valid.status_code == sample.status, f"the sample itself: {valid.text[:300]}"
