from fastapi import APIRouter, Response

from workshop_data.admin import service
from workshop_data.admin.schemas import (
    AccountListResponse,
    AccountOut,
    AccountResponse,
    CreateAccountRequest,
    DeletedAccountResponse,
    PasswordResetResponse,
    ReopenResponse,
    ResetPasswordRequest,
    UpdateAccountRequest,
    UserStepsResponse,
)
from workshop_data.api_schema import ErrorResponse, api_response
from workshop_data.auth import service as auth_service
from workshop_data.deps import (
    AdminUser,
    CatalogDep,
    DbDep,
    EventBusDep,
    JsonBody,
    Page,
    PageSize,
    PasswordHashingDep,
    Search,
    UserIdPath,
    WorkshopTypePath,
)
from workshop_data.events.schemas import ParticipationChanged, SessionEnded
from workshop_data.participation import service as participation_service
from workshop_data.step_data import service as step_service
from workshop_data.timeutil import utc_now
from workshop_data.users.access import existing_user

router = APIRouter(prefix="/api/admin", tags=["admin"])

_ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorResponse},
    401: {"model": ErrorResponse},
    403: {
        "model": ErrorResponse,
        "description": "The caller is not an administrator (`forbidden`).",
    },
}
_ERRORS_404: dict[int | str, dict[str, object]] = {
    **_ERRORS,
    404: {"model": ErrorResponse, "description": "There is no user with that id (`not_found`)."},
}


def _conflict(description: str) -> dict[int | str, dict[str, object]]:
    return {409: {"model": ErrorResponse, "description": description}}


_USER_EXISTS = "Another user has that username or e-mail address (`user_exists`)."


@router.get("/users", response_model=AccountListResponse, responses=_ERRORS)
async def list_users(
    _admin: AdminUser,
    db: DbDep,
    q: Search = None,
    page: Page = 1,
    page_size: PageSize = 50,
) -> Response:
    """List users.

    In id order, a page at a time; `q` searches username, name and email."""
    accounts, total = await service.list_accounts(db, q=q, page=page, page_size=page_size)
    return api_response(AccountListResponse.of(accounts, total, page, page_size))


@router.post(
    "/users",
    response_model=AccountResponse,
    status_code=201,
    responses={**_ERRORS, **_conflict(_USER_EXISTS)},
)
async def create_user(
    _admin: AdminUser,
    body: JsonBody[CreateAccountRequest],
    db: DbDep,
    hashing: PasswordHashingDep,
) -> Response:
    """Create a user (participant, facilitator or administrator)."""
    account = await service.create_account(
        db,
        username=body.username,
        password=body.password,
        role=body.role,
        name=body.name,
        email=body.email,
        facilitator_id=body.facilitator_id,
        hashing=hashing,
    )
    return api_response(AccountResponse(user=AccountOut.of(account)), status_code=201)


@router.get("/users/{userId}", response_model=AccountResponse, responses=_ERRORS_404)
async def get_user(user_id: UserIdPath, _admin: AdminUser, db: DbDep) -> Response:
    """One user's account."""
    return api_response(AccountResponse(user=AccountOut.of(await service.get_account(db, user_id))))


@router.patch(
    "/users/{userId}",
    response_model=AccountResponse,
    responses={
        **_ERRORS_404,
        **_conflict(
            "The e-mail address is another user's (`user_exists`), or the change would "
            "demote the last administrator (`last_admin`)."
        ),
    },
)
async def update_user(
    user_id: UserIdPath,
    _admin: AdminUser,
    body: JsonBody[UpdateAccountRequest],
    db: DbDep,
    bus: EventBusDep,
) -> Response:
    """Change a user's account.

    Role, facilitator, name or email. The last admin cannot be demoted (409)."""
    changes = body.model_dump(include=body.model_fields_set)
    account = await service.update_account(db, user_id, changes)
    # Their role or facilitator may have changed: the live streams read their standing again.
    bus.publish(SessionEnded(account.id, None))
    return api_response(AccountResponse(user=AccountOut.of(account)))


@router.delete(
    "/users/{userId}",
    response_model=DeletedAccountResponse,
    responses={
        **_ERRORS_404,
        **_conflict("This is the last administrator (`last_admin`)."),
    },
)
async def delete_user(
    user_id: UserIdPath, _admin: AdminUser, db: DbDep, bus: EventBusDep
) -> Response:
    """Delete a user.

    The user and everything they own. The last admin cannot be deleted (409)."""
    account = await service.delete_account(db, user_id)
    bus.publish(SessionEnded(account.id, None))
    return api_response(DeletedAccountResponse(deleted=AccountOut.of(account)))


@router.post(
    "/users/{userId}/password", response_model=PasswordResetResponse, responses=_ERRORS_404
)
async def reset_password(
    user_id: UserIdPath,
    _admin: AdminUser,
    body: JsonBody[ResetPasswordRequest],
    db: DbDep,
    hashing: PasswordHashingDep,
    bus: EventBusDep,
) -> Response:
    """Give a user a new password.

    The same strength rule as a new account (400 `invalid_password`); every session of the
    user ends (they sign in again with the new password)."""
    owner = await existing_user(db, user_id)
    ended = await auth_service.set_password(db, owner, body.password, hashing)
    bus.publish(SessionEnded(owner.id, None))
    account = await service.get_account(db, owner.id)
    return api_response(PasswordResetResponse(user=AccountOut.of(account), sessions_ended=ended))


@router.get(
    "/users/{userId}/step-data/{workshopType}",
    response_model=UserStepsResponse,
    responses=_ERRORS_404,
)
async def user_step_data(
    user_id: UserIdPath,
    workshop_type: WorkshopTypePath,
    _admin: AdminUser,
    db: DbDep,
    catalog: CatalogDep,
) -> Response:
    """Every saved step of a user's workshop."""
    workshop = catalog.check_workshop_type(workshop_type)
    owner = await existing_user(db, user_id)
    records = await step_service.list_steps(db, owner.id, workshop)
    return api_response(UserStepsResponse.of(workshop, records, user_id=owner.id))


@router.post(
    "/users/{userId}/workshops/{workshopType}/reopen",
    response_model=ReopenResponse,
    responses={
        **_ERRORS_404,
        404: {
            "model": ErrorResponse,
            "description": "There is no user with that id (`not_found`), or they have not "
            "started that workshop (`workshop_not_started`).",
        },
    },
)
async def reopen_workshop(
    user_id: UserIdPath,
    workshop_type: WorkshopTypePath,
    admin: AdminUser,
    db: DbDep,
    catalog: CatalogDep,
    bus: EventBusDep,
) -> Response:
    """Reopen a completed workshop.

    Unlocks it so the participant can change it again."""
    workshop = catalog.check_workshop_type(workshop_type)
    owner = await existing_user(db, user_id)
    status = await participation_service.reopen_workshop(db, owner.id, workshop, admin.id)
    bus.publish(ParticipationChanged(owner.id, workshop, False, status.reopened_at or utc_now()))
    return api_response(ReopenResponse.of(status, user_id=owner.id))
