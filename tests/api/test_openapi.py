"""The OpenAPI document says what the server does.

Every operation is driven with the requests that make it answer each error status it can
(400, 401, 403, 404, 409, 413, 415, 423, 429, 503) and with a valid request: every status
produced must be declared for that operation, and every declared status must have been
produced. The limits and names the document states (stepId's length, the workshop types,
camelCase path parameters, the session cookie) are checked against the server too, on both
databases; so are the old documentation addresses and the JSON answers for unknown API paths."""

import json
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from sqlalchemy import update

from tests.api.support import new_client
from tests.api.test_hostile_input import PNG, SAMPLES, Sample, _fill, operations
from tests.support import scratch_postgres_database
from workshop_data.app import close_app, create_app
from workshop_data.app_services import services_of
from workshop_data.catalog.service import MAX_STEP_ID_LENGTH
from workshop_data.db.migrate import upgrade_to_head
from workshop_data.db.tables import users
from workshop_data.middleware import UNSAFE_METHODS
from workshop_data.openapi import DEVICE_SCHEME, SESSION_SCHEME
from workshop_data.settings import Settings
from workshop_data.users import passwords
from workshop_data.users import service as users_service

Route = tuple[str, str]
MISSING_ID = 2**62
LOGIN_LIMIT = 5
BODY_LIMIT = 1024
OVERSIZED = b'{"pad": "' + b"x" * (2 * BODY_LIMIT) + b'"}'
EVIL_ORIGIN = {"Origin": "https://evil.example"}
NO_BODY = object()


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        passwords, "HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )
    passwords.absent_user_hash.cache_clear()


