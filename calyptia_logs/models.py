"""The pipeline-log data model: frozen attrs classes with Pythonic names.

These classes hold no wire-format knowledge; :mod:`calyptia_logs.converter`
alone maps them to and from the API's camelCase JSON. All datetimes are
timezone-aware and in UTC.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime, tzinfo
from uuid import UUID

import attrs

from calyptia_logs.errors import CalyptiaError
from calyptia_logs.records import LogLevel, LogRecord, filter_records, parse_records

__all__ = [
    "BulkResult",
    "CollectResult",
    "Created",
    "Deleted",
    "PipelineLog",
    "PipelineLogCreate",
    "PipelineLogStatus",
    "PipelineLogUpdate",
    "PipelineLogsPage",
    "Updated",
]


class PipelineLogStatus(enum.StrEnum):
    """Where a log request stands: created ``NEW``, filled by the cluster and set ``DONE``."""

    NEW = "NEW"
    DONE = "DONE"


@attrs.frozen(kw_only=True)
class PipelineLog:
    """A request for the last ``lines`` log lines of a pipeline, and once ``DONE``, the lines.

    Attributes:
        id: The pipeline log's ID.
        pipeline_id: The pipeline the logs belong to.
        logs: The log text; empty until the cluster fills it.
        lines: How many lines were requested.
        status: ``NEW`` until the cluster has filled ``logs``, then ``DONE``.
        created_at: When the request was created (UTC).
        updated_at: When it last changed (UTC).
    """

    id: UUID
    pipeline_id: UUID
    logs: str
    lines: int
    status: PipelineLogStatus
    created_at: datetime
    updated_at: datetime

    def records(
        self, min_level: LogLevel | str | None = None, *, tz: tzinfo = UTC
    ) -> list[LogRecord]:
        """Parse :attr:`logs` into Fluent Bit log records (see :mod:`calyptia_logs.records`).

        Args:
            min_level: Only records at least this severe (``"warn"``: warnings and
                errors); records without a level are left out then.
            tz: The zone Fluent Bit's timestamps are in (it prints local time without one).

        Raises:
            ValueError: ``min_level`` is not a level.
        """
        return list(filter_records(parse_records(self.logs, tz=tz), min_level=min_level))


@attrs.frozen(kw_only=True)
class Created:
    """The answer to a create: the new pipeline log's ID and creation time."""

    id: UUID
    created_at: datetime


@attrs.frozen(kw_only=True)
class Updated:
    """The answer to an update: when the pipeline log was updated."""

    updated_at: datetime


@attrs.frozen(kw_only=True)
class Deleted:
    """The answer to a delete: whether it was deleted, and when."""

    deleted: bool
    deleted_at: datetime | None = None


@attrs.frozen(kw_only=True)
class PipelineLogsPage:
    """One page of a pipeline's log requests, newest first.

    Attributes:
        items: The pipeline logs on this page.
        end_cursor: Pass as ``before=`` to get the next (older) page; ``None`` on the last page.
        count: The total number of matching pipeline logs.
        polling_interval_ms: The server's hint for how often to poll, when it sends one.
    """

    items: list[PipelineLog]
    end_cursor: str | None = None
    count: int = 0
    polling_interval_ms: int | None = None


@attrs.frozen(kw_only=True)
class PipelineLogUpdate:
    """The body of an update; ``None`` fields are left unchanged and are not sent."""

    logs: str | None = None
    lines: int | None = None
    status: PipelineLogStatus | None = None


@attrs.frozen(kw_only=True)
class PipelineLogCreate:
    """The body of a create."""

    lines: int = 100
    logs: str = ""


@attrs.frozen(kw_only=True)
class BulkResult:
    """The outcome of one item of a bulk operation: exactly one of ``log`` or ``error`` is set.

    For :meth:`~calyptia_logs.resources.PipelineLogs.delete_many`, ``log`` stays
    ``None`` and ``deleted`` holds the answer.

    Attributes:
        id: The input ID, as given (a ``str`` that is not a UUID fails with an
            :class:`~calyptia_logs.errors.InvalidIDError` in ``error``).
        log: The pipeline log, on success of a fetch.
        deleted: The delete answer, on success of a delete.
        error: Why this item failed, if it did.
    """

    id: UUID | str
    log: PipelineLog | None = None
    deleted: Deleted | None = None
    error: CalyptiaError | None = None

    @property
    def ok(self) -> bool:
        """Whether this item succeeded."""
        return self.error is None


@attrs.frozen(kw_only=True)
class CollectResult:
    """The outcome of one pipeline of :meth:`~calyptia_logs.resources.PipelineLogs.collect`.

    Exactly one of ``log`` or ``error`` is set.

    Attributes:
        pipeline_id: The pipeline, as a UUID (as given, when it is not one: then
            ``error`` is an :class:`~calyptia_logs.errors.InvalidIDError`).
        log_id: The log request created for it; ``None`` if the create failed.
        log: The filled log, on success.
        error: Why this pipeline failed, if it did (its evidence: status,
            message, detail, a short excerpt; no traceback is kept).
    """

    pipeline_id: UUID | str
    log_id: UUID | None = None
    log: PipelineLog | None = None
    error: CalyptiaError | None = None

    @property
    def ok(self) -> bool:
        """Whether this pipeline's logs were collected."""
        return self.error is None
