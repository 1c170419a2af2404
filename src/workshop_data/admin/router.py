from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from workshop_data.admin import service
from workshop_data.admin.schemas import (
    MAX_PAGE_SIZE,
    AccountListResponse,
    AccountOut,
    AccountResponse,
    CreateAccountRequest,
    DeletedAccountResponse,
    ReopenResponse,
    UpdateAccountRequest,
    UserStepsResponse,
)
from workshop_data.api_schema import ErrorResponse, api_response
from workshop_data.deps import (
    AdminUser,
    AutocommitDbDep,
    CatalogDep,
    DbDep,
    PasswordHashingDep,
    UserIdPath,
    WorkshopTypePath,
    json_body,
    openapi_body,
)
from workshop_data.progress.router import status_out
from workshop_data.step_data import service as step_service
from workshop_data.timeutil import iso
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

Page = Annotated[int, Query(ge=1, le=1_000_000)]
PageSize = Annotated[int, Query(alias="pageSize", ge=1, le=MAX_PAGE_SIZE)]
Search = Annotated[str | None, Query(max_length=200)]


def account_out(account: service.Account) -> AccountOut:
    return AccountOut(
        id=account.id,
        username=account.username,
        name=account.name,
        email=account.email,
        role=account.role,
        facilitator_id=account.facilitator_id,
        created_at=iso(account.created_at),
        updated_at=iso(account.updated_at),
    )


def account_list(
    accounts: list[service.Account], total: int, page: int, page_size: int
) -> AccountListResponse:
    return AccountListResponse(
        users=[account_out(a) for a in accounts], page=page, page_size=page_size, total=total
    )


def user_steps_response(
    user_id: int, workshop_type: str, records: list[step_service.StepRecord]
) -> UserStepsResponse:
    return UserStepsResponse.of(workshop_type, records, user_id=user_id)


@router.get("/users", response_model=AccountListResponse, responses=_ERRORS)
async def list_users(
    _admin: AdminUser,
    db: AutocommitDbDep,
    q: Search = None,
    page: Page = 1,
    page_size: PageSize = 50,
) -> Response:
    """List users.

    In id order, a page at a time; `q` searches username, name and email."""
    accounts, total = await service.list_accounts(db, q=q, page=page, page_size=page_size)
    return api_response(account_list(accounts, total, page, page_size))


@router.post(
    "/users",
    response_model=AccountResponse,
    status_code=201,
    responses={**_ERRORS, **_conflict(_USER_EXISTS)},
    openapi_extra=openapi_body(CreateAccountRequest),
)
async def create_user(
    _admin: AdminUser,
    body: Annotated[CreateAccountRequest, Depends(json_body(CreateAccountRequest))],
    db: AutocommitDbDep,
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
    return api_response(AccountResponse(user=account_out(account)), status_code=201)


@router.get("/users/{userId}", response_model=AccountResponse, responses=_ERRORS_404)
async def get_user(user_id: UserIdPath, _admin: AdminUser, db: AutocommitDbDep) -> Response:
    """One user's account."""
    return api_response(AccountResponse(user=account_out(await service.get_account(db, user_id))))


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
    openapi_extra=openapi_body(UpdateAccountRequest),
)
async def update_user(
    user_id: UserIdPath,
    _admin: AdminUser,
    body: Annotated[UpdateAccountRequest, Depends(json_body(UpdateAccountRequest))],
    db: DbDep,
) -> Response:
    """Change a user's account.

    Role, facilitator, name or email. The last admin cannot be demoted (409)."""
    changes = body.model_dump(include=body.model_fields_set)
    account = await service.update_account(db, user_id, changes)
    return api_response(AccountResponse(user=account_out(account)))


@router.delete(
    "/users/{userId}",
    response_model=DeletedAccountResponse,
    responses={
        **_ERRORS_404,
        **_conflict("This is the last administrator (`last_admin`)."),
    },
)
async def delete_user(user_id: UserIdPath, _admin: AdminUser, db: DbDep) -> Response:
    """Delete a user.

    The user and everything they own. The last admin cannot be deleted (409)."""
    account = await service.delete_account(db, user_id)
    return api_response(DeletedAccountResponse(deleted=account_out(account)))


@router.get(
    "/users/{userId}/step-data/{workshopType}",
    response_model=UserStepsResponse,
    responses=_ERRORS_404,
)
async def user_step_data(
    user_id: UserIdPath,
    workshop_type: WorkshopTypePath,
    _admin: AdminUser,
    db: AutocommitDbDep,
    catalog: CatalogDep,
) -> Response:
    """Every saved step of a user's workshop."""
    workshop = catalog.check_workshop_type(workshop_type)
    owner = await existing_user(db, user_id)
    records = await step_service.list_steps(db, owner.id, workshop)
    return api_response(user_steps_response(owner.id, workshop, records))


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
    db: AutocommitDbDep,
    catalog: CatalogDep,
) -> Response:
    """Reopen a completed workshop.

    Unlocks it so the participant can change it again."""
    workshop = catalog.check_workshop_type(workshop_type)
    owner = await existing_user(db, user_id)
    status = await service.reopen_workshop(db, owner.id, workshop, admin.id)
    return api_response(ReopenResponse(user_id=owner.id, **status_out(status).model_dump()))
