"""The wire-level fuzz test: whatever bytes the server sends, every call keeps the property.

See :mod:`tests.wire_fuzz` for what is drawn and what is checked. CI runs a
fixed set of examples (derandomized: the same every run); ``-m slow`` runs
many more with a fresh seed.
"""

from __future__ import annotations

import asyncio
import os

import aiohttp
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from calyptia_logs import CalyptiaError
from tests.wire_fuzz import (
    ECHO,
    GOOD_LOG,
    ORIGIN,
    PUSHED_LOG,
    TOKEN,
    Answer,
    answers,
    fuzz_settings,
    run_example,
)

CI_EXAMPLES = 300
SLOW_EXAMPLES = 3000

# What the fuzzer found, kept as fixed examples so that they are tried on every run.
FOUND = [
    # aiohttp's parser error kept as __context__: its request_info holds the token.
    Answer("ICY 200 OK", (), b"{}", "length", "none", "keep"),
    # A JSON array nested 255 deep: orjson reads it, but cannot write it back for the excerpt.
    Answer("HTTP/1.1 200 Reason", (), b"[" * 255 + b"]" * 255, "length", "none", "keep"),
    # A followed redirect to a Location holding the echoed token; aiohttp quotes that URL.
    Answer("HTTP/1.1 301 Reason", (("Location", ECHO),), b"", "length", "none", "close"),
    # The token echoed in a 200 body's field: the converter's own error quotes the value.
    Answer(
        "HTTP/1.1 200 Reason",
        (),
        b'{"status": "{{ECHO}}", "updatedAt": "{{ECHO}}"}',
        "length",
        "none",
        "keep",
    ),
    # The second adversarial pass (issue 19), pinned: a complete response for another log
    # pushed on the idle connection after each answer, which shifted every later answer.
    Answer(
        "HTTP/1.1 200 Reason", (), GOOD_LOG, "length", "none", "keep", push=PUSHED_LOG
    ),
    # Junk redirect targets: a bad port, a broken IPv6 literal, user info on the same origin.
    Answer("HTTP/1.1 307 Reason", (("Location", "http://h:abc/v1/x"),), b"", "length", "none", "keep"),
    Answer("HTTP/1.1 307 Reason", (("Location", "http://[::1/v1/x"),), b"", "length", "none", "keep"),
    Answer(
        "HTTP/1.1 307 Reason",
        (("Location", f"http://user:pw@{ORIGIN}/v1/x"),),
        b"",
        "length",
        "none",
        "keep",
    ),
    # The token echoed in the request-ID header (it reached ResponseInfo and the DEBUG log).
    Answer("HTTP/1.1 200 Reason", (("X-Request-Id", f"req {ECHO}"),), GOOD_LOG, "length", "none", "keep"),
    # Integers past 64 bits, which orjson reads as floats.
    Answer(
        "HTTP/1.1 200 Reason",
        (),
        b'{"items": [], "count": 1000000000000000000000000000000, "pollingIntervalMs": 1e30}',
        "length",
        "none",
        "keep",
    ),
    # Bytes that are not UTF-8 in a header that reaches the message (a redirect's Location).
    Answer("HTTP/1.1 302 Reason", (("Location", "/caf\udce9"),), b"", "length", "none", "keep"),
]


def with_found(test: object) -> object:
    for answer in FOUND:
        test = example(answer=answer, project_token=False)(test)  # type: ignore[arg-type]
    return test


@with_found
@fuzz_settings(CI_EXAMPLES, derandomize=True)
@given(answer=answers, project_token=st.booleans())
def test_every_call_ends_in_a_result_or_a_calyptia_error(
    answer: Answer, project_token: bool
) -> None:
    asyncio.run(run_example(answer, project_token=project_token))


@pytest.mark.slow
@pytest.mark.skipif(
    not os.environ.get("CALYPTIA_LONG_FUZZ"),
    reason="the long fuzz run takes minutes: set CALYPTIA_LONG_FUZZ=1, or python -m tests.wire_fuzz",
)
@fuzz_settings(SLOW_EXAMPLES, derandomize=False)
@given(answer=answers, project_token=st.booleans())
def test_every_call_ends_in_a_result_or_a_calyptia_error_at_length(
    answer: Answer, project_token: bool
) -> None:
    asyncio.run(run_example(answer, project_token=project_token))


def test_an_exception_that_could_show_the_token_is_not_kept_as_the_cause() -> None:
    quoted = aiohttp.ClientOSError(
        None, f"Can not write request body for http://h/Bearer%20{TOKEN}"
    )
    wrapped = aiohttp.ClientPayloadError("cut")
    wrapped.__cause__ = quoted
    for cause in (quoted, wrapped, ValueError(f"unknown status 'Bearer {TOKEN}'")):
        error = CalyptiaError("failed")
        error.__cause__ = cause
        assert error.redact([TOKEN]).__cause__ is None
        assert error.__suppress_context__
    harmless = aiohttp.ServerDisconnectedError()
    error = CalyptiaError("failed")
    error.__cause__ = harmless
    assert error.redact([TOKEN]).__cause__ is harmless
