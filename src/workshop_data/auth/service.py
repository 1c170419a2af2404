import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import DateTime, String, bindparam, case, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from workshop_data.auth.throttle import LoginThrottle
from workshop_data.db.sqlite_writer import WriterConnection
from workshop_data.db.tables import sessions, users
from workshop_data.errors import InvalidCredentials, NotAuthenticated
from workshop_data.events.schemas import SessionEnded
from workshop_data.text_policy import check_storable
from workshop_data.timeutil import utc_now
from workshop_data.users import service as users_service
from workshop_data.users.passwords import PasswordHashing
from workshop_data.users.service import USER_COLUMNS, User, user_from_row

# last_seen_at and a sliding expiry are written at most this often, not on every request.
SESSION_TOUCH_INTERVAL = timedelta(minutes=5)
NOT_SIGNED_IN = "You are not signed in, or your session has expired."


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class SessionSecrets:
    """What a sign-in hands the browser: the session token (the HttpOnly cookie) and the
    device secret (the cookie the page can delete). A request needs both; only their SHA-256
    hashes are stored."""

    token: str
    device: str = field(repr=False)

    def __repr__(self) -> str:
        return "SessionSecrets(...)"


async def start_session(conn: AsyncConnection, user_id: int, ttl_seconds: int) -> SessionSecrets:
    """A fresh random token and device secret; only their hashes are stored. Every sign-in
    also deletes the sessions that have expired (anyone's), so that they do not pile up."""
    secrets_ = SessionSecrets(secrets.token_urlsafe(32), secrets.token_urlsafe(32))
    now = utc_now()
    await conn.execute(delete(sessions).where(sessions.c.expires_at <= now))
    await conn.execute(
        insert(sessions).values(
            token_hash=token_hash(secrets_.token),
            device_hash=token_hash(secrets_.device),
            user_id=user_id,
            created_at=now,
            expires_at=now + timedelta(seconds=ttl_seconds),
            last_seen_at=now,
        )
    )
    await conn.commit()
    return secrets_


async def end_session(conn: AsyncConnection, token: str) -> SessionEnded | None:
    """Ends the token's session: its SessionEnded, None if there was none. The token alone
    suffices (ending a session gives nothing away): the page deletes its device secret before
    it asks for this."""
    hashed = token_hash(token)
    ended = (
        await conn.execute(
            delete(sessions).where(sessions.c.token_hash == hashed).returning(sessions.c.user_id)
        )
    ).first()
    await conn.commit()
    return None if ended is None else SessionEnded(ended.user_id, hashed)


async def session_is_live(conn: AsyncConnection, hashed: str) -> bool:
    """Whether the session of this token hash still exists and has not expired (a read only:
    no touch), for a long-lived request that checks now and then that its session goes on."""
    row = (
        await conn.execute(select(sessions.c.expires_at).where(sessions.c.token_hash == hashed))
    ).first()
    return row is not None and row.expires_at > utc_now()


