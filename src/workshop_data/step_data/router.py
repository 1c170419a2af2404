import re
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Response

from workshop_data.api_schema import ErrorResponse, api_response
from workshop_data.deps import (
    AutocommitDbDep,
    CatalogDep,
    CurrentUser,
    JsonLimitsDep,
    json_body,
    openapi_body,
)
from workshop_data.errors import Conflict, InvalidInput, WorkshopLocked
from workshop_data.ops.metrics import CONFLICTS, LOCKED, SAVES
from workshop_data.step_data import service
from workshop_data.step_data.schemas import (
    MAX_REQUEST_ID_LENGTH,
    MAX_VERSION,
    SaveStepRequest,
    SaveStepResponse,
    StepDataResponse,
    StepRecordOut,
    VersionConflictResponse,
    WorkshopLockedResponse,
    WorkshopStepsResponse,
)
from workshop_data.timeutil import iso

router = APIRouter(prefix="/api/workshop-data", tags=["step data"])

_ETAG = re.compile(r'^\s*(?:W/)?"?(\d{1,10})"?\s*$')
_ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorResponse},
    401: {"model": ErrorResponse},
}


def _record_out(record: service.StepRecord) -> StepRecordOut:
    return StepRecordOut(
        id=record.id,
        user_id=record.user_id,
        workshop_type=record.workshop_type,
        step_id=record.step_id,
        data=record.data,
        version=record.version,
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


@router.post(
    "/step",
    response_model=SaveStepResponse,
    responses={
        **_ERRORS,
        409: {"model": VersionConflictResponse},
        413: {"model": ErrorResponse},
        423: {"model": WorkshopLockedResponse},
    },
    openapi_extra=openapi_body(SaveStepRequest),
)
async def save_step(
    user: CurrentUser,
    body: Annotated[SaveStepRequest, Depends(json_body(SaveStepRequest))],
    db: AutocommitDbDep,
    catalog: CatalogDep,
    limits: JsonLimitsDep,
    idempotency_key: Annotated[str | None, Header()] = None,
    if_match: Annotated[str | None, Header()] = None,
) -> Response:
    step = catalog.step(body.workshop_type, body.step_id)
    service.check_step_document(body.data, limits)
    try:
        record = await service.save_step(
            db,
            user_id=user.id,
            step=step,
            data=body.data,
            base_version=_base_version(body.base_version, if_match),
            request_id=_request_id(idempotency_key, body.request_id),
        )
    except Conflict:
        CONFLICTS.inc()
        raise
    except WorkshopLocked:
        LOCKED.inc()
        raise
    SAVES.labels(step.workshop_type).inc()
    return api_response(
        SaveStepResponse(
            data=_record_out(record),
            step_id=record.step_id,
            workshop_type=record.workshop_type,
            last_updated=iso(record.updated_at),
        ),
        headers={"ETag": _etag(record.version)},
    )


@router.get("/step/{workshop_type}/{step_id}", response_model=StepDataResponse, responses=_ERRORS)
async def get_step(
    workshop_type: str, step_id: str, user: CurrentUser, db: AutocommitDbDep, catalog: CatalogDep
) -> Response:
    step = catalog.step(workshop_type, step_id)
    record = await service.get_step(db, user.id, step.workshop_type, step.step_id)
    if record is None:
        return api_response(
            StepDataResponse(
                data=None,
                step_id=step.step_id,
                workshop_type=step.workshop_type,
                version=None,
                created_at=None,
                updated_at=None,
                last_updated=None,
            )
        )
    return api_response(
        StepDataResponse(
            data=record.data,
            step_id=record.step_id,
            workshop_type=record.workshop_type,
            version=record.version,
            created_at=iso(record.created_at),
            updated_at=iso(record.updated_at),
            last_updated=iso(record.updated_at),
        ),
        headers={"ETag": _etag(record.version)},
    )


@router.get("/steps/{workshop_type}", response_model=WorkshopStepsResponse, responses=_ERRORS)
async def list_steps(
    workshop_type: str, user: CurrentUser, db: AutocommitDbDep, catalog: CatalogDep
) -> Response:
    workshop = catalog.check_workshop_type(workshop_type)
    records = await service.list_steps(db, user.id, workshop)
    return api_response(WorkshopStepsResponse.of(workshop, records))
