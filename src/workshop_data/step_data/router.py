from typing import Annotated

from fastapi import APIRouter, Header, Request, Response
from fastapi import Path as FastApiPath
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncConnection

from workshop_data.api_schema import ErrorResponse, api_response, unavailable_or_busy
from workshop_data.auth import service as auth_service
from workshop_data.deps import (
    CatalogDep,
    CurrentUser,
    DbDep,
    EventBusDep,
    HistoryDep,
    JsonBody,
    JsonLimitsDep,
    SessionCredentialDep,
    StepIdPath,
    UploadStoreDep,
    WorkshopTypePath,
    json_body,
    openapi_body,
    validation_message,
)
from workshop_data.errors import Conflict, DomainError, InvalidInput, WorkshopLocked
from workshop_data.events.bus import EventBus
from workshop_data.json_input import check_document, parse_json
from workshop_data.ops.metrics import CONFLICTS, LOCKED, SAVES
from workshop_data.participation import service as participation_service
from workshop_data.step_data import headers, plain_route, service
from workshop_data.step_data import history as step_history
from workshop_data.step_data.schemas import (
    DeviceCopyRequest,
    DeviceCopyResponse,
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
from workshop_data.step_data.service import Saved
from workshop_data.step_data.statements import StepRecord
from workshop_data.timeutil import iso
from workshop_data.uploads import service as uploads_service
from workshop_data.uploads.storage import UploadStore

router = APIRouter(prefix="/api/workshop-data", tags=["step data"])

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


_parse_save_request = json_body(SaveStepRequest)


async def _save_request(request: Request) -> SaveStepRequest:
    return await _parse_save_request(request)


async def _saved_by_session(
    request: Request, db: AsyncConnection, store: UploadStore, bus: EventBus, saved: Saved
) -> Response:
    # The save has committed: what it caused may be told.
    for event in saved.events:
        bus.publish(event)
    record = saved.record
    request.state.user_id = record.user_id
    await uploads_service.note_references(db, store, record.user_id, record.data)
    return _saved(record)


def _saved(record: StepRecord) -> Response:
    SAVES.labels(record.workshop_type).inc()
    return api_response(
        SaveStepResponse(
            data=StepRecordOut.of(record),
            step_id=record.step_id,
            workshop_type=record.workshop_type,
            last_updated=iso(record.updated_at),
        ),
        headers={"ETag": headers.etag(record.version)},
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
    bus: EventBusDep,
    idempotency_key: Annotated[str | None, Header()] = None,
    if_match: Annotated[str | None, Header()] = None,
    x_device_id: Annotated[str | None, Header()] = None,
) -> Response:
    """Save a step's data document.

    With a base version (`baseVersion` or If-Match) the save succeeds only on that version
    (409 otherwise); `Idempotency-Key` (or `requestId`) makes a retried save answer 200."""
    # The save statement checks the session; a request refused before it runs is refused
    # for want of a session first.
    try:
        body = await _save_request(request)
        step = catalog.step(body.workshop_type, body.step_id)
        base_version = headers.base_version_of(body.base_version, if_match)
        request_id = headers.request_id_of(idempotency_key, body.request_id)
    except DomainError:
        await auth_service.signed_in_user_id(db, session)
        raise
    try:
        saved = await service.save_step(
            db,
            session=session,
            step=step,
            data=body.data,
            base_version=base_version,
            request_id=request_id,
            history=history,
            schema_version=body.schema_version,
            limits=limits,
            device_id=headers.device_id_of(x_device_id),
        )
    except Conflict:
        CONFLICTS.inc()
        raise
    except WorkshopLocked:
        LOCKED.inc()
        raise
    return await _saved_by_session(request, db, store, bus, saved)


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
    bus: EventBusDep,
    idempotency_key: Annotated[str | None, Header()] = None,
    if_match: Annotated[str | None, Header()] = None,
    x_base_version: Annotated[str | None, Header()] = None,
    x_schema_version: Annotated[str | None, Header()] = None,
    x_device_id: Annotated[str | None, Header()] = None,
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
        base_version = headers.patch_base_version_of(if_match, x_base_version)
        schema_version = headers.schema_version_of(x_schema_version)
        request_id = headers.request_id_of(idempotency_key, None)
        check_document(patch, ("data",), limits)
    except DomainError:
        await auth_service.signed_in_user_id(db, session)
        raise
    try:
        saved = await service.patch_step(
            db,
            session=session,
            step=step,
            patch=patch,
            base_version=base_version,
            request_id=request_id,
            limits=limits,
            history=history,
            schema_version=schema_version,
            device_id=headers.device_id_of(x_device_id),
        )
    except Conflict:
        CONFLICTS.inc()
        raise
    except WorkshopLocked:
        LOCKED.inc()
        raise
    return await _saved_by_session(request, db, store, bus, saved)


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
        headers={"ETag": headers.etag(record.version)},
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
            versions=[_history_version(e, current) for e in entries],
            retention=_retention(history),
        )
    )


