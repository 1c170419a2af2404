from dataclasses import dataclass
from datetime import datetime
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import (
    ColumnElement,
    Select,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from zxcvbn import zxcvbn

from workshop_data.db.tables import users
from workshop_data.errors import Conflict, InvalidInput, NotFound
from workshop_data.text_policy import check_name, check_storable
from workshop_data.timeutil import utc_now
from workshop_data.users.passwords import PasswordHashing, absent_user_hash, hash_in_thread
from workshop_data.users.schemas import ROLES, Role, UserOut

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1000
MAX_NAME_LENGTH = 200
# zxcvbn scores 0 (guessed at once) to 4; 3 means "safely unguessable" for an online attack.
MIN_PASSWORD_SCORE = 3
# zxcvbn's time grows with the length; what follows the first 100 characters only adds strength.
_SCORED_PASSWORD_CHARACTERS = 100


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


@dataclass(frozen=True)
class Account(User):
    """A user with the times of their account, as administrators and exports see it."""

    created_at: datetime
    updated_at: datetime


USER_COLUMNS = (
    users.c.id,
    users.c.username,
    users.c.name,
    users.c.email,
    users.c.role,
    users.c.facilitator_id,
)
ACCOUNT_COLUMNS = (*USER_COLUMNS, users.c.created_at, users.c.updated_at)


def user_from_row(row: RowMapping | Any) -> User:
    return User(
        id=row.id,
        username=row.username,
        name=row.name,
        email=row.email,
        role=row.role,
        facilitator_id=row.facilitator_id,
    )


def account_from_row(row: RowMapping | Any) -> Account:
    return Account(
        id=row.id,
        username=row.username,
        name=row.name,
        email=row.email,
        role=row.role,
        facilitator_id=row.facilitator_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def account_search(q: str | None) -> ColumnElement[bool]:
    """Accounts whose username, name or email contains `q` (any letter case); all without."""
    if not q:
        return true()
    check_storable(q, "q", code="invalid_input")
    needle = q.lower()
    return or_(
        *(
            func.lower(column).contains(needle, autoescape=True)
            for column in (users.c.username, users.c.name, users.c.email)
        )
    )


async def account_page(
    conn: AsyncConnection, where: ColumnElement[bool], page: int, page_size: int
) -> tuple[list[Account], int]:
    """One page of the accounts matching `where`, in id order, and how many match in all."""
    total = (await conn.execute(select(func.count()).select_from(users).where(where))).scalar()
    query: Select[Any] = (
        select(*ACCOUNT_COLUMNS)
        .where(where)
        .order_by(users.c.id)
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    return [account_from_row(row) for row in await conn.execute(query)], int(total or 0)


def check_username(username: str) -> None:
    if not username or len(username) > 100 or username != username.strip():
        raise InvalidInput(
            "username must be 1 to 100 characters without surrounding spaces",
            code="invalid_username",
        )
    if "@" in username:
        raise InvalidInput("username must not contain '@'", code="invalid_username")
    check_name(username, "username", code="invalid_username")


def check_password_strength(password: str, *, known_words: tuple[str | None, ...] = ()) -> None:
    """The rule for every new password (creating an account, setting a password): at least
    MIN_PASSWORD_LENGTH characters and a zxcvbn score of MIN_PASSWORD_SCORE, counting the
    account's own username, name and email (`known_words`) as guessable."""
    check_storable(password, "password", code="invalid_password")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"password must be at least {MIN_PASSWORD_LENGTH} characters",
            code="invalid_password",
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            f"password must be at most {MAX_PASSWORD_LENGTH} characters",
            code="invalid_password",
        )
    strength = zxcvbn(
        password[:_SCORED_PASSWORD_CHARACTERS],
        user_inputs=[word for word in known_words if word],
    )
    if strength["score"] < MIN_PASSWORD_SCORE:
        feedback = strength["feedback"]
        advice = " ".join(part for part in (feedback["warning"], *feedback["suggestions"]) if part)
        raise InvalidInput(
            "password is too easy to guess"
            + (f": {advice}" if advice else "; use a longer one, e.g. a few unrelated words"),
            code="invalid_password",
        )


def check_display_name(name: str) -> str:
    check_name(name, "name", code="invalid_name")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidInput(
            f"name must be at most {MAX_NAME_LENGTH} characters", code="invalid_name"
        )
    return name


def check_email(email: str | None) -> str | None:
    """The address in its normalized form (None for none). Syntax only: no DNS look-up."""
    if email is None or email == "":
        return None
    check_name(email, "email", code="invalid_email")
    try:
        return validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise InvalidInput(f"email is not valid: {error}", code="invalid_email") from None


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
    check_username(username)
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}", code="invalid_role")
    check_display_name(name)
    email = check_email(email)
    check_password_strength(password, known_words=(username, name, email))
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
                .returning(*USER_COLUMNS)
            )
        ).one()
        await conn.commit()
    except IntegrityError:
        await conn.rollback()
        raise Conflict(
            f"a user with username '{username}' (in any letter case) or that email already exists",
            code="user_exists",
        ) from None
    return user_from_row(row)


