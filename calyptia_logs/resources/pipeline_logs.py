"""The pipeline-logs resource: ``client.pipeline_logs``.

Each method says *what* to ask for and *what type* comes back; the transport
decides *how* (auth, retries, timeouts, errors, pagination).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Final
from uuid import UUID

from calyptia_logs.errors import InvalidIDError, excerpt
from calyptia_logs.models import (
    Created,
    Deleted,
    PipelineLog,
    PipelineLogCreate,
    PipelineLogsPage,
    PipelineLogStatus,
    PipelineLogUpdate,
    Updated,
)

if TYPE_CHECKING:
    from calyptia_logs.transport import Transport

__all__ = ["PipelineLogs", "as_uuid"]

#: The lines a log request asks for when not told (the API's default).
DEFAULT_LINES: Final = 100


def as_uuid(value: str | UUID, what: str = "pipeline log ID") -> UUID:
    """Check that ``value`` is a UUID, before it goes anywhere near a URL.

    Raises:
        InvalidIDError: (a ``ValueError``) ``value`` is not a UUID.
    """
    if isinstance(value, UUID):
        return value
    if isinstance(value, str):
        try:
            return UUID(value)
        except ValueError:
            pass
    msg = f"invalid {what}: {excerpt(repr(value), 60)} is not a UUID"
    raise InvalidIDError(msg)


def _status(value: PipelineLogStatus | str) -> PipelineLogStatus:
    try:
        return PipelineLogStatus(value)
    except ValueError:
        known = ", ".join(s.value for s in PipelineLogStatus)
        msg = f"invalid status {value!r}: expected one of {known}"
        raise ValueError(msg) from None


def _positive(value: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        msg = f"{what} must be a positive integer, got {value!r}"
        raise ValueError(msg)
    return value


class PipelineLogs:
    """The pipeline-log endpoints. Reach it as ``client.pipeline_logs``.

    Example:
        >>> async def show(client, log_id):  # doctest: +SKIP
        ...     log = await client.pipeline_logs.get(log_id)
        ...     print(log.status, log.logs)
    """

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    async def get(self, log_id: str | UUID) -> PipelineLog:
        """Get one pipeline log.

        Args:
            log_id: The pipeline log's ID.

        Returns:
            The pipeline log.

        Raises:
            InvalidIDError: ``log_id`` is not a UUID (no request is sent).
            NotFoundError: There is no such pipeline log.
            CalyptiaError: Any other failure, after retries.
        """
        return await self._transport.request(
            "GET", f"/v1/pipeline_logs/{as_uuid(log_id)}", PipelineLog
        )

    async def update(
        self,
        log_id: str | UUID,
        *,
        logs: str | None = None,
        lines: int | None = None,
        status: PipelineLogStatus | str | None = None,
    ) -> Updated:
        """Change a pipeline log; only the fields given are sent, the rest stay as they are.

        Args:
            log_id: The pipeline log's ID.
            logs: New log text.
            lines: New number of lines.
            status: New status (``DONE`` once the logs are filled).

        Returns:
            When it was updated.

        Raises:
            InvalidIDError: ``log_id`` is not a UUID.
            ValueError: ``lines`` or ``status`` is invalid (no request is sent).
            CalyptiaError: Any failure of the call, after retries.
        """
        body = PipelineLogUpdate(
            logs=logs,
            lines=None if lines is None else _positive(lines, "lines"),
            status=None if status is None else _status(status),
        )
        return await self._transport.request(
            "PATCH", f"/v1/pipeline_logs/{as_uuid(log_id)}", Updated, json=body
        )

    async def delete(self, log_id: str | UUID) -> Deleted:
        """Delete a pipeline log.

        Returns:
            Whether it was deleted, and when.

        Raises:
            InvalidIDError: ``log_id`` is not a UUID.
            NotFoundError: There is no such pipeline log.
            CalyptiaError: Any other failure, after retries.
        """
        return await self._transport.request(
            "DELETE", f"/v1/pipeline_logs/{as_uuid(log_id)}", Deleted
        )

    async def create(
        self, pipeline_id: str | UUID, *, lines: int = DEFAULT_LINES, logs: str = ""
    ) -> Created:
        """Ask the cluster for the last ``lines`` log lines of a pipeline.

        The new pipeline log starts ``NEW``; the cluster fills it and sets it
        ``DONE`` later (see :meth:`wait_until_done`). A create is retried only
        when it cannot have reached the server, so it never creates twice.

        Returns:
            The new pipeline log's ID and creation time.

        Raises:
            InvalidIDError: ``pipeline_id`` is not a UUID.
            CalyptiaError: Any failure of the call.
        """
        body = PipelineLogCreate(lines=_positive(lines, "lines"), logs=logs)
        path = f"/v1/pipelines/{as_uuid(pipeline_id, 'pipeline ID')}/logs"
        return await self._transport.request("POST", path, Created, json=body)

    async def list(
        self,
        pipeline_id: str | UUID,
        *,
        last: int | None = None,
        status: PipelineLogStatus | str | None = None,
        before: str | None = None,
    ) -> PipelineLogsPage:
        """Get one page of a pipeline's log requests, newest first.

        Args:
            pipeline_id: The pipeline's ID.
            last: At most this many items (the page size).
            status: Only log requests with this status.
            before: The ``end_cursor`` of the previous page, for the next (older) one.

        Returns:
            The page; its ``end_cursor`` is ``None`` on the last page.

        Raises:
            InvalidIDError: ``pipeline_id`` is not a UUID.
            ValueError: ``last`` or ``status`` is invalid.
            CalyptiaError: Any failure of the call, after retries.
        """
        return await self._transport.request(
            "GET",
            self._list_path(pipeline_id),
            PipelineLogsPage,
            params=self._list_params(last, status, before),
        )

    async def iter(
        self,
        pipeline_id: str | UUID,
        *,
        status: PipelineLogStatus | str | None = None,
        page_size: int | None = None,
        before: str | None = None,
    ) -> AsyncIterator[PipelineLog]:
        """Iterate over all of a pipeline's log requests, newest first, page after page.

        Pages are fetched lazily as you iterate, following ``endCursor``
        (or a ``Link: rel="next"`` header) until the last page.

        Args:
            pipeline_id: The pipeline's ID.
            status: Only log requests with this status.
            page_size: Items per request (the server's default when ``None``).
            before: Start after this cursor instead of at the newest.

        Yields:
            Each pipeline log, once.
        """
        pages = self._transport.paginate(
            self._list_path(pipeline_id),
            PipelineLogsPage,
            cursor_of=lambda page: page.end_cursor,
            params=self._list_params(page_size, status, before),
        )
        async for page in pages:
            for item in page.items:
                yield item

    @staticmethod
    def _list_path(pipeline_id: str | UUID) -> str:
        return f"/v1/pipelines/{as_uuid(pipeline_id, 'pipeline ID')}/logs"

    @staticmethod
    def _list_params(
        last: int | None, status: PipelineLogStatus | str | None, before: str | None
    ) -> dict[str, str]:
        params: dict[str, str] = {}
        if last is not None:
            params["last"] = str(_positive(last, "last"))
        if status is not None:
            params["status"] = _status(status).value
        if before is not None:
            params["before"] = before
        return params
