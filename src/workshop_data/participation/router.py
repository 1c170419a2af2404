from fastapi import APIRouter, Response

from workshop_data.api_schema import ErrorResponse, api_response, unavailable_or_busy
from workshop_data.deps import CatalogDep, CurrentUser, DbDep, EventBusDep, WorkshopTypePath
from workshop_data.events.schemas import ParticipationChanged
from workshop_data.participation import service
from workshop_data.participation.schemas import StepsIncompleteResponse, WorkshopStatusResponse
from workshop_data.timeutil import utc_now

router = APIRouter(prefix="/api/workshop-data", tags=["workshop status"])


@router.get(
    "/status/{workshopType}",
    response_model=WorkshopStatusResponse,
    responses={400: {"model": ErrorResponse}, 401: {"model": ErrorResponse}},
)
async def workshop_status(
    workshop_type: WorkshopTypePath, user: CurrentUser, db: DbDep, catalog: CatalogDep
) -> Response:
    """Whether the caller completed a workshop (and so its locking sections are locked)."""
    workshop = catalog.check_workshop_type(workshop_type)
    return api_response(
        WorkshopStatusResponse.of(await service.workshop_status(db, user.id, workshop))
    )


@router.post(
    "/complete/{workshopType}",
    response_model=WorkshopStatusResponse,
    responses={
        400: {"model": ErrorResponse},
        401: {"model": ErrorResponse},
        409: {
            "model": StepsIncompleteResponse,
            "description": "Required steps are not completed in the navigation progress "
            "(`steps_incomplete`); `missingSteps` lists them.",
        },
        503: unavailable_or_busy("the status was changed by too many requests at once"),
    },
)
async def complete_workshop(
    workshop_type: WorkshopTypePath,
    user: CurrentUser,
    db: DbDep,
    catalog: CatalogDep,
    bus: EventBusDep,
) -> Response:
    """Complete a workshop.

    From then on the steps of its locking sections cannot change (423) until an
    administrator reopens it. Completing again changes nothing."""
    workshop = catalog.check_workshop_type(workshop_type)
    status = await service.complete_workshop(db, catalog, user.id, workshop)
    bus.publish(ParticipationChanged(user.id, workshop, True, status.completed_at or utc_now()))
    return api_response(WorkshopStatusResponse.of(status))
