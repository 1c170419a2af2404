"""Sign-in throttling on the counters of the `limits` library's storage.

Every attempt takes a place in three buckets *before* its password is verified; taking a place
is one atomic increment of the storage (`incr` answers the new count), so parallel attempts
cannot all pass a check that none of them has counted yet. An attempt that a bucket refuses
gives back the places it took (it verifies nothing, so it is no guess), and a successful
sign-in gives back its own places (only failures use up a limit):

- per client address, whatever name is tried: generous, for a classroom behind one NAT
  address; taken before the account is looked up, so a flood of made-up names costs no query.
- per account *and* client address: the tight limit on guessing. A stranger's wrong passwords
  use up the bucket of the stranger's address, not the owner's.
- per account, from every address together: a ceiling far above what one address may try,
  which only a guess spread over many addresses reaches.

An account is whatever alias was typed (username in any letter case, e-mail address) for the
account it names, and a name that matches no account is the bucket of that name trimmed and
case-folded, so that its spellings are one bucket too.

Each bucket is a fixed window that starts with its first attempt and ends `period` later. The
default storage is per worker process; `WORKSHOP_DATA_RATE_LIMIT_STORAGE_URL=
async+redis://...` shares the counts between workers."""

import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.aio.storage import Storage
from limits.storage import storage_from_string

from workshop_data.errors import RateLimited


def account_key(user_id: int | None, login: str) -> str:
    """The account bucket's name: the account's id, or a name that matches no account trimmed
    and case-folded."""
    return f"user:{user_id}" if user_id is not None else f"name:{login.strip().casefold()}"


@dataclass(frozen=True)
class _Place:
    key: str
    expiry: int


@dataclass
class Attempt:
    """The places a sign-in attempt holds, given back when it succeeds."""

    places: list[_Place]


class LoginThrottle:
    def __init__(
        self,
        *,
        account_address_limit: str,
        address_limit: str,
        account_limit: str,
        storage_url: str,
    ) -> None:
        self._account_address_item: RateLimitItem = parse(account_address_limit)
        self._address_item: RateLimitItem = parse(address_limit)
        self._account_item: RateLimitItem = parse(account_limit)
        storage = storage_from_string(storage_url)
        if not isinstance(storage, Storage):
            raise ValueError("the rate limit storage must be an async one (async+...://)")
        self._storage = storage

    async def _take(self, attempt: Attempt, item: RateLimitItem, key: str, what: str) -> None:
        place = _Place(f"login/{key}", item.get_expiry())
        if await self._storage.incr(place.key, place.expiry) <= item.amount:
            attempt.places.append(place)
            return
        await self._storage.incr(place.key, place.expiry, amount=-1)
        await self.give_back(attempt)
        expires_at = await self._storage.get_expiry(place.key)
        wait = max(1, math.ceil(expires_at - time.time()))
        raise RateLimited(
            f"Too many sign-in attempts {what}. Try again in {wait} seconds.",
            retry_after_seconds=wait,
        )

    async def count_address_attempt(self, client: str) -> Attempt:
        """The attempt's place in its address's bucket, or RateLimited."""
        attempt = Attempt([])
        await self._take(attempt, self._address_item, f"address:{client}", "from this address")
        return attempt

    async def count_account_attempt(
        self, attempt: Attempt, client: str, user_id: int | None, login: str
    ) -> None:
        """The attempt's places in the account's buckets (from this address, from all), or
        RateLimited (and every place given back)."""
        account = account_key(user_id, login)
        await self._take(
            attempt,
            self._account_address_item,
            f"account-address:{account}|{client}",
            "for this account from this address",
        )
        await self._take(attempt, self._account_item, f"account:{account}", "for this account")

    async def give_back(self, attempt: Attempt) -> None:
        """Frees the attempt's places (after a success, or a refusal by a later bucket).
        A window that has ended meanwhile is left alone: its count started again at zero."""
        places, attempt.places = attempt.places, []
        for place in places:
            if await self._storage.get(place.key) > 0:
                await self._storage.incr(place.key, place.expiry, amount=-1)
