from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, or_, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from workshop_data.db.tables import users
from workshop_data.errors import Conflict, InvalidInput
from workshop_data.text_policy import check_name, check_storable
from workshop_data.timeutil import utc_now
from workshop_data.users.passwords import PasswordHashing, absent_user_hash, hash_in_thread
from workshop_data.users.schemas import ROLES, Role, UserOut

MIN_PASSWORD_LENGTH = 8


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


def check_new_credentials(username: str, password: str, role: str) -> None:
    if not username or len(username) > 100 or username != username.strip():
        raise InvalidInput(
            "username must be 1 to 100 characters without surrounding spaces",
            code="invalid_username",
        )
    if "@" in username:
        raise InvalidInput("username must not contain '@'", code="invalid_username")
    check_name(username, "username", code="invalid_username")
    check_storable(password, "password", code="invalid_password")
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
    hashing: PasswordHashing | None = None,
) -> User:
    """A new account. `hashing` bounds the password hashing of a server; without it (the
    command line, scripts) the hash runs in a thread of its own."""
    check_new_credentials(username, password, role)
    check_name(name, "name", code="invalid_name")
    if email is not None:
        check_name(email, "email", code="invalid_email")
    password_hash = (
        await hashing.hash(password) if hashing is not None else await hash_in_thread(password)
    )
    now = utc_now()
    try:
        row = (
            await conn.execute(
                insert(users)
                .values(
                    username=username,
                    email=email or None,
                    name=name,
                    password_hash=password_hash,
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


@dataclass(frozen=True)
class Credentials:
    user: User
    password_hash: str


async def find_credentials(conn: AsyncConnection, login: str) -> Credentials | None:
    """The account a login names, by its username or its e-mail address."""
    check_storable(login, "username")
    row = (
        await conn.execute(
            select(*_USER_COLUMNS, users.c.password_hash)
            .where(or_(users.c.username == login, users.c.email == login))
            # A username that equals another account's e-mail address: the username wins.
            .order_by((users.c.username == login).desc())
            .limit(1)
        )
    ).first()
    return None if row is None else Credentials(user_from_row(row), row.password_hash)


async def check_password(
    hashing: PasswordHashing, credentials: Credentials | None, password: str
) -> User | None:
    """The user when the password is theirs, else None. A login that names nobody is
    verified against a hash all the same, so that both answers cost the same."""
    check_storable(password, "password")
    if credentials is None:
        await hashing.verify(absent_user_hash(), password)
        return None
    if not await hashing.verify(credentials.password_hash, password):
        return None
    return credentials.user


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
