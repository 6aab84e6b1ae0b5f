# pyright: strict
"""A user's code, type-checked from the outside by mypy --strict and pyright (CI).

Not a test: it is checked, and run once against the fake (tests/test_typing_sample.py).
Every public call appears with the types a user would write down.
"""

from __future__ import annotations

import asyncio
from contextlib import aclosing
from datetime import datetime
from uuid import UUID

from calyptia_logs import (
    BulkResult,
    CalyptiaClient,
    CalyptiaError,
    CollectResult,
    Created,
    Deleted,
    LogLevel,
    LogRecord,
    NotFoundError,
    PipelineLog,
    PipelineLogsPage,
    PipelineLogStatus,
    RateLimitState,
    ResponseInfo,
    RetryBudget,
    RetryDetails,
    RetryPolicy,
    Updated,
    WaitTimeoutError,
)
from calyptia_logs.retry import no_sleep


def on_retry(details: RetryDetails) -> None:
    reason: str = details.reason
    throttled: bool = details.throttled
    print(reason, throttled)


def on_response(info: ResponseInfo) -> None:
    status: int = info.status
    rate: float | None = info.rate_limit
    print(status, rate)


async def main(base_url: str, token: str, pipeline_id: UUID) -> int:
    async with CalyptiaClient(
        token=token,
        base_url=base_url,
        retry=RetryPolicy(max_attempts=4, sleep=no_sleep),
        retry_budget=RetryBudget(100),
        on_retry=on_retry,
        on_response=on_response,
        max_rate=500.0,
    ) as client:
        created: Created = await client.pipeline_logs.create(pipeline_id, lines=10)
        log: PipelineLog = await client.pipeline_logs.wait_until_done(created.id, timeout=30)
        when: datetime = log.created_at
        status: PipelineLogStatus = log.status
        records: list[LogRecord] = log.records(min_level=LogLevel.WARN)
        updated: Updated = await client.pipeline_logs.update(created.id, lines=5)
        page: PipelineLogsPage = await client.pipeline_logs.list(pipeline_id, last=10)
        cursor: str | None = page.end_cursor
        async with aclosing(client.pipeline_logs.iter(pipeline_id, page_size=5)) as logs:
            async for item in logs:
                print(item.id)
        ids = [str(p.id) for p in page.items]
        async with aclosing(client.pipeline_logs.get_many(ids, concurrency=4)) as results:
            async for result in results:
                outcome: BulkResult = result
                print(outcome.ok, outcome.log, outcome.error)
        jobs = client.pipeline_logs.collect([pipeline_id], lines=5, delete_after=True)
        async with aclosing(jobs) as collected:
            async for job in collected:
                one: CollectResult = job
                found: PipelineLog | None = one.log
                request: UUID | None = one.log_id
                print(one.pipeline_id, request, one.ok, found is not None, one.error)
        try:
            await client.pipeline_logs.request_logs(pipeline_id, lines=5, timeout=30)
        except WaitTimeoutError as e:
            waited_for: str | None = e.log_id
            print("the cluster is slow:", waited_for)
        deleted: Deleted = await client.pipeline_logs.delete(created.id)
        try:
            await client.pipeline_logs.get(created.id)
        except NotFoundError as e:
            code: int = e.status
            print(code, e.detail, e.message, e.attempts)
        except CalyptiaError as e:
            maybe: int | None = e.status
            print(maybe)
        state: RateLimitState = client.rate_limit
        print(when, status, records, updated, cursor, deleted, state.throttled)
        return len(ids)


if __name__ == "__main__":
    import sys

    asyncio.run(main(sys.argv[1], sys.argv[2], UUID(sys.argv[3])))
