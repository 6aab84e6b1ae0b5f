"""Property-based tests: round trips for any valid model, and no stray exception for any JSON."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from calyptia_logs import converter
from calyptia_logs.errors import ResponseDecodeError
from calyptia_logs.models import (
    Created,
    Deleted,
    PipelineLog,
    PipelineLogsPage,
    PipelineLogStatus,
    Updated,
)

utc_datetimes = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(9998, 12, 31), timezones=st.just(UTC)
)
any_offset = st.builds(
    lambda dt, minutes: dt.astimezone(timezone(timedelta(minutes=minutes))),
    utc_datetimes,
    st.integers(min_value=-12 * 60, max_value=14 * 60),
)
logs = st.builds(
    PipelineLog,
    id=st.uuids(),
    pipeline_id=st.uuids(),
    logs=st.text(),
    lines=st.integers(min_value=0, max_value=2**53),
    status=st.sampled_from(PipelineLogStatus),
    created_at=utc_datetimes,
    updated_at=utc_datetimes,
)
models = st.one_of(
    logs,
    st.builds(Created, id=st.uuids(), created_at=utc_datetimes),
    st.builds(Updated, updated_at=utc_datetimes),
    st.builds(Deleted, deleted=st.booleans(), deleted_at=st.none() | utc_datetimes),
    st.builds(
        PipelineLogsPage,
        items=st.lists(logs, max_size=3),
        end_cursor=st.none() | st.text(min_size=1),
        count=st.integers(min_value=0, max_value=10**9),
        polling_interval_ms=st.none() | st.integers(min_value=250, max_value=300_000),
    ),
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=6)
    ),
    max_leaves=20,
)


@given(models)
def test_any_valid_model_round_trips(model: Any) -> None:
    assert converter.decode(converter.dumps(model), type(model)) == model


@given(any_offset)
def test_any_offset_decodes_to_the_same_instant_in_utc(when: datetime) -> None:
    parsed = converter.parse_datetime(when.isoformat())
    assert parsed == when
    assert parsed.tzinfo is UTC


@settings(max_examples=300)
@given(
    st.sampled_from([PipelineLog, Created, Updated, Deleted, PipelineLogsPage]),
    json_values
    | st.fixed_dictionaries(
        {},
        optional={
            "id": json_values,
            "pipelineID": json_values,
            "logs": json_values,
            "lines": json_values,
            "status": json_values | st.sampled_from(["NEW", "DONE"]),
            "createdAt": json_values,
            "updatedAt": json_values,
            "items": json_values,
            "count": json_values,
            "deleted": json_values,
        },
    ),
)
def test_any_json_decodes_to_a_model_or_a_decode_error(cls: type[Any], value: Any) -> None:
    body = orjson.dumps(value)
    try:
        result = converter.decode(body, cls)
    except ResponseDecodeError as error:
        assert error.body
    else:
        assert isinstance(result, cls)


@given(st.binary(max_size=200))
def test_any_bytes_decode_to_a_model_or_a_decode_error(body: bytes) -> None:
    with contextlib.suppress(ResponseDecodeError):
        converter.decode(body, PipelineLog)
