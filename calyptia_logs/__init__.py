"""calyptia-logs: an asyncio client for the Calyptia Cloud API's pipeline logs.

Example:
    >>> from calyptia_logs import CalyptiaClient, PipelineLogStatus
    >>> async def main():  # doctest: +SKIP
    ...     async with CalyptiaClient(token="...") as client:
    ...         logs = client.pipeline_logs.iter(pipeline_id, status=PipelineLogStatus.DONE)
    ...         async for log in logs:
    ...             print(log.id, log.lines)
"""

__version__ = "0.1.0"

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
    PermissionDeniedError,
    RateLimitError,
    RedirectError,
    ResponseDecodeError,
    ResponseTooLargeError,
    RetryBudgetExhaustedError,
    ServerError,
)
from calyptia_logs.models import (
    BulkResult,
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

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "BulkResult",
    "CalyptiaClient",
    "CalyptiaError",
    "ConflictError",
    "Created",
    "Deleted",
    "InvalidIDError",
    "LogLevel",
    "LogRecord",
    "NotFoundError",
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
    "__version__",
    "filter_records",
    "parse_records",
]