def _another_admin_remains(user_id: int) -> ColumnElement[bool]:
    other = users.alias("other_admin")
    return or_(
        users.c.role != "admin",
        exists().where(other.c.role == "admin", other.c.id != user_id),
    )


async def lock_admins(conn: AsyncConnection) -> None:
    """In the caller's transaction, before a change that must leave an administrator:
    PostgreSQL holds every admin row until commit. SQLite runs one writer at a time anyway,
    and there the guarded statement alone is atomic."""
    if conn.dialect.name == "postgresql":
        await conn.execute(
            select(users.c.id).where(users.c.role == "admin").order_by(users.c.id).with_for_update()
        )


async def update_account_row(
    conn: AsyncConnection,
    user_id: int,
    values: dict[str, Any],
    now: datetime,
    *,
    keep_an_admin: bool,
) -> Account | None:
    """Change the user's row (checked `values`); None if there is no such user or, with
    `keep_an_admin`, the change would leave no other administrator. Does not commit."""
    statement = update(users).where(users.c.id == user_id)
    if keep_an_admin:
        statement = statement.where(_another_admin_remains(user_id))
    row = (
        await conn.execute(statement.values(updated_at=now, **values).returning(*ACCOUNT_COLUMNS))
    ).first()
    return None if row is None else account_from_row(row)


async def unassign_participants(conn: AsyncConnection, facilitator_id: int, now: datetime) -> None:
    """The facilitator's participants have none any more. Does not commit."""
    await conn.execute(
        update(users)
        .where(users.c.facilitator_id == facilitator_id)
        .values(facilitator_id=None, updated_at=now)
    )


async def delete_account_row(conn: AsyncConnection, user_id: int) -> Account | None:
    """Delete the user unless they are the last administrator (None then, or if there is no
    such user); the foreign keys cascade. Does not commit."""
    row = (
        await conn.execute(
            delete(users)
            .where(users.c.id == user_id, _another_admin_remains(user_id))
            .returning(*ACCOUNT_COLUMNS)
        )
    ).first()
    return None if row is None else account_from_row(row)


async def new_password_hash(
    user: User, password: str, hashing: PasswordHashing | None = None
) -> str:
    """The hash of the user's new password, which must pass the rule for a new account's."""
    check_password_strength(password, known_words=(user.username, user.name, user.email))
    return await hashing.hash(password) if hashing is not None else await hash_in_thread(password)


async def replace_password_hash(conn: AsyncConnection, user: User, password_hash: str) -> None:
    """Store the user's new password hash (NotFound if the user is gone); does not commit."""
    changed = (
        await conn.execute(
            update(users)
            .where(users.c.id == user.id)
            .values(password_hash=password_hash, updated_at=utc_now())
            .returning(users.c.id)
        )
    ).first()
    if changed is None:
        raise NotFound(f"no user '{user.username}'")


@dataclass(frozen=True)
class Credentials:
    user: User
    password_hash: str


async def find_credentials(conn: AsyncConnection, login: str) -> Credentials | None:
    """The account a login names, by its username in any letter case (usernames are unique
    that way) or its exact e-mail address."""
    check_storable(login, "username")
    names_username = func.lower(users.c.username) == func.lower(login)
    row = (
        await conn.execute(
            select(*USER_COLUMNS, users.c.password_hash)
            .where(or_(names_username, users.c.email == login))
            # A username that equals another account's e-mail address: the username wins.
            .order_by(names_username.desc())
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
    row = (await conn.execute(select(*USER_COLUMNS).where(users.c.id == user_id))).first()
    return None if row is None else user_from_row(row)


async def get_user_by_username(conn: AsyncConnection, username: str) -> User | None:
    """The account a username names, in any letter case (usernames are unique that way)."""
    row = (
        await conn.execute(
            select(*USER_COLUMNS).where(func.lower(users.c.username) == func.lower(username))
        )
    ).first()
    return None if row is None else user_from_row(row)


async def list_users(conn: AsyncConnection) -> list[User]:
    rows = await conn.execute(select(*USER_COLUMNS).order_by(users.c.id))
    return [user_from_row(row) for row in rows]


async def count_users(conn: AsyncConnection) -> int:
    return int((await conn.execute(select(func.count()).select_from(users))).scalar_one())
