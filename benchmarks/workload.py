"""One measured client workload, run in its own process; prints one JSON line.

    python -m benchmarks.workload SCENARIO VARIANT BASE_URL COUNT CONCURRENCY

VARIANT is ``floor`` (bare aiohttp, one session, ``json.loads``), ``typed-floor``
(bare aiohttp, orjson, and a hand-written slotted dataclass with UUIDs, aware
datetimes and the status enum: the least a typed client must do), or a library
variant (``get``, ``get_many``, ``create``, ``update``, ``list``). CPU time is user+sys of this process over
the workload alone (imports and setup excluded); peak RSS is the process's.
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import json
import resource
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

from benchmarks.server import LARGE_ID


def ids(count: int, large: bool) -> Iterator[str]:
    for i in range(count):
        yield LARGE_ID if large else str(uuid.UUID(int=i + 1))


async def floor(base_url: str, count: int, concurrency: int, large: bool) -> int:
    import aiohttp

    semaphore = asyncio.Semaphore(concurrency)
    ok = 0
    connector = aiohttp.TCPConnector(limit=concurrency)
    # The floor sends the token too: every real call to this API must.
    headers = {"Authorization": "Bearer bench"}
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def one(log_id: str) -> None:
            nonlocal ok
            async with semaphore, session.get(f"{base_url}/v1/pipeline_logs/{log_id}") as r:
                data = json.loads(await r.read())
                ok += r.status == 200 and data["id"] is not None

        await asyncio.gather(*(one(i) for i in ids(count, large)))
    return ok


class Status(enum.StrEnum):
    NEW = "NEW"
    DONE = "DONE"


@dataclasses.dataclass(slots=True, frozen=True)
class TypedLog:
    """What a hand-written typed client would decode a log into, with the same checks."""

    id: uuid.UUID
    pipeline_id: uuid.UUID
    logs: str
    lines: int
    status: Status
    created_at: datetime
    updated_at: datetime


def _aware(text: str) -> datetime:
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        raise ValueError(text)
    return parsed if parsed.tzinfo is UTC else parsed.astimezone(UTC)


async def typed_floor(base_url: str, count: int, concurrency: int, large: bool) -> int:
    import aiohttp
    import orjson

    semaphore = asyncio.Semaphore(concurrency)
    ok = 0
    connector = aiohttp.TCPConnector(limit=concurrency)
    headers = {"Authorization": "Bearer bench", "Accept": "application/json"}
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def one(log_id: str) -> None:
            nonlocal ok
            async with semaphore, session.get(f"{base_url}/v1/pipeline_logs/{log_id}") as r:
                if r.status != 200:
                    raise RuntimeError(r.status)
                data = orjson.loads(await r.read())
                log = TypedLog(
                    id=uuid.UUID(data["id"]),
                    pipeline_id=uuid.UUID(data["pipelineID"]),
                    logs=data["logs"],
                    lines=data["lines"],
                    status=Status(data["status"]),
                    created_at=_aware(data["createdAt"]),
                    updated_at=_aware(data["updatedAt"]),
                )
                ok += log.lines >= 0

        await asyncio.gather(*(one(i) for i in ids(count, large)))
    return ok


async def library(
    variant: str, base_url: str, count: int, concurrency: int, large: bool, faults: bool
) -> int:
    from calyptia_logs import CalyptiaClient, RetryBudget, RetryPolicy
    from calyptia_logs.retry import no_sleep

    retry = RetryPolicy(max_attempts=5, sleep=no_sleep) if faults else RetryPolicy()
    async with CalyptiaClient(
        token="bench",
        base_url=base_url,
        retry=retry,
        retry_budget=RetryBudget.unlimited() if faults else None,
        connector_limit=concurrency,
    ) as client:
        if variant == "get_many":
            ok = 0
            async for result in client.pipeline_logs.get_many(
                ids(count, large), concurrency=concurrency
            ):
                ok += result.ok
            return ok
        semaphore = asyncio.Semaphore(concurrency)
        ok = 0
        logs = client.pipeline_logs
        pipeline = "00000000-0000-4000-8000-0000000000b0"
        call = {
            "get": logs.get,
            "create": lambda _id: logs.create(pipeline, lines=100),
            "update": lambda log_id: logs.update(log_id, status="DONE", lines=10),
            "list": lambda _id: logs.list(pipeline, last=20),
        }[variant]

        async def one(log_id: str) -> None:
            nonlocal ok
            async with semaphore:
                await call(log_id)
                ok += 1

        await asyncio.gather(*(one(i) for i in ids(count, large)))
        return ok


def main() -> None:
    scenario, variant, base_url, count_s, concurrency_s = sys.argv[1:6]
    count, concurrency = int(count_s), int(concurrency_s)
    large = scenario == "large-get"
    faults = scenario == "retry-path"
    if variant in ("floor", "typed-floor"):
        import aiohttp  # noqa: F401 - imported before the clock starts

        run = floor if variant == "floor" else typed_floor
        work = run(base_url, count, concurrency, large)
    else:
        from calyptia_logs import CalyptiaClient  # noqa: F401 - imported before the clock starts

        work = library(variant, base_url, count, concurrency, large, faults)
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    ok = asyncio.run(work)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(json.dumps({"cpu": cpu, "wall": wall, "rss_mb": after.ru_maxrss / 1024, "ok": ok}))


if __name__ == "__main__":
    main()