async def user_for_session(
    conn: AsyncConnection, token: str, device: str, ttl_seconds: int
) -> User | None:
    """The user a live session belongs to, when both its token and its device secret match;
    expired sessions are deleted."""
    hashed = token_hash(token)
    row = (
        await conn.execute(
            select(*USER_COLUMNS, sessions.c.expires_at, sessions.c.last_seen_at)
            .join(users, users.c.id == sessions.c.user_id)
            .where(
                sessions.c.token_hash == hashed,
                sessions.c.device_hash == token_hash(device),
            )
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


class SessionTouches:
    """When this worker next has to touch each session it has seen: the session's
    last_seen_at (as last read from the database) plus SESSION_TOUCH_INTERVAL. Lets the step
    write routes, which check the session inside their save statement, touch it with a
    separate statement only when the rule of `user_for_session` says it is due."""

    def __init__(self, max_sessions: int = 100_000) -> None:
        self._due: dict[str, datetime] = {}
        self._max_sessions = max_sessions

    def is_due(self, hashed: str, now: datetime) -> bool:
        due = self._due.get(hashed)
        return due is None or now >= due

    def remember(self, hashed: str, last_seen_at: datetime) -> None:
        if len(self._due) >= self._max_sessions and hashed not in self._due:
            self._due.clear()  # forgetting only costs one touch statement per session
        self._due[hashed] = last_seen_at + SESSION_TOUCH_INTERVAL

    def forget(self, hashed: str) -> None:
        self._due.pop(hashed, None)


@dataclass(frozen=True)
class SessionCredential:
    """A request's session token, for routes whose statements check the session themselves
    (see step_data/service.py) instead of looking the user up first."""

    token: str = field(repr=False)
    device: str = field(repr=False)
    ttl_seconds: int
    touches: SessionTouches = field(repr=False)

    @property
    def hashed(self) -> str:
        return token_hash(self.token)

    @property
    def device_hashed(self) -> str:
        return token_hash(self.device)


@lru_cache
def _touch_statement() -> Any:
    # Exactly the rule of user_for_session: a live session whose last_seen_at is at least
    # SESSION_TOUCH_INTERVAL old gets last_seen_at = now and a new expiry; otherwise nothing
    # changes. It answers with last_seen_at either way, which the worker then remembers.
    due = sessions.c.last_seen_at <= bindparam("p_due_before", type_=DateTime())
    return (
        update(sessions)
        .where(
            sessions.c.token_hash == bindparam("p_token_hash", type_=String()),
            sessions.c.expires_at > bindparam("p_now", type_=DateTime()),
        )
        .values(
            last_seen_at=case(
                (due, bindparam("p_now", type_=DateTime())), else_=sessions.c.last_seen_at
            ),
            expires_at=case(
                (due, bindparam("p_expires_at", type_=DateTime())), else_=sessions.c.expires_at
            ),
        )
        .returning(sessions.c.last_seen_at)
    )


async def touch_session_when_due(
    conn: AsyncConnection, credential: SessionCredential, hashed: str, now: datetime
) -> None:
    """After a write that checked the session itself: touch it if the rolling-expiry rule
    says so. Runs a statement only when this worker's memory of the session says it may be
    due (at most once per SESSION_TOUCH_INTERVAL per session and worker); does not commit."""
    if credential.touches.is_due(hashed, now):
        result = await conn.execute(_touch_statement(), _touch_values(credential, hashed, now))
        _remember_touch(credential.touches, hashed, result.scalar())


def touch_session_when_due_in(
    conn: WriterConnection, credential: SessionCredential, hashed: str, now: datetime
) -> None:
    """`touch_session_when_due` in a job of the SQLite writer (db/sqlite_writer.py), in the
    transaction of the save."""
    if credential.touches.is_due(hashed, now):
        row = conn.first(_touch_statement(), _touch_values(credential, hashed, now))
        _remember_touch(credential.touches, hashed, None if row is None else row["last_seen_at"])


def _touch_values(credential: SessionCredential, hashed: str, now: datetime) -> dict[str, Any]:
    return {
        "p_token_hash": hashed,
        "p_now": now,
        "p_due_before": now - SESSION_TOUCH_INTERVAL,
        "p_expires_at": now + timedelta(seconds=credential.ttl_seconds),
    }


def _remember_touch(touches: SessionTouches, hashed: str, last_seen_at: datetime | None) -> None:
    if last_seen_at is None:
        touches.forget(hashed)
    else:
        touches.remember(hashed, last_seen_at)


async def signed_in_user_id(conn: AsyncConnection, credential: SessionCredential) -> int:
    """The credential's user by the rules of `user_for_session` (an expired session is
    deleted), or NotAuthenticated: how a write by session that wrote nothing, or was refused
    before its statement ran, answers 401 first."""
    user = await user_for_session(conn, credential.token, credential.device, credential.ttl_seconds)
    if user is None:
        credential.touches.forget(credential.hashed)
        raise NotAuthenticated(NOT_SIGNED_IN)
    return user.id


async def sign_in(
    engine: AsyncEngine,
    *,
    throttle: LoginThrottle,
    hashing: PasswordHashing,
    client: str,
    login: str,
    password: str,
) -> User:
    """The user whose username (or e-mail address, either without surrounding whitespace)
    and password match.

    The attempt counts against the client's address and the account before the password is
    verified (auth/throttle.py), and a success gives its count back; InvalidCredentials when
    the password does not match, RateLimited past any limit. Takes the engine, not a
    connection: no pooled connection is held while a sign-in waits for the password hashing
    threads, so a flood of sign-ins cannot take the pool from saves."""
    check_storable(login, "username")
    check_storable(password, "password")
    login = login.strip()
    attempt = await throttle.count_address_attempt(client)
    async with engine.connect() as conn:
        credentials = await users_service.find_credentials(conn, login) if login else None
    await throttle.count_account_attempt(
        attempt, client, None if credentials is None else credentials.user.id, login
    )
    user = await users_service.check_password(hashing, credentials, password)
    if user is None:
        raise InvalidCredentials("The username or password is not correct.")
    await throttle.give_back(attempt)
    return user
