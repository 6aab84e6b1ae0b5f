"""The trust boundary for server-controlled values: accepted forms, bounds, and never a raise."""

from __future__ import annotations

import re
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from calyptia_logs import server_values as sv

NOW = 1_704_110_400.0  # Mon, 01 Jan 2024 12:00:00 GMT


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", 0.0),
        ("7", 7.0),
        (" 120 ", 120.0),
        ("99999999", 99_999_999.0),  # over the ceiling: clamped
        ("9" * 5000, sv.RETRY_AFTER_CEILING),  # no huge-int conversion, no error
        ("²", None),  # a Unicode digit is not delay-seconds (RFC 9110)
        ("١٢", None),  # Arabic-Indic digits neither
        ("-1", None),
        ("1.5", None),
        ("", None),
        (None, None),
        ("soon", None),
    ],
)
def test_retry_after_delay_seconds_are_ascii_digits(
    value: str | None, expected: float | None
) -> None:
    result = sv.retry_after(value, now=NOW)
    if expected is not None and expected > sv.RETRY_AFTER_CEILING:
        expected = sv.RETRY_AFTER_CEILING
    assert result == expected


@pytest.mark.parametrize(
    "value",
    [
        "Mon, 01 Jan 2024 12:00:30 GMT",  # IMF-fixdate
        "Monday, 01-Jan-24 12:00:30 GMT",  # RFC 850
        "Mon, 01 Jan 2024 14:00:30 +0200",  # RFC 5322's numeric zone (email.utils reads it)
        "01 Jan 2024 12:00:30 GMT",  # no weekday
        "Mon, 01 Jan 2024 04:00:30 PST",  # an obsolete named zone
        "Mon Jan  1 12:00:30 2024",  # asctime
    ],
)
def test_retry_after_reads_all_three_http_date_formats(value: str) -> None:
    assert sv.retry_after(value, now=NOW) == 30.0


@pytest.mark.parametrize(
    "value",
    [
        "Sun, 06 Nov 1994 08:49:37 +9999999999",  # a zone that overflows (email.utils raised)
        "Mon, 31 Feb 2024 12:00:00 GMT",  # no such day
        "Mon, 01 Jan 2024 25:00:00 GMT",
        "Mon, 01 Foo 2024 12:00:00 GMT",
        "Mon, 01 Jan 0000 12:00:00 GMT",
    ],
)
def test_a_malformed_http_date_is_ignored(value: str) -> None:
    assert sv.retry_after(value, now=NOW) is None


def test_a_past_date_means_now_and_a_far_one_is_clamped() -> None:
    assert sv.retry_after("Mon, 01 Jan 2024 11:00:00 GMT", now=NOW) == 0.0
    assert sv.retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now=NOW) == sv.RETRY_AFTER_CEILING


def test_rfc850_two_digit_years_follow_rfc_9110() -> None:
    # More than 50 years ahead reads as the previous century: in the past, so 0.
    assert sv.retry_after("Sunday, 06-Nov-94 08:49:37 GMT", now=NOW) == 0.0


@given(st.text(max_size=200))
def test_retry_after_never_raises_and_stays_in_bounds(value: str) -> None:
    result = sv.retry_after(value, now=NOW)
    assert result is None or 0.0 <= result <= sv.RETRY_AFTER_CEILING


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1000, 1000),
        (1, sv.POLL_INTERVAL_MIN_MS),  # a 1 ms hint would be a tight loop
        (10**12, sv.POLL_INTERVAL_MAX_MS),
        (0, None),
        (-5, None),
        (1500.5, None),
        ("1000", None),
        (True, None),
        (None, None),
    ],
)
def test_polling_hint_is_clamped_or_ignored(value: object, expected: int | None) -> None:
    assert sv.polling_interval_ms(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (300, 300.0),
        (0.5, 0.5),
        (10**30, sv.QUOTA_LIMIT_MAX),
        (float("inf"), sv.QUOTA_LIMIT_MAX),
        (0, None),
        (-5, None),
        (float("nan"), None),
        (True, None),
        ("300", None),
        (None, None),
        ([300], None),
    ],
)
def test_a_quota_limit_is_a_bounded_positive_number_or_ignored(
    value: object, expected: float | None
) -> None:
    assert sv.quota_limit(value) == expected


@given(st.from_type(object) | st.floats() | st.integers())
def test_a_quota_limit_never_raises(value: object) -> None:
    result = sv.quota_limit(value)
    assert result is None or 0 < result <= sv.QUOTA_LIMIT_MAX


@pytest.mark.parametrize(
    ("value", "expected"), [(7, 7), (-3, 0), (2**80, 2**63 - 1), (1.5, 0), ("7", 0), (None, 0)]
)
def test_count_is_clamped(value: object, expected: int) -> None:
    assert sv.count(value) == expected


def test_a_cursor_is_a_bounded_string() -> None:
    assert sv.cursor("abc") == "abc"
    assert sv.cursor("") is None
    assert sv.cursor(None) is None
    with pytest.raises(ValueError, match="4096"):
        sv.cursor("a" * (sv.CURSOR_MAX_CHARS + 1))
    with pytest.raises(TypeError):
        sv.cursor(42)


def test_one_line_escapes_line_breaks_and_terminal_escapes() -> None:
    assert sv.one_line("a\nb\r\nc\x1b[31m\u2028d\u202e") == "a\\nb\\r\\nc\\u001b[31m\\u2028d\\u202e"


def test_one_line_removes_secrets_before_cutting() -> None:
    token = "tok-SECRET-123"
    text = "x" * 95 + f"Bearer {token} and %s" % token
    result = sv.one_line(text, 100, [token])
    assert token not in result
    assert "tok-SECRET"[:6] not in result[95:]
    assert "<redacted>" in sv.one_line(f"Bearer {token}", None, [token])
    # the percent-encoded form too
    assert "<redacted>" in sv.one_line("t=a%2Fb", None, ["a/b"])


TOKENS = st.text(alphabet=string.ascii_letters + string.digits + "-_.", min_size=12, max_size=64)


@given(text=st.text(), secret=TOKENS, limit=st.integers(1, 300), cut=st.integers(0, 64))
def test_one_line_is_one_line_bounded_and_never_shows_the_secret(
    text: str, secret: str, limit: int, cut: int
) -> None:
    # The secret anywhere, whole or echoed as "Bearer <secret>", even where the cap cuts.
    mixed = f"{text[:cut]}Bearer {secret}{text[cut:]}{secret}"
    result = sv.one_line(mixed, limit, [secret])
    assert not re.search("[\x00-\x1f\x7f\u2028\u2029]", result)
    assert len(result) <= limit + len("... ( more characters)") + len(str(len(mixed) * 6))
    assert secret not in result


def test_request_ids_are_one_short_line() -> None:
    value = sv.request_id("id-1\nInjected: yes" + "x" * 500)
    assert value is not None
    assert "\n" not in value
    assert len(value) < 250


def test_error_fields_keep_bounded_scalars_only() -> None:
    doc = {
        "error": "x",
        "detail": "y",
        "quotaLimit": 300,
        "index": 2,
        "note": "two\nlines",
        "nested": {"a": 1},
        "list": [1, 2],
        **{f"k{i}": i for i in range(100)},
    }
    kept = sv.error_fields(doc)
    assert kept["quotaLimit"] == 300
    assert kept["index"] == 2
    assert kept["note"] == "two\\nlines"
    assert "nested" not in kept
    assert "list" not in kept
    assert "error" not in kept
    assert len(kept) <= 50
