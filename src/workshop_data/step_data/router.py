import re
from collections.abc import AsyncGenerator, MutableMapping
from typing import Annotated, Any, cast

from fastapi import APIRouter, Header, Request, Response
from fastapi import Path as FastApiPath
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.routing import Match, Route
from starlette.types import Scope

from workshop_data.api_schema import ErrorResponse, api_response, unavailable_or_busy
from workshop_data.auth import service as auth_service
from workshop_data.deps import (
    CatalogDep,
    CurrentUser,
    DbDep,
    HistoryDep,
    JsonLimitsDep,
    SessionCredentialDep,
    StepIdPath,
    UploadStoreDep,
    WorkshopTypePath,
    check_request_text,
    get_catalog,
    get_db,
    get_history_policy,
    get_json_limits,
    get_session_credential,
    get_settings,
    get_upload_store,
    json_body,
    openapi_body,
    validation_message,
)
from workshop_data.errors import Conflict, DomainError, InvalidInput, WorkshopLocked
from workshop_data.json_input import check_document, parse_json
from workshop_data.ops.metrics import CONFLICTS, LOCKED, SAVES
from workshop_data.participation import service as participation_service
from workshop_data.step_data import history as step_history
from workshop_data.step_data import service
from workshop_data.step_data.schemas import (
    MAX_REQUEST_ID_LENGTH,
    MAX_VERSION,
    HistoryVersionOut,
    RestoreRequest,
    SaveStepRequest,
    SaveStepResponse,
    StepDataResponse,
    StepHistoryResponse,
    StepRecordOut,
    VersionConflictResponse,
    WorkshopLockedResponse,
    WorkshopStepsResponse,
)
from workshop_data.timeutil import iso
from workshop_data.uploads import service as uploads_service
from workshop_data.uploads.storage import UploadStore

router = APIRouter(prefix="/api/workshop-data", tags=["step data"])

_ETAG = re.compile(r'^\s*(?:W/)?"?(\d{1,10})"?\s*$')
_ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorResponse},
    401: {"model": ErrorResponse},
}
# What a write of a step (save, patch, restore) may be refused with besides _ERRORS.
_WRITE_ERRORS: dict[int | str, dict[str, object]] = {
    **_ERRORS,
    409: {
        "model": VersionConflictResponse,
        "description": "`baseVersion` (or If-Match) is not the stored version "
        "(`version_conflict`); `current` holds the stored one.",
    },
    423: {"model": WorkshopLockedResponse},
}


def _record_out(record: service.StepRecord) -> StepRecordOut:
    return StepRecordOut(
        id=record.id,
        user_id=record.user_id,
        workshop_type=record.workshop_type,
        step_id=record.step_id,
        data=record.data,
        version=record.version,
        schema_version=record.schema_version,
        created_at=iso(record.created_at),
        updated_at=iso(record.updated_at),
    )


def _etag(version: int) -> str:
    return f'"{version}"'


def _request_id(header: str | None, body: str | None) -> str | None:
    request_id = header if header is not None else body
    if request_id is not None and not 0 < len(request_id) <= MAX_REQUEST_ID_LENGTH:
        raise InvalidInput(
            f"Idempotency-Key must be 1 to {MAX_REQUEST_ID_LENGTH} characters.",
            code="invalid_idempotency_key",
        )
    return request_id


def _base_version(body: int | None, if_match: str | None) -> int | None:
    if body is not None or if_match is None:
        return body
    match = _ETAG.match(if_match)
    if match is None or int(match.group(1)) > MAX_VERSION:
        raise InvalidInput('If-Match must be a version such as "3".', code="invalid_if_match")
    return int(match.group(1))


def _patch_base_version(if_match: str | None, x_base_version: str | None) -> int | None:
    from_etag = _base_version(None, if_match)
    if x_base_version is None:
        return from_etag
    stripped = x_base_version.strip()
    if not stripped.isascii() or not stripped.isdigit() or len(stripped) > 10:
        raise InvalidInput(
            "X-Base-Version must be a version such as 3.", code="invalid_base_version"
        )
    version = int(stripped)
    if from_etag is not None and from_etag != version:
        raise InvalidInput(
            "If-Match and X-Base-Version name different versions.", code="invalid_base_version"
        )
    return version