def _settings(url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": url,
        "login_account_address_rate_limit": f"{LOGIN_LIMIT}/minute",
        "login_address_rate_limit": "100000/minute",
        "login_account_rate_limit": "100000/minute",
        "sqlite_synchronous": "NORMAL",
        "max_body_bytes": BODY_LIMIT,
        "max_upload_bytes": BODY_LIMIT,
        # A stream through httpx's ASGI transport is read only once it has ended.
        "events_stream_max_seconds": 0.2,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of this test's own: it deletes the last administrator on purpose."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'statuses.db'}"
        return
    with scratch_postgres_database("wd_openapi") as url:
        yield url


@pytest.fixture
async def fresh_app(fresh_database: str) -> AsyncIterator[FastAPI]:
    app = create_app(_settings(fresh_database))
    await upgrade_to_head(services_of(app).engine)
    yield app
    services_of(app).password_hashing.shutdown()
    await close_app(app)


@pytest.fixture
async def unavailable_app(tmp_path: Path) -> AsyncIterator[FastAPI]:
    """An app whose SQLite file lies in a directory that does not exist."""
    app = create_app(_settings(f"sqlite:///{tmp_path / 'absent' / 'workshop-data.db'}"))
    yield app
    services_of(app).password_hashing.shutdown()
    await close_app(app)


@dataclass
class Probe:
    route: Route
    status: int
    path: str
    who: str = "anonymous"
    body: Any = NO_BODY
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


class World:
    """The accounts and clients of one fresh app."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.ids: dict[str, int] = {}
        self.clients: dict[str, httpx.AsyncClient] = {"anonymous": new_client(app)}
        self.upload_id = ""
        self.upload_etag = ""

    async def add(self, username: str, role: str = "participant") -> None:
        async with services_of(self.app).engine.connect() as conn:
            user = await users_service.create_user(
                conn,
                username=username,
                password=f"{username}-quiet-harbor-71",
                role=role,
                email=f"{username}@example.org",
            )
        self.ids[username] = user.id
        client = new_client(self.app)
        signed_in = await client.post(
            "/api/auth/login",
            json={"username": username, "password": f"{username}-quiet-harbor-71"},
        )
        assert signed_in.status_code == 200, signed_in.text
        self.clients[username] = client

    async def send(self, probe: Probe) -> httpx.Response:
        content = probe.content
        headers = dict(probe.headers)
        if probe.body is not NO_BODY:
            content = json.dumps(probe.body).encode()
            headers.setdefault("Content-Type", "application/json")
        return await self.clients[probe.who].request(
            probe.route[0], probe.path, content=content, headers=headers
        )

    async def close(self) -> None:
        for client in self.clients.values():
            await client.aclose()


def declared_statuses(app: FastAPI) -> dict[Route, set[int]]:
    return {
        route: {int(status) for status in operation["responses"]}
        for route, operation in operations(app).items()
    }


def _sample_request(route: Route, sample: Sample, names: dict[str, str], who: str) -> Probe:
    probe = Probe(route, 200, _fill(sample.path, names), who)
    if sample.raw is not None:
        probe.content, probe.headers = sample.raw[0], {"Content-Type": sample.raw[1]}
    elif sample.body is not None:
        probe.body = _fill(sample.body, names)
    return probe


def _with_query(path: str, query: str) -> str:
    return f"{path}{'&' if '?' in path else '?'}{query}"


def generic_probes(app: FastAPI, names: dict[str, str]) -> list[Probe]:
    """What any route of its kind answers: a NUL in a query parameter (400), no session
    (401 where the document says the route needs one), and on unsafe methods the request
    guard's refusals (403 cross-site, 413 too large, 415 not JSON)."""
    probes: list[Probe] = []
    for route, operation in sorted(operations(app).items()):
        method = route[0]
        sample = SAMPLES[route]
        who = "alice" if sample.by_owner else "root"
        valid = _sample_request(route, sample, names, who)
        nul_in_query = _sample_request(route, sample, names, who)
        nul_in_query.status, nul_in_query.path = 400, _with_query(valid.path, "probe=%00")
        probes.append(nul_in_query)
        anonymous = _sample_request(route, sample, names, "anonymous")
        anonymous.status = 401 if operation.get("security") else 200
        probes.append(anonymous)
        if method in UNSAFE_METHODS:
            cross_site = _sample_request(route, sample, names, who)
            cross_site.status, cross_site.headers = 403, {**cross_site.headers, **EVIL_ORIGIN}
            probes.append(cross_site)
            content_type = sample.raw[1] if sample.raw else "application/json"
            probes.append(
                Probe(
                    route,
                    413,
                    valid.path,
                    who,
                    content=OVERSIZED,
                    headers={"Content-Type": content_type},
                )
            )
            probes.append(
                Probe(
                    route,
                    415,
                    valid.path,
                    who,
                    content=b"x",
                    headers={"Content-Type": "text/plain"},
                )
            )
    return probes


def route_probes(world: World) -> list[Probe]:
    """Each route's own error statuses (its world prepared by `prepare`)."""
    ids = world.ids
    alice, bob, root, missing = ids["alice"], ids["bob"], ids["root"], MISSING_ID
    step = "/api/workshop-data/step"
    save_route: Route = ("POST", step)
    patch_route: Route = ("PATCH", "/api/workshop-data/step/{workshopType}/{stepId}")
    restore_route: Route = (
        "POST",
        "/api/workshop-data/step/{workshopType}/{stepId}/restore/{version}",
    )
    admin_user = "/api/admin/users/{userId}"
    probes = [
        Probe(
            ("POST", "/api/auth/login"),
            401,
            "/api/auth/login",
            body={"username": "alice", "password": "wrong"},
        ),
        Probe(
            ("POST", "/api/auth/login"),
            429,
            "/api/auth/login",
            body={"username": "throttled", "password": "wrong"},
        ),
        # Roles.
        Probe(("GET", "/api/export/users/{userId}"), 403, f"/api/export/users/{bob}", "alice"),
        Probe(("GET", "/api/export/users/{userId}"), 404, f"/api/export/users/{missing}", "root"),
        # Not there.
        Probe(("GET", admin_user), 404, f"/api/admin/users/{missing}", "root"),
        Probe(("PATCH", admin_user), 404, f"/api/admin/users/{missing}", "root", {"name": "N"}),
        Probe(("DELETE", admin_user), 404, f"/api/admin/users/{missing}", "root"),
        Probe(
            ("GET", "/api/admin/users/{userId}/step-data/{workshopType}"),
            404,
            f"/api/admin/users/{missing}/step-data/ia",
            "root",
        ),
        Probe(
            ("POST", "/api/admin/users/{userId}/password"),
            404,
            f"/api/admin/users/{missing}/password",
            "root",
            {"password": "a-new-quiet-harbor-93"},
        ),
        Probe(
            ("POST", "/api/admin/users/{userId}/workshops/{workshopType}/reopen"),
            404,
            f"/api/admin/users/{bob}/workshops/ia/reopen",
            "root",
        ),
        Probe(
            ("GET", "/api/facilitator/participants/{userId}/step-data/{workshopType}"),
            404,
            f"/api/facilitator/participants/{missing}/step-data/ia",
            "root",
        ),
        Probe(
            ("GET", "/api/facilitator/participants/{userId}/navigation-progress/{workshopType}"),
            404,
            f"/api/facilitator/participants/{missing}/navigation-progress/ia",
            "root",
        ),
        Probe(restore_route, 404, f"{step}/ast/2-1/restore/99", "alice"),
        Probe(("GET", "/api/uploads/{uploadId}"), 404, "/api/uploads/" + "0" * 32, "alice"),
        # Conflicts.
        Probe(
            save_route,
            409,
            step,
            "alice",
            {"workshopType": "ast", "stepId": "2-1", "data": {"a": 3}, "baseVersion": 0},
        ),
        Probe(patch_route, 409, f"{step}/ast/2-1", "alice", {"a": 3}, headers={"If-Match": '"99"'}),
        Probe(restore_route, 409, f"{step}/ast/2-1/restore/1", "alice", {"baseVersion": 99}),
        Probe(
            ("POST", "/api/workshop-data/complete/{workshopType}"),
            409,
            "/api/workshop-data/complete/ast",
            "alice",
        ),
        Probe(
            ("POST", "/api/admin/users"),
            409,
            "/api/admin/users",
            "root",
            {"username": "alice", "password": "long-enough-quiet-harbor-71", "role": "participant"},
        ),
        Probe(
            ("PATCH", admin_user),
            409,
            f"/api/admin/users/{bob}",
            "root",
            {"email": "alice@example.org"},
        ),
        Probe(("DELETE", admin_user), 409, f"/api/admin/users/{root}", "root"),
        # A completed workshop (carol completed IA).
        Probe(
            save_route,
            423,
            step,
            "carol",
            {"workshopType": "ia", "stepId": "ia-3-4", "data": {"late": True}},
        ),
        Probe(patch_route, 423, f"{step}/ia/ia-3-4", "carol", {"late": True}),
        Probe(restore_route, 423, f"{step}/ia/ia-3-4/restore/1", "carol", {}),
        Probe(
            ("POST", "/api/workshop-data/step/{workshopType}/{stepId}/history"),
            423,
            f"{step}/ia/ia-3-4/history",
            "carol",
            {"data": {"late": True}},
        ),
        Probe(
            ("POST", "/api/navigation-progress/{workshopType}/reset"),
            423,
            "/api/navigation-progress/ia/reset",
            "carol",
        ),
        # Presence: one report a second.
        Probe(("POST", "/api/events/presence"), 204, "/api/events/presence", "bob", {"pending": 1}),
        Probe(("POST", "/api/events/presence"), 429, "/api/events/presence", "bob", {"pending": 2}),
        # Uploads: not an image; the same bytes again; the client's copy still current.
        Probe(
            ("POST", "/api/uploads"),
            415,
            "/api/uploads",
            "alice",
            content=b"not an image",
            headers={"Content-Type": "image/png"},
        ),
        Probe(
            ("POST", "/api/uploads"),
            200,
            "/api/uploads",
            "alice",
            content=PNG,
            headers={"Content-Type": "image/png"},
        ),
        Probe(
            ("GET", "/api/uploads/{uploadId}"),
            304,
            f"/api/uploads/{world.upload_id}",
            "alice",
            headers={"If-None-Match": world.upload_etag},
        ),
    ]
    # Only administrators, or facilitators, may use these.
    for route, sample in SAMPLES.items():
        if route[1].startswith(("/api/admin/", "/api/facilitator/")):
            probe = _sample_request(route, sample, {"owner": str(alice), "token": "t"}, "alice")
            probe.status = 403
            probes.append(probe)
    return probes


async def prepare(world: World) -> None:
    for username, role in (
        ("root", "admin"),
        ("alice", "participant"),
        ("bob", "participant"),
        ("carol", "participant"),
        ("dora", "participant"),
        ("fran", "facilitator"),
    ):
        await world.add(username, role)
    async with services_of(world.app).engine.begin() as conn:
        await conn.execute(
            update(users)
            .where(users.c.id == world.ids["alice"])
            .values(facilitator_id=world.ids["fran"])
        )
    alice, carol, dora = world.clients["alice"], world.clients["carol"], world.clients["dora"]
    step = "/api/workshop-data/step"
    for client, workshop, step_id, version in (
        (alice, "ast", "2-1", 1),
        (carol, "ia", "ia-3-4", 1),
        (carol, "ia", "ia-3-4", 2),
    ):
        saved = await client.post(
            step, json={"workshopType": workshop, "stepId": step_id, "data": {"v": version}}
        )
        assert saved.status_code == 200, saved.text
    # Progress with required steps missing: completing the workshop is refused.
    progress = await alice.put(
        "/api/navigation-progress/ast",
        json={"currentStepId": "2-1", "completedSteps": ["1-1"], "unlockedSteps": ["1-1", "2-1"]},
    )
    assert progress.status_code == 200, progress.text
    for client in (carol, dora):
        assert (await client.post("/api/workshop-data/complete/ia")).status_code == 200
    uploaded = await alice.post("/api/uploads", content=PNG, headers={"Content-Type": "image/png"})
    assert uploaded.status_code == 201, uploaded.text
    world.upload_id = uploaded.json()["upload"]["id"]
    world.upload_etag = f'"{uploaded.json()["upload"]["sha256"]}"'
    anonymous = world.clients["anonymous"]
    async with services_of(world.app).engine.connect() as conn:
        await users_service.create_user(
            conn, username="throttled", password="throttled-quiet-harbor-71"
        )
    for _ in range(LOGIN_LIMIT):
        refused = await anonymous.post(
            "/api/auth/login", json={"username": "throttled", "password": "wrong"}
        )
        assert refused.status_code == 401


def success_probes(world: World) -> list[Probe]:
    """Every route's valid sample, about dora (whose account the last one deletes)."""
    names = {
        "owner": str(world.ids["dora"]),
        "admin": "root",
        "admin_password": "root-quiet-harbor-71",
        "token": "new",
        "upload": "",
    }
    upload: Route = ("POST", "/api/uploads")
    # dora's first upload (201); the sample sends the same bytes again (200).
    first_upload = Probe(
        upload, 201, "/api/uploads", "dora", content=PNG, headers={"Content-Type": "image/png"}
    )
    probes: list[Probe] = [first_upload]
    # Completing locks the workshop for the samples after it; a new password signs dora out;
    # deleting dora ends them.
    last = (
        ("POST", "/api/workshop-data/complete/{workshopType}"),
        ("POST", "/api/admin/users/{userId}/password"),
        ("DELETE", "/api/admin/users/{userId}"),
    )
    for route, sample in sorted(
        SAMPLES.items(), key=lambda item: last.index(item[0]) if item[0] in last else -1
    ):
        if route == ("GET", "/api/uploads/{uploadId}"):
            continue  # dora's upload id is read below
        who = "anonymous" if sample.anonymous else "dora" if sample.by_owner else "root"
        if route == ("POST", "/api/auth/logout"):
            who = "anonymous"  # the signed-in clients are needed to the end
        probe = _sample_request(route, sample, names, who)
        probe.status = sample.status
        if route == ("POST", "/api/workshop-data/complete/{workshopType}"):
            probe.path = "/api/workshop-data/complete/ia"  # root has progress in AST only
        if route == ("PATCH", "/api/admin/users/{userId}"):
            probe.body = {"name": "Renamed"}  # the sample's e-mail address is the new user's
        probes.append(probe)
    return probes


async def test_every_status_is_declared_and_every_declared_status_happens(
    fresh_app: FastAPI, unavailable_app: FastAPI
) -> None:
    world = World(fresh_app)
    declared = declared_statuses(fresh_app)
    produced: dict[Route, set[int]] = {route: set() for route in declared}
    problems: list[str] = []

    def record(probe: Probe, response: httpx.Response) -> None:
        produced[probe.route].add(response.status_code)
        label = f"{probe.route[0]} {probe.path} as {probe.who}"
        if response.status_code != probe.status:
            problems.append(
                f"{label}: {response.status_code}, not {probe.status}: {response.text[:160]}"
            )
        if response.status_code not in declared[probe.route]:
            problems.append(f"{label}: {response.status_code} is not declared")
        if response.status_code >= 400:
            body = response.json()
            if body.get("success") is not False or not body.get("code"):
                problems.append(f"{label}: not the error shape: {body}")

    try:
        await prepare(world)
        names = {
            "owner": str(world.ids["alice"]),
            "admin": "root",
            "admin_password": "root-quiet-harbor-71",
            "token": "t",
            "upload": world.upload_id,
        }
        for probe in [*generic_probes(fresh_app, names), *route_probes(world)]:
            record(probe, await world.send(probe))
        upload_probe = Probe(
            ("GET", "/api/uploads/{uploadId}"), 200, f"/api/uploads/{world.upload_id}", "root"
        )
        record(upload_probe, await world.send(upload_probe))
        for probe in success_probes(world):
            record(probe, await world.send(probe))
    finally:
        await world.close()

    # The database gone: 503 wherever the document says so, and only there.
    async with new_client(unavailable_app) as client:
        client.cookies.set("wd_session", "a-token-the-database-would-know")
        client.cookies.set("wd_session_device", "a-device-secret-it-would-know")
        for route, sample in sorted(SAMPLES.items()):
            probe = _sample_request(route, sample, {**names, "owner": "1"}, "anonymous")
            content = (
                json.dumps(probe.body).encode() if probe.body is not NO_BODY else probe.content
            )
            headers = (
                {"Content-Type": "application/json"} if probe.body is not NO_BODY else probe.headers
            )
            response = await client.request(route[0], probe.path, content=content, headers=headers)
            produced[route].add(response.status_code)
            expected = 503 if 503 in declared[route] else 200
            if response.status_code != expected:
                problems.append(
                    f"{route} without a database: {response.status_code}, not {expected}"
                )
            retry_declared = "Retry-After" in (
                operations(fresh_app)[route]["responses"].get("503", {}).get("headers", {})
            )
            if response.status_code == 503 and retry_declared != (
                "retry-after" in response.headers
            ):
                problems.append(f"{route}: Retry-After declared {retry_declared}, sent otherwise")

    for route in sorted(declared):
        never = declared[route] - produced[route]
        if never:
            problems.append(f"{route}: declared but never produced: {sorted(never)}")
    assert not problems, "\n".join(problems)


def _schema_of(tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    app = create_app(_settings(f"sqlite:///{tmp_path / 'unused.db'}", **overrides))
    schema: dict[str, Any] = app.openapi()
    return schema


def _every_operation(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, by_method in schema["paths"].items():
        for method, operation in by_method.items():
            yield method.upper(), path, operation


def test_validation_errors_are_declared_as_400_never_422(tmp_path: Path) -> None:
    schema = _schema_of(tmp_path)
    assert "422" not in json.dumps(schema["paths"])
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    for method, path, operation in _every_operation(schema):
        error = operation["responses"]["400"]["content"]["application/json"]["schema"]
        assert error == {"$ref": "#/components/schemas/ErrorResponse"}, (method, path)


def test_path_parameters_are_camel_case_like_the_json(tmp_path: Path) -> None:
    schema = _schema_of(tmp_path)
    for method, path, operation in _every_operation(schema):
        in_template = set(re.findall(r"{([^}]+)}", path))
        declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
        assert declared == in_template, (method, path)
        for name in declared:
            assert re.fullmatch(r"[a-z]+(?:[A-Z][a-z0-9]*)*", name), (method, path, name)


def _step_id_schemas(schema: dict[str, Any]) -> list[dict[str, Any]]:
    found = [
        parameter["schema"]
        for _, _, operation in _every_operation(schema)
        for parameter in operation.get("parameters", [])
        if parameter["name"] == "stepId"
    ]
    save = schema["paths"]["/api/workshop-data/step"]["post"]["requestBody"]
    found.append(save["content"]["application/json"]["schema"]["properties"]["stepId"])
    return found


async def test_step_id_length_is_the_one_the_server_enforces(
    app: FastAPI, alice: httpx.AsyncClient
) -> None:
    limits = {s.get("maxLength") for s in _step_id_schemas(app.openapi())}
    assert limits == {MAX_STEP_ID_LENGTH}
    at_limit, over = "x" * MAX_STEP_ID_LENGTH, "x" * (MAX_STEP_ID_LENGTH + 1)
    for step_id, refused_for_length in ((at_limit, False), (over, True)):
        answers = [
            await alice.post(
                "/api/workshop-data/step",
                json={"workshopType": "ast", "stepId": step_id, "data": {}},
            ),
            await alice.get(f"/api/workshop-data/step/ast/{step_id}"),
            await alice.patch(f"/api/workshop-data/step/ast/{step_id}", json={}),
        ]
        for answer in answers:
            assert answer.status_code == 400  # not a step of the catalogue either way
            said_length = f"at most {MAX_STEP_ID_LENGTH}" in answer.json()["error"]
            assert said_length is refused_for_length, answer.text
        # The path parameter is refused alike by every route that has it.
        assert answers[1].json() == answers[2].json()


def _workshop_type_enums(schema: dict[str, Any]) -> list[list[str] | None]:
    enums: list[list[str] | None] = []
    for _, _, operation in _every_operation(schema):
        for parameter in operation.get("parameters", []):
            if parameter["name"] == "workshopType":
                enums.append(parameter["schema"].get("enum"))
        body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
        workshop_type = body.get("schema", {}).get("properties", {}).get("workshopType")
        if workshop_type is not None:
            enums.append(workshop_type.get("enum"))
    return enums


async def test_workshop_types_are_the_catalogues(app: FastAPI, alice: httpx.AsyncClient) -> None:
    enums = _workshop_type_enums(app.openapi())
    assert len(enums) > 10
    assert all(enum == services_of(app).catalog.workshop_types for enum in enums), enums
    for workshop_type in services_of(app).catalog.workshop_types:
        assert (await alice.get(f"/api/workshop-data/steps/{workshop_type}")).status_code == 200
    refused = await alice.get("/api/workshop-data/steps/xyz")
    assert refused.status_code == 400
    assert refused.json()["code"] == "invalid_workshop_type"


def test_an_extended_catalogue_extends_the_enum(tmp_path: Path) -> None:
    extra = tmp_path / "extra.json"
    step = {"id": "x-1", "title": "One"}
    section = {"number": 1, "key": "k", "title": "T", "steps": [step]}
    workshop = {"type": "xw", "name": "Extra", "stepIdPattern": "^x-[0-9]$", "sections": [section]}
    extra.write_text(json.dumps({"workshops": [workshop]}))
    enums = _workshop_type_enums(_schema_of(tmp_path, catalog_path=extra))
    assert all(enum == ["ast", "ia", "xw"] for enum in enums), enums


async def test_the_session_cookie_is_the_declared_security_scheme(tmp_path: Path) -> None:
    app = create_app(_settings(f"sqlite:///{tmp_path / 'x.db'}", session_cookie_name="wd_other"))
    schema = app.openapi()
    assert schema["components"]["securitySchemes"] == {
        SESSION_SCHEME: {
            "type": "apiKey",
            "in": "cookie",
            "name": "wd_other",
            "description": "The session cookie that `POST /api/auth/login` sets (HttpOnly).",
        },
        DEVICE_SCHEME: {
            "type": "apiKey",
            "in": "cookie",
            "name": "wd_other_device",
            "description": "The session's device secret that `POST /api/auth/login` sets "
            "beside the session cookie (readable by the page, which deletes it to sign out on "
            "this browser); a request needs both.",
        },
    }
    unsecured = {
        (method, path)
        for method, path, operation in _every_operation(schema)
        if "security" not in operation
    }
    assert unsecured == {
        ("POST", "/api/auth/login"),
        ("POST", "/api/auth/logout"),
        ("GET", "/healthz"),
        ("GET", "/readyz"),
    }
    for method, path, operation in _every_operation(schema):
        if (method, path) not in unsecured:
            assert operation["security"] == [{SESSION_SCHEME: [], DEVICE_SCHEME: []}], (
                method,
                path,
            )
            assert "401" in operation["responses"], (method, path)
    await close_app(app)


def test_every_operation_has_a_summary_and_a_description(tmp_path: Path) -> None:
    for method, path, operation in _every_operation(_schema_of(tmp_path)):
        summary, description = operation.get("summary", ""), operation.get("description", "")
        # A sentence from the handler's docstring, not the title FastAPI makes of its name.
        assert summary.endswith("."), (method, path, summary)
        assert len(summary) <= 100, (method, path, summary)
        assert description.startswith(summary.split(" ")[0]), (method, path)


@pytest.fixture
async def web_app(tmp_path: Path) -> AsyncIterator[FastAPI]:
    """An app serving a (tiny) built web app, whose client routes answer index.html."""
    static = tmp_path / "dist"
    static.mkdir()
    (static / "index.html").write_text("<!doctype html><title>web app</title>")
    app = create_app(_settings(f"sqlite:///{tmp_path / 'x.db'}", static_dir=static))
    yield app
    await close_app(app)


@pytest.mark.parametrize(
    ("old", "new"),
    [("/docs", "/api/docs"), ("/redoc", "/api/docs"), ("/openapi.json", "/api/openapi.json")],
)
async def test_the_usual_documentation_addresses_redirect_to_the_api(
    web_app: FastAPI, old: str, new: str
) -> None:
    async with new_client(web_app) as client:
        for method in ("GET", "HEAD"):
            moved = await client.request(method, old)
            assert moved.status_code == 308, (method, old)
            assert moved.headers["location"] == new
        with_query = await client.get(f"{old}?x=1")
        assert with_query.headers["location"] == f"{new}?x=1"
    if new == "/api/openapi.json":
        async with new_client(web_app) as client:
            followed = await client.get(old, follow_redirects=True)
        assert followed.status_code == 200
        assert followed.json()["openapi"].startswith("3.")


async def test_unknown_api_paths_are_json_404_and_wrong_methods_json_405(
    web_app: FastAPI,
) -> None:
    not_found = {
        "success": False,
        "error": "There is nothing at this address.",
        "code": "not_found",
    }
    async with new_client(web_app) as client:
        page = await client.get("/some/client/route")
        assert page.status_code == 200
        assert "web app" in page.text
        for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"):
            for path in ("/api", "/api/", "/api/nothing-here", "/api/auth/me/more"):
                missing = await client.request(
                    method, path, json={} if method in UNSAFE_METHODS else None
                )
                assert missing.status_code == 404, (method, path)
                assert missing.headers["content-type"] == "application/json", (method, path)
                if method != "HEAD":
                    assert missing.json() == not_found, (method, path)
        for method, path, allowed in (
            ("DELETE", "/api/auth/me", "GET"),
            ("GET", "/api/auth/login", "POST"),
            ("PUT", "/api/workshop-data/step", "POST"),
        ):
            wrong = await client.request(method, path)
            assert wrong.status_code == 405, (method, path)
            assert wrong.headers["allow"] == allowed
            assert wrong.json()["code"] == "method_not_allowed"
