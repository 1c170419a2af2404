"""Account administration: listing, creating, changing and deleting users.

There is always at least one administrator: demoting or deleting an admin is one guarded
statement that succeeds only while another admin remains (on PostgreSQL the admin rows are
locked first, so two admins demoting each other at once cannot both succeed)."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from workshop_data.db.tables import users
from workshop_data.db.transaction import transaction
from workshop_data.errors import Conflict, InvalidInput, NotFound
from workshop_data.timeutil import utc_now
from workshop_data.users import service as users_service
from workshop_data.users.passwords import PasswordHashing
from workshop_data.users.schemas import ROLES
from workshop_data.users.service import ACCOUNT_COLUMNS, Account, account_from_row


async def list_accounts(
    conn: AsyncConnection, *, q: str | None, page: int, page_size: int
) -> tuple[list[Account], int]:
    """One page of users in id order, optionally those whose username, name or email contains
    `q` (case-insensitive); and how many match in all."""
    return await users_service.account_page(conn, users_service.account_search(q), page, page_size)


async def get_account(conn: AsyncConnection, user_id: int) -> Account:
    row = (await conn.execute(select(*ACCOUNT_COLUMNS).where(users.c.id == user_id))).first()
    if row is None:
        raise NotFound(f"There is no user with id {user_id}.")
    return account_from_row(row)


async def _check_facilitator(
    conn: AsyncConnection, facilitator_id: int | None, user_id: int | None
) -> None:
    if facilitator_id is None:
        return
    if facilitator_id == user_id:
        raise InvalidInput("A user cannot be their own facilitator.", code="invalid_facilitator")
    facilitator = await users_service.get_user(conn, facilitator_id)
    if facilitator is None or facilitator.role != "facilitator":
        raise InvalidInput(
            f"facilitatorId {facilitator_id} is not a user with the role facilitator.",
            code="invalid_facilitator",
        )


def _user_exists_error(what: str) -> Conflict:
    return Conflict(f"a user with {what} already exists", code="user_exists")


async def create_account(
    conn: AsyncConnection,
    *,
    username: str,
    password: str,
    role: str,
    name: str,
    email: str | None,
    facilitator_id: int | None,
    hashing: PasswordHashing | None = None,
) -> Account:
    await _check_facilitator(conn, facilitator_id, None)
    created = await users_service.create_user(
        conn,
        username=username,
        password=password,
        role=role,
        name=name,
        email=email,
        facilitator_id=facilitator_id,
        hashing=hashing,
    )
    return await get_account(conn, created.id)


async def _explain_missing(conn: AsyncConnection, user_id: int, action: str) -> Exception:
    if await users_service.get_user(conn, user_id) is None:
        return NotFound(f"There is no user with id {user_id}.")
    return Conflict(
        f"This is the last administrator; {action} would leave nobody to administer the "
        "platform. Make another user an administrator first.",
        code="last_admin",
    )


async def update_account(conn: AsyncConnection, user_id: int, changes: dict[str, Any]) -> Account:
    """Apply `changes` (role, name, email, facilitator_id; None clears email and facilitator).
    A user who stops being a facilitator is unassigned from their participants."""
    values: dict[str, Any] = {}
    if "role" in changes:
        if changes["role"] not in ROLES:
            raise InvalidInput(f"role must be one of {', '.join(ROLES)}", code="invalid_role")
        values["role"] = changes["role"]
    if "name" in changes:
        values["name"] = users_service.check_display_name(changes["name"])
    if "email" in changes:
        values["email"] = users_service.check_email(changes["email"])
    if "facilitator_id" in changes:
        await _check_facilitator(conn, changes["facilitator_id"], user_id)
        values["facilitator_id"] = changes["facilitator_id"]
    if not values:
        return await get_account(conn, user_id)
    now = utc_now()
    demoting = "role" in values and values["role"] != "admin"
    async with transaction(conn):
        if demoting:
            await users_service.lock_admins(conn)
        try:
            account = await users_service.update_account_row(
                conn, user_id, values, now, keep_an_admin=demoting
            )
        except IntegrityError:
            raise _user_exists_error("that email") from None
        if account is not None and "role" in values and values["role"] != "facilitator":
            await users_service.unassign_participants(conn, user_id, now)
    if account is None:
        raise await _explain_missing(conn, user_id, "demoting them")
    return account


async def delete_account(conn: AsyncConnection, user_id: int) -> Account:
    """Delete the user; the foreign keys cascade to everything they own (sessions included) and
    clear references to them (participants' facilitator, who reopened a workshop)."""
    async with transaction(conn):
        await users_service.lock_admins(conn)
        account = await users_service.delete_account_row(conn, user_id)
    if account is None:
        raise await _explain_missing(conn, user_id, "deleting them")
    return account
