"""Fluent Bit log text into records: hand-checked samples of real output, and properties."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from calyptia_logs import LogLevel, LogRecord, filter_records, parse_records

SAMPLES = Path(__file__).parent / "samples" / "fluent_bit"
E, W, I, D = LogLevel.ERROR, LogLevel.WARN, LogLevel.INFO, LogLevel.DEBUG  # noqa: E741


def text_of(name: str) -> str:
    # Not read_text(): universal newlines would turn the CRLF sample's "\r\n" into "\n".
    return (SAMPLES / name).read_bytes().decode()


def sample(name: str) -> list[LogRecord]:
    return list(parse_records(text_of(name)))


def summary(records: list[LogRecord]) -> list[tuple[int, LogLevel | None, str | None]]:
    return [(r.line, r.level, r.component) for r in records]


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


# --- the samples, record by record --------------------------------------------------------


def test_v1_4_go_plugin_lines_are_records_of_their_own() -> None:
    records = sample("v1.4_loki_go_plugin.log")
    assert summary(records) == [
        (1, None, None),  # Fluent Bit v1.4.6
        (2, None, None),
        (3, None, None),
        (4, None, None),
        (5, None, None),  # the banner, line by line; line 6 is blank
        (7, I, "storage"),
        (8, I, "storage"),
        (9, I, "storage"),
        (10, I, "engine"),
        (11, None, None),  # level=info caller=out_loki.go:57 ...
        (12, I, "input:forward:forward.0"),
        (13, None, None),
        (14, None, None),
        (15, None, None),  # level=warn ... from the Go plugin: foreign, so no level
        (16, W, "engine"),
    ]
    assert records[0].message == "Fluent Bit v1.4.6"
    assert records[8].time == at(2020, 9, 9, 20, 11, 57)
    assert records[8].message == "started (pid=1)"
    assert records[9].message.startswith('level=info caller=out_loki.go:57 id=0 [flb-go]="Starting')
    assert records[-1].time == at(2020, 9, 9, 20, 12, 10)


def test_v1_8_a_timestamped_crash_is_an_error_with_its_backtrace() -> None:
    records = sample("v1.8_kubernetes_crash.log")
    assert len(records) == 5 + 10 + 1
    crash = records[-1]
    assert (crash.line, crash.level, crash.component) == (17, E, "engine")
    assert crash.time == at(2021, 11, 30, 17, 40, 2)
    assert crash.message.splitlines() == [
        "caught signal (SIGSEGV)",
        "#0  0x55c4b7a0c1de      in  flb_kube_meta_get() at plugins/filter_kubernetes/kube_meta.c:1322",
        "#1  0x55c4b7a07f4a      in  cb_kube_filter() at plugins/filter_kubernetes/kubernetes.c:627",
        "#2  0x55c4b79a1b3e      in  flb_filter_do() at src/flb_filter.c:124",
        "#3  0xffffffffffffffff  in  ???() at ???:0",
    ]
    assert crash.raw.count("\n") == 4
    kube = records[10]
    assert (kube.component, kube.message) == (
        "filter:kubernetes:kubernetes.0",
        "https=1 host=kubernetes.default.svc port=443",
    )


def test_v2_0_configuration_table_and_a_crash_without_a_timestamp() -> None:
    records = sample("v2.0_config_crash.log")
    assert summary(records)[4:] == [
        (6, I, None),  # Configuration:
        (7, I, None),
        (8, I, None),
        (9, I, None),  # ___________
        (10, I, None),
        (11, I, None),
        (12, I, "fluent bit"),
        (13, D, "engine"),
        (14, I, "storage"),
        (15, D, "input:tail:tail.0"),
        (16, E, "engine"),  # [engine] caught signal (SIGSEGV), no time
    ]
    assert records[5].message == "flush time     | 1.000000 seconds"
    assert records[7].message == "___________"
    crash = records[-1]
    assert crash.time is None
    assert crash.message.splitlines()[0] == "caught signal (SIGSEGV)"
    assert len(crash.message.splitlines()) == 4


def test_v2_2_es_errors_with_indented_and_unindented_bodies() -> None:
    records = sample("v2.2_es_errors.log")
    rest = summary(records)[4:]
    assert rest == [
        (6, I, "fluent bit"),
        (7, I, "storage"),
        (8, I, "output:es:es.0"),
        (9, E, "output:es:es.0"),
        (10, None, None),  # the unindented JSON response: a record of its own (rule 4)
        (11, W, "engine"),
        (12, E, "output:es:es.0"),  # its indented body continues it (rule 3)
        (15, W, "engine"),
        (16, W, "input:tail:tail.0"),  # "[warning]" is WARN
    ]
    indented = records[10]
    assert indented.message == (
        "HTTP status=400 URI=/_bulk, response:\n"
        '{"error":{"root_cause":[{"type":"mapper_parsing_exception","reason":"failed to parse"}]},"status":400}'
    )
    assert indented.raw.splitlines()[1].startswith('    {"error"')  # raw keeps the indent
    errors = [r for r in records if r.level is E]
    assert [r.line for r in errors] == [9, 12]


def test_v3_ascii_art_fractions_and_a_normal_shutdown() -> None:
    records = sample("v3_shutdown.log")
    assert [r.level for r in records[:10]] == [None] * 10  # banner and ASCII art
    assert records[10].time == datetime(2024, 8, 28, 8, 33, 34, 118000, tzinfo=UTC)
    sigterm = records[12]
    assert (sigterm.level, sigterm.component, sigterm.message) == (
        None,
        "engine",
        "caught signal (SIGTERM)",
    )  # a normal shutdown is not an error
    assert sigterm.time == datetime(2024, 8, 28, 9, 0, 0, 500000, tzinfo=UTC)
    assert all(r.raw.endswith("\r") for r in records)  # CRLF: raw unchanged, message stripped
    assert not any(r.message.endswith("\r") for r in records)
    assert [r.level for r in records if r.level] == [I, I, I, W, I]


@pytest.mark.parametrize("name", sorted(p.name for p in SAMPLES.glob("*.log")))
def test_every_sample_keeps_every_line_once_in_order(name: str) -> None:
    text = text_of(name)
    raw_lines = [line for r in parse_records(text) for line in r.raw.split("\n")]
    assert raw_lines == [line for line in text.split("\n") if line.strip()]


# --- the rules one by one -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "level", "component", "message"),
    [
        ("[2024/02/07 10:24:50] [ info] [engine] started", I, "engine", "started"),
        ("[2024/02/07 10:24:50] [ INFO ] [engine] started", I, "engine", "started"),
        ("[2024/02/07 10:24:50] [warning] [engine] x", W, "engine", "x"),
        ("[2024/02/07 10:24:50] [trace] [upstream] y", LogLevel.TRACE, "upstream", "y"),
        ("[2024/02/07 10:24:50] [ info] no component", I, None, "no component"),
        ("[2024/02/07 10:24:50] [sp] [x] no level", None, "sp", "[x] no level"),
        ("[engine] caught signal (SIGBUS)", E, "engine", "caught signal (SIGBUS)"),
        ("[engine] caught signal (SIGINT)", None, None, "[engine] caught signal (SIGINT)"),
        (
            "[2024/02/07 10:24:50] [engine] caught signal (SIGFPE)",
            E,
            "engine",
            "caught signal (SIGFPE)",
        ),
        (
            "[2024/02/30 10:24:50] [ info] [engine] no such day",
            None,
            None,
            "[2024/02/30 10:24:50] [ info] [engine] no such day",
        ),
        (
            "[2024/02/07 10:24:50][ info] no space",
            None,
            None,
            "[2024/02/07 10:24:50][ info] no space",
        ),
    ],
)
def test_one_line(line: str, level: LogLevel | None, component: str | None, message: str) -> None:
    (record,) = parse_records(line)
    assert (record.level, record.component, record.message) == (level, component, message)


def test_continuations_without_a_record_stand_alone() -> None:
    records = list(
        parse_records("    indented first\n#0 0x1 in f()\n[engine] caught signal (SIGILL)")
    )
    assert [r.message for r in records] == [
        "indented first\n#0 0x1 in f()",
        "caught signal (SIGILL)",
    ]


def test_a_hash_that_is_not_a_frame_is_its_own_record() -> None:
    records = list(parse_records("[2024/02/07 10:24:50] [ info] a\n#comment\n#12x"))
    assert len(records) == 3


def test_blank_lines_do_not_end_a_record() -> None:
    (record,) = parse_records("[2024/02/07 10:24:50] [error] a\n\n   \n  b")
    assert record.message == "a\nb"
    assert record.raw == "[2024/02/07 10:24:50] [error] a\n  b"


def test_fractions_are_kept_to_microseconds() -> None:
    times = [
        r.time
        for r in parse_records(
            "[2024/02/07 10:24:50.123456789] [ info] a\n[2024/02/07 10:24:50.5] [ info] b"
        )
    ]
    assert times == [at(2024, 2, 7, 10, 24, 50, 123456), at(2024, 2, 7, 10, 24, 50, 500000)]


def test_times_are_read_in_the_zone_given() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    (record,) = parse_records("[2024/07/01 12:00:00] [ info] a", tz=berlin)
    assert record.time is not None
    assert record.time.utcoffset() == timedelta(hours=2)  # summer time
    assert record.time.astimezone(UTC) == at(2024, 7, 1, 10, 0, 0)


# --- levels and filters ---------------------------------------------------------------------


def test_levels_are_ordered_by_severity() -> None:
    assert sorted(LogLevel, reverse=True) == [E, W, I, D, LogLevel.TRACE]
    assert E > W >= W > I
    assert LogLevel("warning") is W
    assert LogLevel(" Error") is E
    with pytest.raises(ValueError):
        LogLevel("fatal")


def test_filter_records_by_level_component_time_and_message() -> None:
    records = sample("v2.2_es_errors.log")
    assert [r.line for r in filter_records(records, min_level="warn")] == [9, 11, 12, 15, 16]
    assert [r.line for r in filter_records(records, component="output:es:*")] == [8, 9, 12]
    since = at(2024, 2, 7, 10, 24, 52)
    assert [r.line for r in filter_records(records, since=since)] == [12, 15, 16]
    assert [r.line for r in filter_records(records, until=since)] == [6, 7, 8, 9, 11]
    assert [r.line for r in filter_records(records, grep=r"status=\d+")] == [12]
    with pytest.raises(ValueError):
        list(filter_records(records, since=datetime(2024, 1, 1)))


def test_a_pipeline_logs_records() -> None:
    from calyptia_logs import PipelineLog, PipelineLogStatus

    log = PipelineLog(
        id=__import__("uuid").uuid4(),
        pipeline_id=__import__("uuid").uuid4(),
        logs=text_of("v1.8_kubernetes_crash.log"),
        lines=20,
        status=PipelineLogStatus.DONE,
        created_at=at(2024, 1, 1),
        updated_at=at(2024, 1, 1),
    )
    assert len(log.records()) == 16
    (crash,) = log.records(min_level=LogLevel.ERROR)
    assert crash.line == 17
    assert log.records(min_level="error") == [crash]
    assert log.records(tz=timezone(timedelta(hours=1)))[5].time == at(2021, 11, 30, 15, 56, 31)


# --- properties -----------------------------------------------------------------------------

_levels = st.sampled_from(
    ["error", " warn", "warning", " info", "debug", "trace", "ERROR", "sp", "x y"]
)
_components = st.sampled_from(["engine", "output:es:es.0", "fluent bit", "input:tail:tail.0"])
_stamps = st.builds(
    lambda d, frac: d.strftime("%Y/%m/%d %H:%M:%S") + frac,
    st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2100, 1, 1)),
    st.sampled_from(["", ".5", ".123", ".123456789"]),
)
_lines = st.one_of(
    st.builds(
        lambda s, lv, c, m: f"[{s}] [{lv}] [{c}] {m}",
        _stamps,
        _levels,
        _components,
        st.text(max_size=20),
    ),
    st.builds(lambda s, lv, m: f"[{s}] [{lv}] {m}", _stamps, _levels, st.text(max_size=20)),
    st.builds(lambda m: f"    {m}", st.text(max_size=20)),
    st.builds(lambda n: f"#{n}  0x55 in f() at x.c:1", st.integers(0, 40)),
    st.sampled_from(
        [
            "[engine] caught signal (SIGSEGV)",
            "Fluent Bit v2.2.2",
            "",
            "   ",
            "level=info caller=x.go:1",
        ]
    ),
    st.text(max_size=40),
)
_logs = st.lists(_lines, max_size=30).map("\n".join)


@given(st.one_of(st.text(), _logs))
def test_parse_never_raises_and_keeps_every_non_blank_line_once(text: str) -> None:
    records = list(parse_records(text))
    raw_lines = [line for r in records for line in r.raw.split("\n")]
    lines = text.split("\n")
    assert raw_lines == [line for line in lines if line and not line.isspace()]
    for record in records:
        assert lines[record.line - 1] == record.raw.split("\n")[0]
        assert record.time is None or record.time.tzinfo is not None


@given(_logs, st.integers(-14 * 60, 14 * 60))
def test_tz_shifts_the_instant_by_its_offset(text: str, minutes: int) -> None:
    zone = timezone(timedelta(minutes=minutes))
    for utc, local in zip(parse_records(text), parse_records(text, tz=zone), strict=True):
        assert (utc.time is None) == (local.time is None)
        if utc.time is not None and local.time is not None:
            assert utc.time - local.time == timedelta(minutes=minutes)
            assert utc.time.replace(tzinfo=None) == local.time.replace(tzinfo=None)


def test_the_fast_record_construction_is_the_attrs_one() -> None:
    import attrs

    from calyptia_logs.records import _make

    fields = attrs.fields(LogRecord)
    assert [f.name for f in fields] == ["time", "level", "component", "message", "raw", "line"]
    # _make() sets the slots directly: only sound while attrs has nothing else to do.
    assert all(f.validator is None and f.converter is None for f in fields)
    assert all(f.default is attrs.NOTHING for f in fields)
    values = {
        "time": at(2024, 1, 1),
        "level": E,
        "component": "c",
        "message": "m",
        "raw": "r",
        "line": 3,
    }
    made = _make(*values.values())
    assert made == LogRecord(**values)
    assert hash(made) == hash(LogRecord(**values))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        made.message = "changed"  # type: ignore[misc]


def test_a_header_coloured_by_fluent_bit_on_a_terminal_is_a_header() -> None:
    # What flb_log.c writes when stderr is a terminal: a bold "[", the time, a coloured level.
    line = (
        "\x1b[1m[\x1b[0m2024/03/01 15:26:48\x1b[1m]\x1b[0m [\x1b[1;91merror\x1b[0m] "
        "[output:es:es.0] HTTP status=400 URI=/_bulk"
    )
    (record,) = parse_records(line + "\n")
    assert record.level is LogLevel.ERROR
    assert record.component == "output:es:es.0"
    assert record.message == "HTTP status=400 URI=/_bulk"
    assert record.time is not None
    assert record.time.minute == 26
    assert record.raw == line  # unchanged, codes and all
    assert list(filter_records([record], min_level="error")) == [record]
