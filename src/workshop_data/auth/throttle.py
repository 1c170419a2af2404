"""Sign-in throttling with the `limits` library.

Every attempt is counted *before* its password is verified, in one atomic step of the
limiter (`hit` checks and counts together), so parallel attempts cannot all pass a check
that none of them has counted yet. Two buckets:

- per account: whatever alias was typed (username or e-mail address) counts against the one
  account it names; a name that matches no account is its own bucket. Successful sign-ins
  count too: the limiter cannot tell them apart before the password is verified, and
  emptying a bucket after a success races with the in-memory storage's expiry task.
- per client address: every attempt, whatever name it tries, so a flood of made-up names from
  one address is refused early. Its default is generous, for a classroom behind one NAT.

The default storage is per worker process; `WORKSHOP_DATA_RATE_LIMIT_STORAGE_URL=
async+redis://...` shares the counts between workers."""

import math
import time

from limits import RateLimitItem, parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from workshop_data.errors import RateLimited


def account_key(user_id: int | None, login: str) -> str:
    return f"user:{user_id}" if user_id is not None else f"name:{login.strip().lower()}"


class LoginThrottle:
    def __init__(self, account_limit: str, address_limit: str, storage_url: str) -> None:
        self._account_item: RateLimitItem = parse(account_limit)
        self._address_item: RateLimitItem = parse(address_limit)
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage_url))

    async def _hit(self, item: RateLimitItem, key: str, what: str) -> None:
        if await self._limiter.hit(item, "login", key):
            return
        stats = await self._limiter.get_window_stats(item, "login", key)
        wait = max(1, math.ceil(stats.reset_time - time.time()))
        raise RateLimited(
            f"Too many sign-in attempts {what}. Try again in {wait} seconds.",
            retry_after_seconds=wait,
        )

    async def count_address_attempt(self, client: str) -> None:
        await self._hit(self._address_item, f"address:{client}", "from this address")

    async def count_account_attempt(self, user_id: int | None, login: str) -> None:
        await self._hit(self._account_item, account_key(user_id, login), "for this account")
