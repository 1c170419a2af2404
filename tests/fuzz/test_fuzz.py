"""Fuzzing through a real server process, signed in as a participant: schemathesis against the
app's own OpenAPI schema (no 5xx, every response as the schema declares it), and hypothesis
properties of the JSON checks (storable documents round-trip exactly; a rejected one changes
nothing)."""

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.core.result import Err

from tests.server_process import ServerProcess
from tests.support import session_cookies_of
from workshop_data.db.engine import create_engine
from workshop_data.db.migrate import upgrade_to_head
from workshop_data.settings import Settings
from workshop_data.users import service as users_service

USERNAME, PASSWORD = "fuzzer", "fuzzer-password"
# The properties below run as another user: the fuzzer may complete (and so lock) workshops.
WRITER, WRITER_PASSWORD = "writer", "writer-password"


async def _prepare(url: str) -> None:
    engine = create_engine(Settings(database_url=url))
    await upgrade_to_head(engine)
    async with engine.connect() as conn:
        await users_service.create_user(conn, username=USERNAME, password=PASSWORD)
        await users_service.create_user(conn, username=WRITER, password=WRITER_PASSWORD)
    await engine.dispose()


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('fuzz')) / 'fuzz.db'}"
    with ThreadedLoop() as run:
        run(_prepare(url))
    with ServerProcess(url) as server:
        yield server


class ThreadedLoop:
    """Runs a coroutine to completion from a sync fixture, whatever loop the tests have."""

    def __enter__(self):  # type: ignore[no-untyped-def]
        from concurrent.futures import ThreadPoolExecutor

        self.pool = ThreadPoolExecutor(max_workers=1)
        return lambda coro: self.pool.submit(asyncio.run, coro).result()

    def __exit__(self, *exc: object) -> None:
        self.pool.shutdown()


@pytest.fixture(scope="module")
def session_cookie(fuzz_server: ServerProcess) -> dict[str, str]:
    response = httpx.post(
        f"{fuzz_server.url}/api/auth/login", json={"username": USERNAME, "password": PASSWORD}
    )
    assert response.status_code == 200
    return session_cookies_of(response.cookies)


@pytest.fixture(scope="module")
def api_schema(fuzz_server: ServerProcess) -> schemathesis.BaseSchema:
    loaded = schemathesis.openapi.from_url(f"{fuzz_server.url}/api/openapi.json")
    # Signing out would end the session the rest of the run uses.
    return loaded.exclude(path="/api/auth/logout")


CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.status_code_conformance,
]


def test_no_server_errors_and_schema_conformance(
    api_schema: schemathesis.BaseSchema, session_cookie: dict[str, str]
) -> None:
    # Driven through hypothesis directly: schemathesis' own pytest plugin predates pytest 9.
    operations = []
    for result in api_schema.get_all_operations():
        if isinstance(result, Err):
            pytest.fail(f"an operation schemathesis cannot read: {result.err()}")
        operations.append(result.ok())
    assert len(operations) > 20

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=50,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def exercise(case: schemathesis.Case[Any]) -> None:
            case.call_and_validate(cookies=session_cookie, checks=CHECKS)

        exercise()


storable_text = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"),
    max_size=40,
)
storable = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | storable_text,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(storable_text, children, max_size=4)
    ),
    max_leaves=25,
)
unstorable = st.sampled_from(
    [
        b'"\\u0000"',
        b'"a\\ud800b"',
        b"NaN",
        b"1e999",
        b"123456789012345678901234567890",
        b"[" * 80 + b"]" * 80,
        b'{"k": ',
    ]
)


@pytest.fixture(scope="module")
def signed_in(fuzz_server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fuzz_server.url) as client:
        response = client.post(
            "/api/auth/login", json={"username": WRITER, "password": WRITER_PASSWORD}
        )
        assert response.status_code == 200
        yield client


def test_storable_documents_round_trip_exactly(signed_in: httpx.Client) -> None:
    @given(document=st.dictionaries(storable_text, storable, max_size=6))
    @settings(max_examples=60, deadline=None, database=None)
    def round_trip(document: dict[str, object]) -> None:
        saved = signed_in.post(
            "/api/workshop-data/step",
            json={"workshopType": "ast", "stepId": "4-4", "data": document},
        )
        assert saved.status_code == 200, saved.text
        loaded = signed_in.get("/api/workshop-data/step/ast/4-4").json()
        assert loaded["data"] == document

    round_trip()


def test_rejected_documents_change_nothing(signed_in: httpx.Client) -> None:
    kept = {"kept": "as it was"}
    assert (
        signed_in.post(
            "/api/workshop-data/step",
            json={"workshopType": "ast", "stepId": "4-3", "data": kept},
        ).status_code
        == 200
    )
    before = signed_in.get("/api/workshop-data/step/ast/4-3").json()

    @given(key=storable_text, bad=unstorable)
    @settings(max_examples=60, deadline=None, database=None)
    def rejected(key: str, bad: bytes) -> None:
        body = (
            b'{"workshopType": "ast", "stepId": "4-3", "data": {'
            + json.dumps(key).encode()
            + b": "
            + bad
            + b"}}"
        )
        response = signed_in.post(
            "/api/workshop-data/step", content=body, headers={"Content-Type": "application/json"}
        )
        assert 400 <= response.status_code < 500, response.text
        assert response.json()["success"] is False
        assert signed_in.get("/api/workshop-data/step/ast/4-3").json() == before

    rejected()
