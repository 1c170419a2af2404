"""Login throttling with the `limits` library. Only failed attempts count; the default
in-process storage is per worker, `WORKSHOP_DATA_RATE_LIMIT_STORAGE_URL=async+redis://...`
shares the counts between workers."""

import math
import time

from limits import RateLimitItem, parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from workshop_data.errors import RateLimited


class LoginThrottle:
    def __init__(self, limit: str, storage_url: str) -> None:
        self._item: RateLimitItem = parse(limit)
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage_url))

    @staticmethod
    def _key(client: str, login: str) -> tuple[str, str]:
        return ("login", f"{client}|{login.strip().lower()}")

    async def check(self, client: str, login: str) -> None:
        stats = await self._limiter.get_window_stats(self._item, *self._key(client, login))
        if stats.remaining <= 0:
            wait = max(1, math.ceil(stats.reset_time - time.time()))
            raise RateLimited(
                f"Too many failed sign-in attempts. Try again in {wait} seconds.",
                retry_after_seconds=wait,
            )

    async def record_failure(self, client: str, login: str) -> None:
        await self._limiter.hit(self._item, *self._key(client, login))