def _schema_version_header(x_schema_version: str | None) -> int | None:
    if x_schema_version is None:
        return None
    stripped = x_schema_version.strip()
    if (
        not stripped.isascii()
        or not stripped.isdigit()
        or len(stripped) > 10
        or not 1 <= int(stripped) <= MAX_VERSION
    ):
        raise InvalidInput(
            "X-Schema-Version must be a schema version such as 2.", code="invalid_schema_version"
        )
    return int(stripped)


_parse_save_request = json_body(SaveStepRequest)


async def _save_request(request: Request) -> SaveStepRequest:
    return await _parse_save_request(request)


async def _saved_by_session(
    request: Request, db: AsyncConnection, store: UploadStore, record: service.StepRecord
) -> Response:
    request.state.user_id = record.user_id
    await uploads_service.note_references(db, store, record.user_id, record.data)
    return _saved(record)


def _saved(record: service.StepRecord) -> Response:
    SAVES.labels(record.workshop_type).inc()
    return api_response(
        SaveStepResponse(
            data=_record_out(record),
            step_id=record.step_id,
            workshop_type=record.workshop_type,
            last_updated=iso(record.updated_at),
        ),
        headers={"ETag": _etag(record.version)},
    )


@router.post(
    "/step",
    response_model=SaveStepResponse,
    responses={
        **_WRITE_ERRORS,
        413: {
            "model": ErrorResponse,
            "description": "The body, or `data` once encoded, is over its limit "
            "(`payload_too_large`).",
        },
    },
    openapi_extra=openapi_body(SaveStepRequest),
)
async def save_step(
    request: Request,
    session: SessionCredentialDep,
    db: DbDep,
    catalog: CatalogDep,
    limits: JsonLimitsDep,
    store: UploadStoreDep,
    history: HistoryDep,
    idempotency_key: Annotated[str | None, Header()] = None,
    if_match: Annotated[str | None, Header()] = None,
) -> Response:
    """Save a step's data document.

    With a base version (`baseVersion` or If-Match) the save succeeds only on that version
    (409 otherwise); `Idempotency-Key` (or `requestId`) makes a retried save answer 200."""
    # The save statement checks the session; a request refused before it runs is refused
    # for want of a session first.
    try:
        body = await _save_request(request)
        step = catalog.step(body.workshop_type, body.step_id)
        service.check_step_document(body.data, limits)
        base_version = _base_version(body.base_version, if_match)
        request_id = _request_id(idempotency_key, body.request_id)
    except DomainError:
        await auth_service.signed_in_user_id(db, session)
        raise
    try:
        record = await service.save_step(
            db,
            session=session,
            step=step,
            data=body.data,
            base_version=base_version,
            request_id=request_id,
            history=history,
            schema_version=body.schema_version,
        )
    except Conflict:
        CONFLICTS.inc()
        raise
    except WorkshopLocked:
        LOCKED.inc()
        raise
    return await _saved_by_session(request, db, store, record)


_MERGE_PATCH_BODY = {
    "schema": {
        "type": "object",
        "additionalProperties": True,
        "description": "An RFC 7396 merge patch applied to the step's data document.",
    }
}


@router.patch(
    "/step/{workshopType}/{stepId}",
    response_model=SaveStepResponse,
    responses={
        **_WRITE_ERRORS,
        413: {
            "model": ErrorResponse,
            "description": "The body, or the patched document once encoded, is over its "
            "limit (`payload_too_large`).",
        },
        503: unavailable_or_busy("the patch lost its compare-and-swap to other writers too often"),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/merge-patch+json": _MERGE_PATCH_BODY,
                "application/json": _MERGE_PATCH_BODY,
            },
        }
    },
)
async def patch_step(
    workshop_type: WorkshopTypePath,
    step_id: StepIdPath,
    request: Request,
    session: SessionCredentialDep,
    db: DbDep,
    catalog: CatalogDep,
    limits: JsonLimitsDep,
    store: UploadStoreDep,
    history: HistoryDep,
    idempotency_key: Annotated[str | None, Header()] = None,
    if_match: Annotated[str | None, Header()] = None,
    x_base_version: Annotated[str | None, Header()] = None,
    x_schema_version: Annotated[str | None, Header()] = None,
) -> Response:
    """Change part of a step.

    The body is a merge patch (RFC 7396) of its `data`; the base version comes in If-Match or
    X-Base-Version. X-Schema-Version sets the schema version the patched document is in
    (absent: the stored one stays). Answers as POST /api/workshop-data/step."""
    try:
        step = catalog.step(workshop_type, step_id)
        patch = parse_json(await request.body(), ("data",))
        if not isinstance(patch, dict):
            raise InvalidInput(
                "The request body must be a JSON object (a merge patch of the step's data).",
                code="invalid_body",
            )
        base_version = _patch_base_version(if_match, x_base_version)
        schema_version = _schema_version_header(x_schema_version)
        request_id = _request_id(idempotency_key, None)
        check_document(patch, ("data",), limits)
    except DomainError:
        await auth_service.signed_in_user_id(db, session)
        raise
    try:
        record = await service.patch_step(
            db,
            session=session,
            step=step,
            patch=patch,
            base_version=base_version,
            request_id=request_id,
            limits=limits,
            history=history,
            schema_version=schema_version,
        )
    except Conflict:
        CONFLICTS.inc()
        raise
    except WorkshopLocked:
        LOCKED.inc()
        raise
    return await _saved_by_session(request, db, store, record)


