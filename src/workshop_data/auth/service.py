import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from workshop_data.auth.throttle import LoginThrottle
from workshop_data.db.tables import sessions, users
from workshop_data.errors import InvalidCredentials
from workshop_data.text_policy import check_storable
from workshop_data.timeutil import utc_now
from workshop_data.users import service as users_service
from workshop_data.users.passwords import PasswordHashing
from workshop_data.users.service import User, user_from_row

# last_seen_at and a sliding expiry are written at most this often, not on every request.
SESSION_TOUCH_INTERVAL = timedelta(minutes=5)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def start_session(conn: AsyncConnection, user_id: int, ttl_seconds: int) -> str:
    """A fresh random token; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    now = utc_now()
    await conn.execute(
        insert(sessions).values(
            token_hash=token_hash(token),
            user_id=user_id,
            created_at=now,
            expires_at=now + timedelta(seconds=ttl_seconds),
            last_seen_at=now,
        )
    )
    await conn.commit()
    return token


async def end_session(conn: AsyncConnection, token: str) -> None:
    await conn.execute(delete(sessions).where(sessions.c.token_hash == token_hash(token)))
    await conn.commit()


async def user_for_session(conn: AsyncConnection, token: str, ttl_seconds: int) -> User | None:
    """The user a live session token belongs to; expired sessions are deleted."""
    hashed = token_hash(token)
    row = (
        await conn.execute(
            select(
                users.c.id,
                users.c.username,
                users.c.name,
                users.c.email,
                users.c.role,
                users.c.facilitator_id,
                sessions.c.expires_at,
                sessions.c.last_seen_at,
            )
            .join(users, users.c.id == sessions.c.user_id)
            .where(sessions.c.token_hash == hashed)
        )
    ).first()
    if row is None:
        return None
    now = utc_now()
    if row.expires_at <= now:
        await conn.execute(delete(sessions).where(sessions.c.token_hash == hashed))
        await conn.commit()
        return None
    if now - row.last_seen_at >= SESSION_TOUCH_INTERVAL:
        await conn.execute(
            update(sessions)
            .where(sessions.c.token_hash == hashed)
            .values(last_seen_at=now, expires_at=now + timedelta(seconds=ttl_seconds))
        )
        await conn.commit()
    return user_from_row(row)


async def purge_expired_sessions(conn: AsyncConnection) -> int:
    result = await conn.execute(delete(sessions).where(sessions.c.expires_at <= utc_now()))
    await conn.commit()
    return result.rowcount


async def sign_in(
    engine: AsyncEngine,
    *,
    throttle: LoginThrottle,
    hashing: PasswordHashing,
    client: str,
    login: str,
    password: str,
) -> User:
    """The user whose username (or e-mail address) and password match.

    The attempt counts against the client's address and the account before the password is
    verified; InvalidCredentials when it does not match, RateLimited past either limit. Takes
    the engine, not a connection: no pooled connection is held while a sign-in waits for the
    password hashing threads, so a flood of sign-ins cannot take the pool from saves."""
    check_storable(login, "username")
    check_storable(password, "password")
    await throttle.count_address_attempt(client)
    async with engine.connect() as conn:
        credentials = await users_service.find_credentials(conn, login)
    await throttle.count_account_attempt(
        None if credentials is None else credentials.user.id, login
    )
    user = await users_service.check_password(hashing, credentials, password)
    if user is None:
        raise InvalidCredentials("The username or password is not correct.")
    return user
