"""Who each user is, for scoping the streams: their role and their facilitator, read once and
kept, so that fanning an event out costs no query per viewer (and, once known, none at all)."""

import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from workshop_data.db.tables import users
from workshop_data.users.service import User


@dataclass(frozen=True, slots=True)
class Standing:
    role: str
    facilitator_id: int | None


class Directory:
    """Each user's `Standing`, kept for `ttl_seconds` after it was read. `forget` drops one at
    once: the stream hub calls it when it hears that an account changed (`SessionEnded` for all
    of a user's sessions, which an administrator's change publishes), in every process that
    shares the bus. The time limit only bounds how long a change made where no bus reaches
    (the command line against a running server) takes to count."""

    def __init__(self, engine: AsyncEngine, ttl_seconds: float, max_entries: int = 100_000):
        self._engine = engine
        self._ttl = ttl_seconds
        self._max_entries = max_entries
        self._known: dict[int, tuple[float, Standing | None]] = {}

    def remember(self, user: User) -> None:
        """What a request just read about its own user (at a stream's opening)."""
        self._keep(user.id, Standing(user.role, user.facilitator_id))

    def forget(self, user_id: int) -> None:
        """Forgets the user and whom they facilitated (a facilitator demoted or deleted has
        their participants unassigned in the same change)."""
        self._known.pop(user_id, None)
        for other in [u for u, (_t, s) in self._known.items() if s and s.facilitator_id == user_id]:
            del self._known[other]

    async def standing(self, user_id: int) -> Standing | None:
        """The user's standing, None if there is no such user (any more)."""
        kept = self._known.get(user_id)
        if kept is not None and time.monotonic() - kept[0] <= self._ttl:
            return kept[1]
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    select(users.c.role, users.c.facilitator_id).where(users.c.id == user_id)
                )
            ).first()
        standing = None if row is None else Standing(row.role, row.facilitator_id)
        self._keep(user_id, standing)
        return standing

    def _keep(self, user_id: int, standing: Standing | None) -> None:
        if len(self._known) >= self._max_entries and user_id not in self._known:
            self._known.clear()  # forgetting costs one query per user met again
        self._known[user_id] = (time.monotonic(), standing)