@router.get("/step/{workshopType}/{stepId}", response_model=StepDataResponse, responses=_ERRORS)
async def get_step(
    workshop_type: WorkshopTypePath,
    step_id: StepIdPath,
    user: CurrentUser,
    db: DbDep,
    catalog: CatalogDep,
) -> Response:
    """Load one of the caller's steps (its data, version and ETag; `data: null` if never
    saved)."""
    step = catalog.step(workshop_type, step_id)
    record = await service.get_step(db, user.id, step.workshop_type, step.step_id)
    completed_at = None
    if step.locks_on_completion:
        status = await participation_service.workshop_status(db, user.id, step.workshop_type)
        completed_at = status.completed_at
    locked_since = iso(completed_at)
    if record is None:
        return api_response(
            StepDataResponse(
                data=None,
                step_id=step.step_id,
                workshop_type=step.workshop_type,
                version=None,
                schema_version=None,
                created_at=None,
                updated_at=None,
                last_updated=None,
                locked=locked_since is not None,
                locked_since=locked_since,
            )
        )
    return api_response(
        StepDataResponse(
            data=record.data,
            step_id=record.step_id,
            workshop_type=record.workshop_type,
            version=record.version,
            schema_version=record.schema_version,
            created_at=iso(record.created_at),
            updated_at=iso(record.updated_at),
            last_updated=iso(record.updated_at),
            locked=locked_since is not None,
            locked_since=locked_since,
        ),
        headers={"ETag": _etag(record.version)},
    )


@router.get("/steps/{workshopType}", response_model=WorkshopStepsResponse, responses=_ERRORS)
async def list_steps(
    workshop_type: WorkshopTypePath, user: CurrentUser, db: DbDep, catalog: CatalogDep
) -> Response:
    """Every saved step of one of the caller's workshops."""
    workshop = catalog.check_workshop_type(workshop_type)
    records = await service.list_steps(db, user.id, workshop)
    return api_response(WorkshopStepsResponse.of(workshop, records))


def _retention(policy: step_history.HistoryPolicy) -> str:
    if not policy.enabled:
        return "Step history is turned off on this server."
    parts = [f"the last {policy.keep_versions} versions"] if policy.keep_versions else []
    if policy.hourly_days:
        parts.append(f"the newest version of each hour for {policy.hourly_days} days")
    return "Kept: " + " and ".join(parts) + "."


@router.get(
    "/step/{workshopType}/{stepId}/history",
    response_model=StepHistoryResponse,
    responses=_ERRORS,
)
async def step_history_list(
    workshop_type: WorkshopTypePath,
    step_id: StepIdPath,
    user: CurrentUser,
    db: DbDep,
    catalog: CatalogDep,
    history: HistoryDep,
) -> Response:
    """A step's kept versions.

    The kept versions of one of the caller's steps, newest first (the current one too)."""
    step = catalog.step(workshop_type, step_id)
    record = await service.get_step(db, user.id, step.workshop_type, step.step_id)
    entries = await step_history.list_versions(db, user.id, step.workshop_type, step.step_id)
    current = None if record is None else record.version
    return api_response(
        StepHistoryResponse(
            workshop_type=step.workshop_type,
            step_id=step.step_id,
            current_version=current,
            versions=[
                HistoryVersionOut(
                    version=e.version,
                    saved_at=iso(e.saved_at),
                    size=e.size,
                    preview=e.preview,
                    current=e.version == current,
                )
                for e in entries
            ],
            retention=_retention(history),
        )
    )


