"""Facilitators read (never write) the data of the participants assigned to them
(users.facilitator_id). Administrators may use these endpoints for any participant."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from workshop_data.admin.schemas import AccountListResponse, UserStepsResponse
from workshop_data.api_schema import ErrorResponse, api_response
from workshop_data.deps import (
    CatalogDep,
    CurrentUser,
    DbDep,
    Page,
    PageSize,
    Search,
    UserIdPath,
    WorkshopTypePath,
)
from workshop_data.errors import Forbidden
from workshop_data.facilitator import service
from workshop_data.facilitator.schemas import WorkshopGridResponse
from workshop_data.navigation import service as navigation_service
from workshop_data.navigation.schemas import ParticipantProgressResponse
from workshop_data.step_data import service as step_service
from workshop_data.users.access import readable_user
from workshop_data.users.service import User

router = APIRouter(prefix="/api/facilitator", tags=["facilitator"])

_ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorResponse},
    401: {"model": ErrorResponse},
    403: {
        "model": ErrorResponse,
        "description": "The caller is not a facilitator or an administrator, or the participant "
        "is not assigned to them (`forbidden`).",
    },
}
_NO_SUCH_USER: dict[int | str, dict[str, object]] = {
    404: {
        "model": ErrorResponse,
        "description": "There is no user with that id; only administrators learn this "
        "(`not_found`).",
    }
}


async def get_facilitator(user: CurrentUser) -> User:
    if user.role not in ("facilitator", "admin"):
        raise Forbidden("Only a facilitator or an administrator can do this.")
    return user


FacilitatorUser = Annotated[User, Depends(get_facilitator)]


@router.get("/participants", response_model=AccountListResponse, responses=_ERRORS)
async def list_participants(
    facilitator: FacilitatorUser,
    db: DbDep,
    q: Search = None,
    page: Page = 1,
    page_size: PageSize = 50,
) -> Response:
    """List my participants.

    The users assigned to me; for an administrator, every participant."""
    accounts, total = await service.list_participants(
        db,
        facilitator_id=None if facilitator.is_admin else facilitator.id,
        q=q,
        page=page,
        page_size=page_size,
    )
    return api_response(AccountListResponse.of(accounts, total, page, page_size))


@router.get(
    "/participants/{userId}/step-data/{workshopType}",
    response_model=UserStepsResponse,
    responses={**_ERRORS, **_NO_SUCH_USER},
)
async def participant_step_data(
    user_id: UserIdPath,
    workshop_type: WorkshopTypePath,
    facilitator: FacilitatorUser,
    db: DbDep,
    catalog: CatalogDep,
) -> Response:
    """Every saved step of a participant's workshop."""
    owner = await readable_user(db, facilitator, user_id)
    workshop = catalog.check_workshop_type(workshop_type)
    records = await step_service.list_steps(db, owner.id, workshop)
    return api_response(UserStepsResponse.of(workshop, records, user_id=owner.id))


@router.get(
    "/participants/{userId}/navigation-progress/{workshopType}",
    response_model=ParticipantProgressResponse,
    responses={**_ERRORS, **_NO_SUCH_USER},
)
async def participant_progress(
    user_id: UserIdPath,
    workshop_type: WorkshopTypePath,
    facilitator: FacilitatorUser,
    db: DbDep,
    catalog: CatalogDep,
) -> Response:
    """A participant's navigation progress in a workshop."""
    owner = await readable_user(db, facilitator, user_id)
    workshop = catalog.check_workshop_type(workshop_type)
    progress = await navigation_service.get_progress(db, owner.id, workshop)
    return api_response(ParticipantProgressResponse.of(workshop, progress, user_id=owner.id))


@router.get(
    "/workshops/{workshopType}/grid",
    response_model=WorkshopGridResponse,
    responses=_ERRORS,
)
async def workshop_grid(
    workshop_type: WorkshopTypePath,
    facilitator: FacilitatorUser,
    db: DbDep,
    catalog: CatalogDep,
    user_id: Annotated[int | None, Query(alias="userId", ge=1, le=2**63 - 1)] = None,
    page: Page = 1,
    page_size: PageSize = 50,
) -> Response:
    """My participants' progress in a workshop, for the live view.

    Per participant: the current step, the completed steps, when they started and completed
    the workshop, the last activity and, per saved step, its version and time (never the
    answers). `userId` narrows it to one of my participants (an empty list for anyone else)."""
    workshop = catalog.check_workshop_type(workshop_type)
    rows, total = await service.workshop_grid(
        db,
        workshop,
        facilitator_id=None if facilitator.is_admin else facilitator.id,
        user_id=user_id,
        page=page,
        page_size=page_size,
    )
    return api_response(WorkshopGridResponse.of(workshop, rows, total, page, page_size))
