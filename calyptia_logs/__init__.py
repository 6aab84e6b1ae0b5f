"""calyptia-logs: an asyncio client for the Calyptia Cloud API's pipeline logs.

Example:
    >>> from calyptia_logs import CalyptiaClient, PipelineLogStatus
    >>> async def main():  # doctest: +SKIP
    ...     async with CalyptiaClient(token="...") as client:
    ...         logs = client.pipeline_logs.iter(pipeline_id, status=PipelineLogStatus.DONE)
    ...         async for log in logs:
    ...             print(log.id, log.lines)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from calyptia_logs._lazy import lazy_exports

__version__ = "0.1.0"

if TYPE_CHECKING:
    from collections.abc import Callable

    from calyptia_logs.errors import (
        APIConnectionError,
        APIStatusError,
        APITimeoutError,
        AuthenticationError,
        BadRequestError,
        CalyptiaError,
        ConflictError,
        InvalidIDError,
        NotFoundError,
        PaginationError,
        PermissionDeniedError,
        RateLimitError,
        RedirectError,
        ResponseDecodeError,
        ResponseTooLargeError,
        RetryBudgetExhaustedError,
        ServerError,
        WaitTimeoutError,
    )
    from calyptia_logs.models import (
        BulkResult,
        CollectResult,
        Created,
        Deleted,
        PipelineLog,
        PipelineLogsPage,
        PipelineLogStatus,
        Updated,
    )
    from calyptia_logs.ratelimit import RateLimitState
    from calyptia_logs.records import LogLevel, LogRecord, filter_records, parse_records
    from calyptia_logs.resources import CalyptiaClient, PipelineLogs
    from calyptia_logs.retry import RetryBudget, RetryDetails, RetryPolicy
    from calyptia_logs.transport import ResponseInfo

# Imported on first use (PEP 562), so that ``import calyptia_logs.testing.plugin``, which
# pytest does at every start once the package is installed, does not load aiohttp.
_EXPORTS = {
    "APIConnectionError": "calyptia_logs.errors",
    "APIStatusError": "calyptia_logs.errors",
    "APITimeoutError": "calyptia_logs.errors",
    "AuthenticationError": "calyptia_logs.errors",
    "BadRequestError": "calyptia_logs.errors",
    "CalyptiaError": "calyptia_logs.errors",
    "ConflictError": "calyptia_logs.errors",
    "InvalidIDError": "calyptia_logs.errors",
    "NotFoundError": "calyptia_logs.errors",
    "PaginationError": "calyptia_logs.errors",
    "PermissionDeniedError": "calyptia_logs.errors",
    "RateLimitError": "calyptia_logs.errors",
    "RedirectError": "calyptia_logs.errors",
    "ResponseDecodeError": "calyptia_logs.errors",
    "ResponseTooLargeError": "calyptia_logs.errors",
    "RetryBudgetExhaustedError": "calyptia_logs.errors",
    "ServerError": "calyptia_logs.errors",
    "WaitTimeoutError": "calyptia_logs.errors",
    "BulkResult": "calyptia_logs.models",
    "CollectResult": "calyptia_logs.models",
    "Created": "calyptia_logs.models",
    "Deleted": "calyptia_logs.models",
    "PipelineLog": "calyptia_logs.models",
    "PipelineLogsPage": "calyptia_logs.models",
    "PipelineLogStatus": "calyptia_logs.models",
    "Updated": "calyptia_logs.models",
    "RateLimitState": "calyptia_logs.ratelimit",
    "LogLevel": "calyptia_logs.records",
    "LogRecord": "calyptia_logs.records",
    "filter_records": "calyptia_logs.records",
    "parse_records": "calyptia_logs.records",
    "CalyptiaClient": "calyptia_logs.resources",
    "PipelineLogs": "calyptia_logs.resources",
    "RetryBudget": "calyptia_logs.retry",
    "RetryDetails": "calyptia_logs.retry",
    "RetryPolicy": "calyptia_logs.retry",
    "ResponseInfo": "calyptia_logs.transport",
}

__getattr__: Callable[[str], object]
__dir__: Callable[[], list[str]]
__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)


__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "BulkResult",
    "CalyptiaClient",
    "CalyptiaError",
    "CollectResult",
    "ConflictError",
    "Created",
    "Deleted",
    "InvalidIDError",
    "LogLevel",
    "LogRecord",
    "NotFoundError",
    "PaginationError",
    "PermissionDeniedError",
    "PipelineLog",
    "PipelineLogStatus",
    "PipelineLogs",
    "PipelineLogsPage",
    "RateLimitError",
    "RateLimitState",
    "RedirectError",
    "ResponseDecodeError",
    "ResponseInfo",
    "ResponseTooLargeError",
    "RetryBudget",
    "RetryBudgetExhaustedError",
    "RetryDetails",
    "RetryPolicy",
    "ServerError",
    "Updated",
    "WaitTimeoutError",
    "__version__",
    "filter_records",
    "parse_records",
]
