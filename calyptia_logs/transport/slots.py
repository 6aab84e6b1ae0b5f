"""Connection slots: where requests queue for a pooled connection, outside any timeout."""

from __future__ import annotations

import asyncio
import collections
import contextlib

__all__ = ["Slots"]


class Slots:
    """Connection slots: requests queue here, before aiohttp's timeout starts.

    A counter with a queue of waiters, rather than ``asyncio.Semaphore``, whose
    ``acquire()`` is a coroutine (and, on Python 3.11, builds a generator in
    ``locked()``) even when a slot is free: most requests find one, and take it
    without a coroutine at all. A freed slot goes to the longest waiter.
    """

    __slots__ = ("free", "waiters")

    free: int
    waiters: collections.deque[asyncio.Future[None]]

    def __init__(self, size: int) -> None:
        self.free = size
        self.waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    def try_take(self) -> bool:
        """Take a free slot if there is one and nobody is waiting for it."""
        if self.free and not self.waiters:
            self.free -= 1
            return True
        return False

    async def take(self) -> None:
        """Wait for a slot (handed over by :meth:`give`)."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.give()  # handed a slot, then cancelled before using it: pass it on
            else:
                # A cancelled waiter may already be gone: give() drops the done waiters
                # it passes over, and may have run between the cancel and this line.
                with contextlib.suppress(ValueError):
                    self.waiters.remove(waiter)
            raise

    def give(self) -> None:
        """Free a slot: hand it to the longest waiter still waiting, else count it free."""
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self.free += 1
