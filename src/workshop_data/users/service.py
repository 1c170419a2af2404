from dataclasses import dataclass
from functools import cache
from typing import Any

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, insert, or_, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from workshop_data.db.tables import users
from workshop_data.errors import Conflict, InvalidInput
from workshop_data.timeutil import utc_now
from workshop_data.users.schemas import ROLES, Role, UserOut

MIN_PASSWORD_LENGTH = 8
_hasher = PasswordHasher()


@cache
def _absent_user_hash() -> str:
    """Verified against when a login names nobody, so that both cases take the same time."""
    return _hasher.hash("no user has this password")


@dataclass(frozen=True)
class User:
    id: int
    username: str
    name: str
    email: str | None
    role: Role
    facilitator_id: int | None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def public(self) -> UserOut:
        return UserOut(
            id=self.id, username=self.username, name=self.name, email=self.email, role=self.role
        )


_USER_COLUMNS = (
    users.c.id,
    users.c.username,
    users.c.name,
    users.c.email,
    users.c.role,
    users.c.facilitator_id,
)


def user_from_row(row: RowMapping | Any) -> User:
    return User(
        id=row.id,
        username=row.username,
        name=row.name,
        email=row.email,
        role=row.role,
        facilitator_id=row.facilitator_id,
    )


async def hash_password(password: str) -> str:
    return await anyio.to_thread.run_sync(_hasher.hash, password)


async def _verify(password_hash: str, password: str) -> bool:
    def verify() -> bool:
        try:
            return _hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    return await anyio.to_thread.run_sync(verify)


def check_new_credentials(username: str, password: str, role: str) -> None:
    if not username or len(username) > 100 or username != username.strip():
        raise InvalidInput(
            "username must be 1 to 100 characters without surrounding spaces",
            code="invalid_username",
        )
    if "@" in username:
        raise InvalidInput("username must not contain '@'", code="invalid_username")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"password must be at least {MIN_PASSWORD_LENGTH} characters",
            code="invalid_password",
        )
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}", code="invalid_role")


async def create_user(
    conn: AsyncConnection,
    *,
    username: str,
    password: str,
    role: str = "participant",
    name: str = "",
    email: str | None = None,
    facilitator_id: int | None = None,
) -> User:
    check_new_credentials(username, password, role)
    now = utc_now()
    try:
        row = (
            await conn.execute(
                insert(users)
                .values(
                    username=username,
                    email=email or None,
                    name=name,
                    password_hash=await hash_password(password),
                    role=role,
                    facilitator_id=facilitator_id,
                    created_at=now,
                    updated_at=now,
                )
                .returning(*_USER_COLUMNS)
            )
        ).one()
        await conn.commit()
    except IntegrityError:
        await conn.rollback()
        raise Conflict(
            f"a user with username '{username}' or that email already exists",
            code="user_exists",
        ) from None
    return user_from_row(row)


async def authenticate(conn: AsyncConnection, login: str, password: str) -> User | None:
    """The user whose username (or email) and password match, or None."""
    row = (
        await conn.execute(
            select(*_USER_COLUMNS, users.c.password_hash).where(
                or_(users.c.username == login, users.c.email == login)
            )
        )
    ).first()
    if row is None:
        await _verify(_absent_user_hash(), password)
        return None
    if not await _verify(row.password_hash, password):
        return None
    return user_from_row(row)


async def get_user(conn: AsyncConnection, user_id: int) -> User | None:
    row = (await conn.execute(select(*_USER_COLUMNS).where(users.c.id == user_id))).first()
    return None if row is None else user_from_row(row)


async def get_user_by_username(conn: AsyncConnection, username: str) -> User | None:
    row = (await conn.execute(select(*_USER_COLUMNS).where(users.c.username == username))).first()
    return None if row is None else user_from_row(row)


async def list_users(conn: AsyncConnection) -> list[User]:
    rows = await conn.execute(select(*_USER_COLUMNS).order_by(users.c.id))
    return [user_from_row(row) for row in rows]


async def count_users(conn: AsyncConnection) -> int:
    return int((await conn.execute(select(func.count()).select_from(users))).scalar_one())