def _history_version(entry: step_history.HistoryEntry, current: int | None) -> HistoryVersionOut:
    return HistoryVersionOut(
        version=entry.version,
        saved_at=iso(entry.saved_at),
        size=entry.size,
        preview=entry.preview,
        current=entry.source == step_history.SAVE and entry.version == current,
        source="save" if entry.source == step_history.SAVE else "device",
    )


@router.post(
    "/step/{workshopType}/{stepId}/history",
    response_model=DeviceCopyResponse,
    responses={
        **_ERRORS,
        413: {
            "model": ErrorResponse,
            "description": "The body, or `data` once encoded, is over its limit "
            "(`payload_too_large`).",
        },
        423: {"model": WorkshopLockedResponse},
    },
)
async def keep_device_copy(
    workshop_type: WorkshopTypePath,
    step_id: StepIdPath,
    user: CurrentUser,
    body: JsonBody[DeviceCopyRequest],
    db: DbDep,
    catalog: CatalogDep,
    limits: JsonLimitsDep,
    history: HistoryDep,
) -> Response:
    """Keep a device's own copy of a step.

    A device about to replace its own unsaved text with a merge (another device changed the
    same words) sends that text here first, so it stays restorable: it is listed in the
    step's history with `source: "device"` and a version below 1. Checked like a save; the
    same copy sent again is answered with the one already kept."""
    step = catalog.step(workshop_type, step_id)
    entry = await service.keep_device_copy(
        db,
        user_id=user.id,
        step=step,
        data=body.data,
        schema_version=body.schema_version,
        history=history,
        limits=limits,
    )
    return api_response(
        DeviceCopyResponse(
            kept=entry is not None,
            entry=None if entry is None else _history_version(entry, None),
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
    # Below 1: a device copy (…/history lists both kinds).
    version: Annotated[int, FastApiPath(ge=-(2**31), le=2**31 - 1)],
    request: Request,
    session: SessionCredentialDep,
    db: DbDep,
    catalog: CatalogDep,
    limits: JsonLimitsDep,
    store: UploadStoreDep,
    history: HistoryDep,
    bus: EventBusDep,
    idempotency_key: Annotated[str | None, Header()] = None,
    if_match: Annotated[str | None, Header()] = None,
    x_base_version: Annotated[str | None, Header()] = None,
    x_device_id: Annotated[str | None, Header()] = None,
) -> Response:
    """Restore a kept version of a step.

    Makes a kept version (or device copy) the step's new version. The base version (the
    current one this restore is based on) comes in the body (`baseVersion`), If-Match or
    X-Base-Version;
    `Idempotency-Key` makes a retried restore answer 200 instead of 409."""
    try:
        step = catalog.step(workshop_type, step_id)
        if version == 0:
            raise InvalidInput("No version of a step is numbered 0.", code="invalid_input")
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
            base_version = headers.patch_base_version_of(if_match, x_base_version)
        request_id = headers.request_id_of(idempotency_key, None)
    except DomainError:
        await auth_service.signed_in_user_id(db, session)
        raise
    try:
        saved = await service.restore_step(
            db,
            session=session,
            step=step,
            version=version,
            base_version=base_version,
            request_id=request_id,
            history=history,
            limits=limits,
            device_id=headers.device_id_of(x_device_id),
        )
    except Conflict:
        CONFLICTS.inc()
        raise
    except WorkshopLocked:
        LOCKED.inc()
        raise
    return await _saved_by_session(request, db, store, bus, saved)


# Matched before the FastAPI routes of the same paths (app.py), which document them.
plain_save_route = plain_route.save_route(save_step)
plain_patch_route = plain_route.patch_route(patch_step)
