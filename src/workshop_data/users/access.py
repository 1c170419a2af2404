"""Who may read whose data: the user, the facilitator assigned to them, and administrators.
Nobody writes another user's workshop data; admins change accounts, not their contents."""

from sqlalchemy.ext.asyncio import AsyncConnection

from workshop_data.errors import Forbidden, NotFound
from workshop_data.users.service import User, get_user


def is_facilitator_of(viewer: User, owner: User) -> bool:
    return viewer.role == "facilitator" and owner.facilitator_id == viewer.id


def can_read(viewer: User, owner: User) -> bool:
    return viewer.id == owner.id or viewer.is_admin or is_facilitator_of(viewer, owner)


async def readable_user(conn: AsyncConnection, viewer: User, user_id: int) -> User:
    """The user `viewer` asks about, if they may read that user's data.

    Only admins learn whether an id exists (404); anyone else gets 403 either way."""
    owner = viewer if user_id == viewer.id else await get_user(conn, user_id)
    if owner is None:
        if viewer.is_admin:
            raise NotFound(f"There is no user with id {user_id}.")
        raise Forbidden("You may not see this user's data.")
    if not can_read(viewer, owner):
        raise Forbidden("You may not see this user's data.")
    return owner


async def existing_user(conn: AsyncConnection, user_id: int) -> User:
    user = await get_user(conn, user_id)
    if user is None:
        raise NotFound(f"There is no user with id {user_id}.")
    return user
