"""Password hashing (argon2id) in a bounded executor.

Each argon2 hash holds 64 MiB while it runs and keeps a core busy, so hashing runs on its own
few threads (`WORKSHOP_DATA_PASSWORD_HASH_CONCURRENCY`), never in the shared thread pool: a
flood of sign-ins waits its turn instead of growing memory without bound or taking the CPU
from saves. Beyond `PASSWORD_HASH_MAX_WAITING` waiting requests, or after waiting
`PASSWORD_HASH_MAX_WAIT_SECONDS`, a request is refused with 503 `busy` and Retry-After."""

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import TypeVar

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from workshop_data.errors import HashingBusy

T = TypeVar("T")
HASHER = PasswordHasher()


@cache
def absent_user_hash() -> str:
    """Verified against when a login names nobody, so that both cases cost the same."""
    return HASHER.hash("no user has this password")


class PasswordHashing:
    def __init__(
        self,
        *,
        concurrency: int,
        max_waiting: int,
        max_wait_seconds: float,
        hasher: PasswordHasher | None = None,
    ) -> None:
        self.hasher = hasher or HASHER
        self.concurrency = concurrency
        self.max_waiting = max_waiting
        self.max_wait_seconds = max_wait_seconds
        self._executor = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="argon2")
        self._slots: asyncio.Semaphore | None = None
        self._waiting = 0

    def _slots_of_this_loop(self) -> asyncio.Semaphore:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.concurrency)
        return self._slots

    async def _run(self, work: Callable[[], T]) -> T:
        slots = self._slots_of_this_loop()
        if self._waiting >= self.max_waiting:
            raise HashingBusy("Too many sign-ins at once; try again in a moment.")
        self._waiting += 1
        try:
            async with asyncio.timeout(self.max_wait_seconds):
                await slots.acquire()
        except TimeoutError:
            raise HashingBusy("Too many sign-ins at once; try again in a moment.") from None
        finally:
            self._waiting -= 1
        running = asyncio.get_running_loop().run_in_executor(self._executor, work)
        # The slot is free when the thread is, even if this request is cancelled meanwhile.
        running.add_done_callback(lambda _: slots.release())
        return await asyncio.shield(running)

    async def hash(self, password: str) -> str:
        return await self._run(lambda: self.hasher.hash(password))

    async def verify(self, password_hash: str, password: str) -> bool:
        return await self._run(lambda: verify_now(self.hasher, password_hash, password))

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def verify_now(hasher: PasswordHasher, password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def hash_in_thread(password: str) -> str:
    """For the command line and scripts, which have no request flood to bound."""
    return await anyio.to_thread.run_sync(HASHER.hash, password)
