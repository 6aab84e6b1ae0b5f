"""Bounded concurrent mapping for bulk operations: lazy input, bounded memory, clean cancel.

:func:`bounded_map` runs ``work(item)`` for every item of a (sync or async)
iterable with at most ``concurrency`` calls in flight, pulling the next item
only when a slot frees up, so memory follows ``concurrency`` and not the
number of items. Results come out as they complete, or in input order.
Closing or cancelling the consumer cancels the calls in flight and waits for
them, so no task is left pending.
"""

from __future__ import annotations

import asyncio
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    Awaitable,
    Callable,
    Iterable,
)
from typing import TypeVar

__all__ = ["bounded_map", "items_of", "lightened"]

T = TypeVar("T")
R = TypeVar("R")
E = TypeVar("E", bound=BaseException)


async def items_of(source: Iterable[T] | AsyncIterable[T]) -> AsyncGenerator[T, None]:
    """The items of a sync or async iterable, as an async generator."""
    if isinstance(source, AsyncIterable):
        async for item in source:
            yield item
    else:
        for item in source:
            yield item


def lightened(error: E) -> E:
    """``error`` without the tracebacks of it and its causes: a failed item keeps its evidence.

    A traceback holds every frame of the failed call and their locals (the
    response, the session's objects): kept in each of 100,000 failed results,
    that was about 4 KB apiece. Status, message, detail, excerpt and headers stay.
    """
    seen: BaseException | None = error
    for _ in range(16):  # chains are short; a cycle must not loop
        if seen is None:
            break
        seen.__traceback__ = None
        seen = seen.__cause__ or seen.__context__
    return error


async def bounded_map(
    source: Iterable[T] | AsyncIterable[T],
    work: Callable[[T], Awaitable[R]],
    *,
    concurrency: int,
    ordered: bool = False,
    limit: Callable[[int], int] | None = None,
) -> AsyncGenerator[R, None]:
    """Yield ``await work(item)`` for each item, at most ``concurrency`` at a time.

    ``work`` should report failures in its result rather than raise: an
    exception from ``work`` (or from ``source``) stops the whole map, after
    the calls in flight are cancelled.

    Args:
        source: The items; consumed lazily.
        work: The coroutine function to run per item.
        concurrency: The most calls in flight at once.
        ordered: Yield in input order (a slow item then holds back later ones,
            and at most ``concurrency`` finished results wait for it).
        limit: Maps ``concurrency`` to the number of calls to keep in flight
            now (asked before each new call): a rate limiter lowers it while
            the server throttles, and raises it back afterwards.

    Yields:
        One result per item.
    """
    if concurrency < 1:
        msg = f"concurrency must be at least 1, got {concurrency}"
        raise ValueError(msg)
    items = items_of(source)
    running: dict[asyncio.Task[R], int] = {}
    finished: dict[int, R] = {}
    next_index = next_out = 0
    exhausted = False
    try:
        while True:
            # In ordered mode the window of started-but-not-yielded items is the bound.
            allowed = concurrency if limit is None else limit(concurrency)
            while not exhausted and (next_index - next_out if ordered else len(running)) < allowed:
                try:
                    item = await anext(items)
                except StopAsyncIteration:
                    exhausted = True
                    break
                running[asyncio.ensure_future(work(item))] = next_index
                next_index += 1
            if not running:
                return
            done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                index = running.pop(task)
                if not ordered:
                    yield task.result()
                else:
                    finished[index] = task.result()
            while next_out in finished:
                yield finished.pop(next_out)
                next_out += 1
    finally:
        for task in running:
            task.cancel()
        if running:
            await asyncio.gather(*running, return_exceptions=True)
        await items.aclose()
