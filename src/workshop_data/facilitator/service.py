"""What facilitators read: the participants assigned to them."""

from sqlalchemy.ext.asyncio import AsyncConnection

from workshop_data.db.tables import users
from workshop_data.users import service as users_service
from workshop_data.users.service import Account


async def list_participants(
    conn: AsyncConnection, *, facilitator_id: int | None, q: str | None, page: int, page_size: int
) -> tuple[list[Account], int]:
    """The users assigned to a facilitator; with `facilitator_id` None, every participant."""
    assigned = (
        users.c.role == "participant"
        if facilitator_id is None
        else users.c.facilitator_id == facilitator_id
    )
    where = assigned & users_service.account_search(q)
    return await users_service.account_page(conn, where, page, page_size)
