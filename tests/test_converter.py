"""The converter: camelCase JSON <-> models, both directions, and clear errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import orjson
import pytest

from calyptia_logs import converter
from calyptia_logs.errors import ResponseDecodeError
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
from tests.conftest import LOG_ID, PIPELINE_ID, log_json

WHEN = datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=UTC)
LOG = PipelineLog(
    id=UUID(LOG_ID),
    pipeline_id=UUID(PIPELINE_ID),
    logs="line 1\nline 2\n",
    lines=2,
    status=PipelineLogStatus.NEW,
    created_at=WHEN,
    updated_at=WHEN + timedelta(seconds=3),
)


@pytest.mark.parametrize(
    "model",
    [
        LOG,
        Created(id=UUID(LOG_ID), created_at=WHEN),
        Updated(updated_at=WHEN),
        Deleted(deleted=True, deleted_at=WHEN),
        Deleted(deleted=False, deleted_at=None),
        PipelineLogsPage(items=[LOG, LOG], end_cursor="abc", count=2, polling_interval_ms=1000),
        PipelineLogsPage(items=[], end_cursor=None, count=0, polling_interval_ms=None),
    ],
    ids=lambda m: type(m).__name__,
)
def test_every_model_round_trips_through_json(model: Any) -> None:
    assert converter.decode(converter.dumps(model), type(model)) == model


def test_unstructure_uses_the_api_names() -> None:
    data = converter.unstructure(LOG)
    assert set(data) == {"id", "pipelineID", "logs", "lines", "status", "createdAt", "updatedAt"}
    assert data["createdAt"] == "2024-05-01T10:00:00.123456Z"
    assert data["status"] == "NEW"
    page = converter.unstructure(PipelineLogsPage(items=[], end_cursor=None, count=0))
    assert set(page) == {"items", "endCursor", "count", "pollingIntervalMs"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01T10:00:00Z", datetime(2024, 5, 1, 10, tzinfo=UTC)),
        ("2024-05-01T10:00:00.5Z", datetime(2024, 5, 1, 10, 0, 0, 500000, tzinfo=UTC)),
        ("2024-05-01T10:00:00.123456789Z", datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=UTC)),
        ("2024-05-01T10:00:00+00:00", datetime(2024, 5, 1, 10, tzinfo=UTC)),
        ("2024-05-01T12:30:00.1+02:30", datetime(2024, 5, 1, 10, 0, 0, 100000, tzinfo=UTC)),
        ("2024-05-01T05:00:00-05:00", datetime(2024, 5, 1, 10, tzinfo=UTC)),
    ],
)
def test_timestamps_parse_to_utc(text: str, expected: datetime) -> None:
    parsed = converter.parse_datetime(text)
    assert parsed == expected
    assert parsed.tzinfo is UTC


def test_format_datetime_writes_utc_with_z() -> None:
    plus_two = timezone(timedelta(hours=2))
    assert (
        converter.format_datetime(datetime(2024, 1, 1, 2, tzinfo=plus_two))
        == "2024-01-01T00:00:00Z"
    )


def test_unknown_extra_fields_are_ignored() -> None:
    log = converter.structure(log_json(newField={"x": 1}, another=3), PipelineLog)
    assert log.id == UUID(LOG_ID)


def test_update_body_omits_fields_not_given() -> None:
    assert converter.unstructure(PipelineLogUpdate()) == {}
    assert converter.unstructure(PipelineLogUpdate(lines=5)) == {"lines": 5}
    body = PipelineLogUpdate(logs="", status=PipelineLogStatus.DONE)
    assert orjson.loads(converter.dumps(body)) == {"logs": "", "status": "DONE"}


def test_create_body_has_logs_and_lines() -> None:
    assert converter.unstructure(PipelineLogCreate(lines=7)) == {"lines": 7, "logs": ""}


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (
            {k: v for k, v in log_json().items() if k != "status"},
            r"required field missing @ \$\.status",
        ),
        (
            {k: v for k, v in log_json().items() if k != "pipelineID"},
            r"required field missing @ \$\.pipelineID",
        ),
        (log_json(status="PENDING"), r"unknown status 'PENDING' .*@ \$\.status"),
        (log_json(lines="100"), r"expected an integer, got str .*@ \$\.lines"),
        (log_json(lines=True), r"expected an integer, got bool .*@ \$\.lines"),
        (log_json(lines=1.5), r"expected an integer, got float .*@ \$\.lines"),
        (log_json(logs=None), r"expected a string, got NoneType .*@ \$\.logs"),
        (log_json(id="xyz"), r"@ \$\.id"),
        (log_json(createdAt="yesterday"), r"@ \$\.createdAt"),
        (log_json(createdAt="2024-05-01T10:00:00"), r"no UTC offset @ \$\.createdAt"),
        (log_json(updatedAt=1714557600), r"expected an RFC 3339 timestamp string, got int"),
        ([log_json()], r"expected a JSON object, got an array"),
        (None, r"expected a JSON object, got null"),
    ],
)
def test_mismatches_name_the_field(doc: Any, message: str) -> None:
    with pytest.raises(ResponseDecodeError, match=message) as caught:
        converter.structure(doc, PipelineLog)
    assert caught.value.syntax_error is False


def test_nested_mismatch_names_the_item() -> None:
    doc = {"items": [log_json(), log_json(lines="x")], "endCursor": None, "count": 2}
    with pytest.raises(ResponseDecodeError, match=r"@ \$\.items\[1\]\.lines"):
        converter.structure(doc, PipelineLogsPage)


@pytest.mark.parametrize("body", [b"", b"<html>502</html>", b'{"id": "abc', b"null x"])
def test_bodies_that_are_not_json_are_syntax_errors(body: bytes) -> None:
    with pytest.raises(ResponseDecodeError) as caught:
        converter.decode(body, PipelineLog, status=200, content_type="text/html")
    assert caught.value.syntax_error is True
    assert caught.value.body == body.decode()
    assert caught.value.content_type == "text/html"


def test_decode_error_excerpt_is_short() -> None:
    body = b"x" * 10_000
    with pytest.raises(ResponseDecodeError) as caught:
        converter.decode(body, PipelineLog)
    assert len(caught.value.body) < 600
    assert caught.value.body.endswith("... (10000 bytes in all)")


def test_wire_name_is_go_style_camel_case() -> None:
    assert converter.wire_name("pipeline_id") == "pipelineID"
    assert converter.wire_name("polling_interval_ms") == "pollingIntervalMs"
    assert converter.wire_name("id") == "id"


@pytest.mark.parametrize("depth", [255, 1000, 1024])
@pytest.mark.parametrize("cls", [PipelineLog, PipelineLogsPage])
def test_deeply_nested_json_is_a_decode_error(depth: int, cls: type) -> None:
    # orjson reads 1,024 levels but writes only 254: the error's excerpt must not re-serialise.
    for body in (
        b"[" * depth + b"]" * depth,
        b'{"items": ' + b"[" * (depth - 1) + b"]" * (depth - 1) + b"}",
    ):
        with pytest.raises(ResponseDecodeError) as caught:
            converter.decode(body, cls)
        assert caught.value.body.startswith(body[:20].decode())