@router.post(
    "/step/{workshopType}/{stepId}/restore/{version}",
    response_model=SaveStepResponse,
    responses={
        **_WRITE_ERRORS,
        404: {
            "model": ErrorResponse,
            "description": "No such kept version of this step (`version_not_found`).",
        },
    },
    openapi_extra={
        "requestBody": {
            "required": False,
            "content": {
                "application/json": {"schema": RestoreRequest.model_json_schema(by_alias=True)}
            },
        }
    },
)
async def restore_step(
    workshop_type: WorkshopTypePath,
    step_id: StepIdPath,
    version: Annotated[int, FastApiPath(ge=1, le=2**31 - 1)],
    request: Request,
    session: SessionCredentialDep,
    db: DbDep,
    catalog: CatalogDep,
    store: UploadStoreDep,
    history: HistoryDep,
    idempotency_key: Annotated[str | None, Header()] = None,
    if_match: Annotated[str | None, Header()] = None,
    x_base_version: Annotated[str | None, Header()] = None,
) -> Response:
    """Restore a kept version of a step.

    Makes a kept version the step's new version. The base version (the current one this
    restore is based on) comes in the body (`baseVersion`), If-Match or X-Base-Version;
    `Idempotency-Key` makes a retried restore answer 200 instead of 409."""
    try:
        step = catalog.step(workshop_type, step_id)
        raw = await request.body()
        body = RestoreRequest()
        if raw.strip():
            payload = parse_json(raw)
            if not isinstance(payload, dict):
                raise InvalidInput("The request body must be a JSON object.", code="invalid_body")
            try:
                body = RestoreRequest.model_validate(payload)
            except ValidationError as error:
                raise InvalidInput(validation_message(error), code="invalid_body") from None
        base_version = body.base_version
        if base_version is None:
            base_version = _patch_base_version(if_match, x_base_version)
        request_id = _request_id(idempotency_key, None)
    except DomainError:
        await auth_service.signed_in_user_id(db, session)
        raise
    try:
        record = await service.restore_step(
            db,
            session=session,
            step=step,
            version=version,
            base_version=base_version,
            request_id=request_id,
            history=history,
        )
    except Conflict:
        CONFLICTS.inc()
        raise
    except WorkshopLocked:
        LOCKED.inc()
        raise
    return await _saved_by_session(request, db, store, record)


# `POST /api/workshop-data/step`, the save every typing participant sends, is also served by
# a plain Starlette route in front of the FastAPI one: the same endpoint function, its
# dependencies resolved here in FastAPI's order instead of by FastAPI's dependency
# resolution, which was a fifth of a save's time (docs/benchmarks.md). The middleware and the
# error handlers apply as to any route. tests/api/test_save_endpoint.py fails when save_step's
# dependencies change without this.


async def _plain_save_step(request: Request) -> Response:
    # The order of FastAPI's resolution for router.save_step: the app's dependency, then the
    # endpoint's in the order of its parameters, then its headers.
    await check_request_text(request)
    settings = await get_settings(request)
    session = await get_session_credential(request, settings)
    # An async generator, as FastAPI would drive it; closed whatever the endpoint does.
    connections = cast(AsyncGenerator[AsyncConnection], get_db(request))
    db = await anext(connections)
    try:
        return await save_step(
            request,
            session,
            db,
            await get_catalog(request),
            await get_json_limits(request),
            await get_upload_store(request),
            await get_history_policy(request),
            idempotency_key=request.headers.get("idempotency-key"),
            if_match=request.headers.get("if-match"),
        )
    finally:
        await connections.aclose()


class _SaveRoute(Route):
    def matches(self, scope: Scope) -> tuple[Match, MutableMapping[str, Any]]:
        match, child_scope = super().matches(scope)
        # As FastAPI's routes do: the request observer labels logs and metrics by the route.
        if match is not Match.NONE:
            child_scope["route"] = self
        return match, child_scope


# Matched before the FastAPI route of the same path (app.py), which documents it.
plain_save_route = _SaveRoute("/api/workshop-data/step", _plain_save_step, methods=["POST"])
