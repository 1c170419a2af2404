from fastapi import APIRouter, Response

from workshop_data.api_schema import ErrorResponse, api_response
from workshop_data.deps import CatalogDep, CurrentUser, DbDep
from workshop_data.progress import service
from workshop_data.progress.schemas import StepsIncompleteResponse, WorkshopStatusResponse
from workshop_data.timeutil import iso

router = APIRouter(prefix="/api/workshop-data", tags=["workshop status"])


def status_out(status: service.WorkshopStatus) -> WorkshopStatusResponse:
    return WorkshopStatusResponse(
        workshop_type=status.workshop_type,
        completed=status.completed,
        completed_at=iso(status.completed_at),
        locked=status.completed,
        reopened_at=iso(status.reopened_at),
        reopened_by=status.reopened_by,
    )


@router.get(
    "/status/{workshop_type}",
    response_model=WorkshopStatusResponse,
    responses={400: {"model": ErrorResponse}, 401: {"model": ErrorResponse}},
)
async def workshop_status(
    workshop_type: str, user: CurrentUser, db: DbDep, catalog: CatalogDep
) -> Response:
    workshop = catalog.check_workshop_type(workshop_type)
    return api_response(status_out(await service.workshop_status(db, user.id, workshop)))


@router.post(
    "/complete/{workshop_type}",
    response_model=WorkshopStatusResponse,
    responses={
        400: {"model": ErrorResponse},
        401: {"model": ErrorResponse},
        409: {"model": StepsIncompleteResponse},
    },
)
async def complete_workshop(
    workshop_type: str, user: CurrentUser, db: DbDep, catalog: CatalogDep
) -> Response:
    workshop = catalog.check_workshop_type(workshop_type)
    status = await service.complete_workshop(db, catalog, user.id, workshop)
    return api_response(status_out(status))
