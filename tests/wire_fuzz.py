"""A wire-level fuzzer: a raw socket server whose every answer is drawn by hypothesis.

One drawn answer (status line, headers, framing, content encoding, body, and
what the connection does afterwards) is served for every request of an
example, and every public call runs against it at once; some answers are
followed, unasked, by more bytes on the idle connection (a pushed response).
The property, for each call: it ends within its time bound, with a result or a
``CalyptiaError`` and nothing else; a result is about what was asked (``get``
returns the log asked for, ``list`` only that pipeline's logs) and keeps the
documented clamps (``count``, ``pollingIntervalMs``, integers past 64 bits
included); afterwards no connection is checked out and no task is left pending;
the token, which the server echoes wherever it can, appears in no ``str`` or
``repr`` of anything raised, no ``ResponseInfo`` and no log record; and every
error's text is strict UTF-8 (no lone surrogates from undecodable bytes).

``tests/test_wire_fuzz.py`` runs it; ``python -m tests.wire_fuzz --examples N``
prints the outcome table that docs/reliability.md quotes.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import gzip
import json
import logging
import sys
import time
import traceback
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from typing import Any

import attrs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calyptia_logs import BulkResult, CalyptiaClient, CalyptiaError, ResponseInfo, RetryPolicy
from calyptia_logs.retry import no_sleep
from tests.raw_server import RawRequest, Reply, raw_server

TOKEN = "fuzz-SECRET-5b1e0c9d"  # a test credential
ECHO = "{{ECHO}}"  # the server puts the request's credential header here
ORIGIN = "{{ORIGIN}}"  # ... and the server's own host:port here
LOG_ID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
PIPELINE_ID = "9b2c0e8a-1d4f-4c5e-8f3a-6b7d2e1c0a9f"

#: Per-attempt timeout and attempts: a stalled answer costs at most 2 x 0.25 s.
ATTEMPT_TIMEOUT = 0.25
ATTEMPTS = 2
WAIT_TIMEOUT = 0.3
#: Each call must end within this; past it, the call is taken to hang.
TIME_BOUND = 3.0

# --- what the server sends ---------------------------------------------------------------

_echo = st.sampled_from([ECHO, f"Bearer {ECHO}", f"token={ECHO}\nnext line"])
_texts = st.one_of(st.text(max_size=40), _echo, st.just("two\r\nlines\x1b[31m\u2028"))
_ints = st.one_of(st.integers(-(2**70), 2**70), st.sampled_from([0, -1, 1, 2**63, 2**64, 10**30]))
_scalars = st.one_of(st.none(), st.booleans(), _ints, st.floats(allow_nan=False), _texts)
_uuids = st.one_of(st.uuids().map(str), st.just(LOG_ID), _scalars)
_times = st.one_of(
    st.sampled_from(
        [
            "2024-05-01T10:00:00.123456789Z",
            "0001-01-01T00:00:00Z",
            "0001-01-01T00:00:00+02:00",
            "9999-12-31T23:59:59-05:00",
            "2024-05-01T12:00:05.5+02:00",
            "2024-13-01T00:00:00Z",
            "2024-05-01T10:00:00",
        ]
    ),
    _scalars,
)


def _maybe_drop(doc: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """Sometimes leave fields out, as omitempty (or a broken server) does."""

    @st.composite
    def dropped(draw: st.DrawFn) -> dict[str, Any]:
        value = draw(doc)
        gone = draw(st.sets(st.sampled_from(sorted(value)), max_size=2)) if value else set()
        return {k: v for k, v in value.items() if k not in gone}

    return dropped()


_log = _maybe_drop(
    st.fixed_dictionaries(
        {
            "id": _uuids,
            "pipelineID": _uuids,
            "status": st.one_of(st.sampled_from(["NEW", "DONE", "ARCHIVED", "done"]), _scalars),
            "lines": _ints,
            "logs": _texts,
            "createdAt": _times,
            "updatedAt": _times,
        }
    )
)
_good_log = st.builds(
    lambda status: {
        "id": LOG_ID,
        "pipelineID": PIPELINE_ID,
        "status": status,
        "lines": 3,
        "logs": "a\nb\n",
        "createdAt": "2024-05-01T10:00:00.123456789Z",
        "updatedAt": "0001-01-01T00:00:00Z",
    },
    st.sampled_from(["NEW", "DONE"]),
)
_page = _maybe_drop(
    st.fixed_dictionaries(
        {
            "items": st.one_of(
                st.none(), st.lists(st.one_of(_good_log, _log), max_size=3), _scalars
            ),
            "endCursor": st.one_of(st.none(), st.text(max_size=20), st.just("c" * 5000), _scalars),
            "count": _scalars,
            "pollingIntervalMs": _scalars,
        }
    )
)
_error = _maybe_drop(
    st.fixed_dictionaries(
        {
            "error": _texts,
            "detail": _scalars,
            "quotaLimit": _scalars,
            "quotaRemaining": _scalars,
            "nested": st.dictionaries(st.text(max_size=5), _scalars, max_size=3),
        }
    )
)
_answers = st.fixed_dictionaries(
    {
        "id": _uuids,
        "createdAt": _times,
        "updatedAt": _times,
        "deleted": _scalars,
        "deletedAt": _times,
    }
)
_json_docs = st.one_of(_good_log, _log, _page, _error, _maybe_drop(_answers), _scalars)


@st.composite
def _json_body(draw: st.DrawFn) -> bytes:
    doc = draw(_json_docs)
    return json.dumps(doc, ensure_ascii=draw(st.booleans())).encode()


_bodies = st.one_of(
    _json_body(),
    _json_body(),
    st.binary(max_size=300),
    st.integers(1, 3000).map(lambda n: b"[" * n + b"]" * n),  # deep nesting
    st.sampled_from([b"", b"1e400", b"123456789012345678901234567890", b'{"items": [', b"null"]),
)

_statuses = st.one_of(
    st.sampled_from(
        [200, 201, 204, 301, 302, 307, 400, 401, 403, 404, 408, 409, 429, 500, 502, 503, 504]
    ),
    st.integers(100, 999),
)
_status_lines = st.one_of(
    _statuses.map(lambda s: f"HTTP/1.1 {s} Reason"),
    _statuses.map(lambda s: f"HTTP/1.1 {s} Reason"),
    st.sampled_from(
        [
            "HTTP/1.1 200",
            "HTTP/1.0 200 OK",
            "HTTP/1.1 abc OK",
            "HTTP/2 200 OK",
            "ICY 200 OK",
            "HTTP/1.1 200 OK\x00",
            "HTTP/1.1 99999 Nope",
            "",
            "garbage",
            f"HTTP/1.1 500 {ECHO}",
        ]
    ),
    st.text(max_size=30),
)
_retry_after = st.one_of(
    st.integers(0, 10**12).map(str),
    st.sampled_from(
        [
            "\u00b2",
            "-1",
            "1.5",
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            "Sun, 06 Nov 1994 08:49:37 +9999999999",
            "Mon, 31 Feb 2024 12:00:00 GMT",
            "Fri, 31 Dec 9999 23:59:59 GMT",
            "9" * 5000,
        ]
    ),
    st.text(max_size=30),
)
# Redirect targets: junk ports, broken IPv6 literals, user info, other schemes, bytes.
_locations = st.one_of(
    st.sampled_from(
        [
            "http://127.0.0.1:1/elsewhere",
            "http://127.0.0.1:99999/v1/x",
            "http://h:abc/v1/x",
            "http://[::1/v1/x",
            "http://[::1]:0/v1/x",
            f"http://user:pw@{ORIGIN}/v1/pipeline_logs/x",
            f"http://{ECHO}@{ORIGIN}/v1/x",
            f"//{ORIGIN}/v1/pipeline_logs/3fa85f64-5717-4562-b3fc-2c963f66afa6",
            "ftp://127.0.0.1/x",
            "http://:80/x",
            "http://exa mple/x",
            "http://\u00e9xample.invalid/x",
            "http://xn--/x",
            "/v1/x?" + "a" * 3000,
        ]
    ),
    st.text(max_size=30).map(lambda t: f"http://{ORIGIN}/{t}"),
)
# Header values with bytes that are not UTF-8 (aiohttp reads them as surrogates).
_header_bytes = st.binary(max_size=20).map(
    lambda b: b.replace(b"\r", b"").replace(b"\n", b"").decode("utf-8", "surrogateescape")
)
_headers = st.one_of(
    st.tuples(st.just("Retry-After"), _retry_after),
    st.tuples(
        st.just("Content-Length"),
        st.one_of(
            st.integers(0, 10**6).map(str),
            st.sampled_from(["-1", "abc", "99999999999999999999", " 5", "1e3", "5, 6"]),
        ),
    ),
    st.tuples(
        st.just("Transfer-Encoding"),
        st.sampled_from(["chunked", "gzip, chunked", "identity", "junk"]),
    ),
    st.tuples(
        st.just("Content-Encoding"),
        st.sampled_from(["gzip", "deflate", "br", "zstd", "identity", "x-junk", "gzip, gzip"]),
    ),
    st.tuples(
        st.just("Link"),
        st.one_of(
            st.text(max_size=20).map(lambda c: f'</v1/x?before={c}>; rel="next"'),
            st.just("</v1/x?before=" + "c" * 5000 + '>; rel="next"'),
            st.just("<" * 2000 + "; rel=next"),
            st.text(max_size=60),
        ),
    ),
    st.tuples(st.sampled_from(["X-Request-Id", "Request-Id", "X-Amzn-Trace-Id"]), _texts),
    st.tuples(st.sampled_from(["X-Request-Id", "Location", "X-Junk"]), _header_bytes),
    st.tuples(
        st.just("Content-Type"), st.sampled_from(["application/json", "text/html", "", "a" * 500])
    ),
    st.tuples(st.just("Location"), st.one_of(_texts, _locations)),
    st.tuples(st.just("X-Echo"), _echo),
    st.tuples(st.text(min_size=1, max_size=10), st.text(max_size=20)),  # junk, maybe no colon-safe
)


@attrs.frozen
class Answer:
    """One drawn answer, kept readable for hypothesis's failure report."""

    status_line: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    framing: str  # "length" (a correct Content-Length added), "chunked", "chunked-broken", "none"
    encoding: str  # "none", "gzip", "deflate", "gzip-junk"
    after: str  # "keep", "close", "hold"
    push: bytes = b""  # written unasked on the idle connection after the answer

    def render(self, echo: str, origin: str = "") -> bytes:
        """The bytes on the wire, with the request's credential echoed where asked."""
        body = self.body.replace(ECHO.encode(), echo.encode())
        headers = list(self.headers)
        if self.encoding == "gzip":
            body, headers = gzip.compress(body), [*headers, ("Content-Encoding", "gzip")]
        elif self.encoding == "deflate":
            body, headers = zlib.compress(body), [*headers, ("Content-Encoding", "deflate")]
        elif self.encoding == "gzip-junk":
            headers = [*headers, ("Content-Encoding", "gzip")]
        if self.framing == "length":
            headers.append(("Content-Length", str(len(body))))
        elif self.framing.startswith("chunked"):
            headers.append(("Transfer-Encoding", "chunked"))
            chunks = b"".join(
                b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:7], body[7:]) if part
            )
            body = chunks + (b"0\r\n\r\n" if self.framing == "chunked" else b"zz\r\n")
        head = "".join(f"{name}: {value}\r\n" for name, value in headers)
        text = f"{self.status_line}\r\n{head}\r\n".replace(ECHO, echo).replace(ORIGIN, origin)
        return text.encode("utf-8", "surrogateescape") + body


def _pushed(doc: dict[str, Any]) -> bytes:
    body = json.dumps(doc).encode()
    return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (
        len(body),
        body,
    )


_OTHER_LOG = {
    "id": "0f0e0d0c-0b0a-4908-8706-050403020100",
    "pipelineID": "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee",
    "status": "DONE",
    "lines": 1,
    "logs": "pushed\n",
    "createdAt": "2024-05-01T10:00:00Z",
    "updatedAt": "2024-05-01T10:00:00Z",
}
#: A right answer to ``get(LOG_ID)``, and a whole response about another log.
GOOD_LOG = json.dumps(
    {
        "id": LOG_ID,
        "pipelineID": PIPELINE_ID,
        "status": "DONE",
        "lines": 1,
        "logs": "a\n",
        "createdAt": "2024-05-01T10:00:00Z",
        "updatedAt": "2024-05-01T10:00:00Z",
    }
).encode()
PUSHED_LOG = _pushed(_OTHER_LOG)
_pushes = st.one_of(
    st.just(b""),
    st.just(b""),
    st.just(PUSHED_LOG),
    st.just(_pushed({"items": [_OTHER_LOG], "endCursor": None, "count": 1})),
    st.just(_pushed({"error": "pushed"})[:40]),  # half a response
    st.binary(max_size=40),
)

_one_line_texts = st.one_of(
    st.text(alphabet=st.characters(blacklist_characters="\r\n"), max_size=40),
    _echo.filter(lambda e: "\n" not in e),
)
_sane_headers = st.one_of(
    st.tuples(
        st.just("Retry-After"), _retry_after.filter(lambda v: "\r" not in v and "\n" not in v)
    ),
    st.tuples(
        st.just("Link"),
        st.text(alphabet="abcXYZ019=-_", max_size=20).map(
            lambda c: f'</v1/x?before={c}>; rel="next"'
        ),
    ),
    st.tuples(st.sampled_from(["X-Request-Id", "Request-Id", "X-Amzn-Trace-Id"]), _one_line_texts),
    st.tuples(st.just("X-Request-Id"), st.just(f"req {ECHO}")),
    st.tuples(st.sampled_from(["X-Request-Id", "Location", "X-Junk"]), _header_bytes),
    st.tuples(st.just("Location"), _locations),
    st.tuples(
        st.just("Content-Type"),
        st.sampled_from(["application/json", "text/html", "text/plain; charset=latin-1"]),
    ),
    st.tuples(st.just("X-Echo"), st.just(ECHO)),
)
# Well-formed HTTP whose values are hostile: this reaches the decoders and the boundary.
sane_answers = st.builds(
    Answer,
    status_line=_statuses.map(lambda s: f"HTTP/1.1 {s} Reason"),
    headers=st.lists(_sane_headers, max_size=4).map(tuple),
    body=_bodies,
    framing=st.sampled_from(["length", "length", "chunked"]),
    encoding=st.sampled_from(["none", "none", "gzip", "deflate"]),
    after=st.sampled_from(["keep", "keep", "close"]),
    push=_pushes,
)
# Anything at all on the wire: this reaches aiohttp's parser and our translation of it.
wild_answers = st.builds(
    Answer,
    status_line=_status_lines,
    headers=st.lists(_headers, max_size=5).map(tuple),
    body=_bodies,
    framing=st.sampled_from(["length", "length", "length", "chunked", "chunked-broken", "none"]),
    encoding=st.sampled_from(["none", "none", "none", "gzip", "deflate", "gzip-junk"]),
    # A stalled connection costs the full timeouts: drawn rarely.
    after=st.integers(0, 39).map(lambda n: "hold" if n == 0 else "close" if n < 10 else "keep"),
    push=_pushes,
)
answers = st.one_of(sane_answers, sane_answers, wild_answers)

# --- what the client does ------------------------------------------------------------------


async def _all(items: AsyncIterator[Any], limit: int = 1000) -> list[Any]:
    async with aclosing(items) as running:  # type: ignore[type-var]
        out = []
        async for item in running:
            out.append(item)
            if len(out) >= limit:
                break
        return out


CALLS: dict[str, Callable[[CalyptiaClient], Awaitable[Any]]] = {
    "get": lambda c: c.pipeline_logs.get(LOG_ID),
    "update": lambda c: c.pipeline_logs.update(LOG_ID, lines=5, status="DONE"),
    "delete": lambda c: c.pipeline_logs.delete(LOG_ID),
    "create": lambda c: c.pipeline_logs.create(PIPELINE_ID, lines=5),
    "list": lambda c: c.pipeline_logs.list(PIPELINE_ID, last=10),
    "iter": lambda c: _all(c.pipeline_logs.iter(PIPELINE_ID)),
    "get_many": lambda c: _all(
        c.pipeline_logs.get_many([LOG_ID, PIPELINE_ID, "not-a-uuid"], concurrency=2)
    ),
    "wait_until_done": lambda c: c.pipeline_logs.wait_until_done(LOG_ID, timeout=WAIT_TIMEOUT),
}


class PropertyError(AssertionError):
    """A call broke the property; the message says how."""


def shown(error: BaseException) -> str:
    """All text an exception shows: str, repr, args, attributes, causes and the traceback."""
    parts: list[str] = []
    seen: BaseException | None = error
    while seen is not None:
        parts += [str(seen), repr(seen), repr(seen.args), repr(vars(seen))]
        seen = seen.__cause__ or seen.__context__
    parts.append("".join(traceback.format_exception(error)))
    return "\n".join(parts)


def _strict_utf8(where: str, text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise PropertyError(f"{where}: not strict UTF-8 ({exc})") from exc


def _check_error(where: str, error: BaseException) -> None:
    """What an error may show: never the token, and only text a strict UTF-8 writer takes."""
    if TOKEN in shown(error):
        raise PropertyError(f"{where}: the token in {error!r}")
    _strict_utf8(where, f"{error} {error!r}")


def _wide(value: Any) -> int | None:
    """The documented reading of an integer field: ints, and floats past 64 bits as a clamp."""
    if type(value) is int:
        return value
    if type(value) is float and abs(value) >= 2.0**63:
        return 2**63 - 1 if value > 0 else -(2**63 - 1)
    return None


def expected_hints(answer: Answer) -> tuple[int, int | None] | None:
    """The ``count`` and ``pollingIntervalMs`` a page decoded from ``answer`` must show.

    ``None`` when the body is no JSON object (then no page can come from it).
    Python's json reads integers exactly, so this is an oracle for orjson's floats.
    """
    try:
        doc = json.loads(answer.body)
    except ValueError:
        return None
    if not isinstance(doc, dict):
        return None
    count = _wide(doc.get("count"))
    interval = _wide(doc.get("pollingIntervalMs"))
    return (
        0 if count is None else min(max(count, 0), 2**63 - 1),
        None if interval is None or interval <= 0 else min(max(interval, 250), 300_000),
    )


def _outcome(name: str, result: Any, answer: Answer) -> str:
    """Name the outcome, checking that a result is about what was asked, and clamped."""
    if name in ("get", "wait_until_done") and str(result.id) != LOG_ID:
        raise PropertyError(f"{name}: asked for {LOG_ID}, returned log {result.id}")
    if name == "list":
        pipelines = {str(item.pipeline_id) for item in result.items}
        if pipelines - {PIPELINE_ID}:
            raise PropertyError(f"list: items of other pipelines {pipelines}")
        hints = expected_hints(answer)
        if (
            not answer.push
            and hints is not None
            and (result.count, result.polling_interval_ms) != hints
        ):
            raise PropertyError(
                f"list: count/pollingIntervalMs {result.count}/{result.polling_interval_ms}"
                f", the documented clamp gives {hints[0]}/{hints[1]}"
            )
    if name == "iter":
        ids = [log.id for log in result]
        if len(set(ids)) != len(ids):
            raise PropertyError("iter: a log yielded twice")
        if {str(log.pipeline_id) for log in result} - {PIPELINE_ID}:
            raise PropertyError("iter: a log of another pipeline")
    if name == "get_many":
        kinds = []
        for item in result:
            assert isinstance(item, BulkResult)
            if item.error is not None:
                _check_error("get_many item", item.error)
                kinds.append(type(item.error).__name__)
            elif item.log is not None and str(item.log.id) != str(item.id):
                raise PropertyError(f"get_many: {item.id} answered with log {item.log.id}")
        if len(result) != 3:
            raise PropertyError(f"get_many: {len(result)} results for 3 IDs")
        return "ok" if not kinds else "items: " + ", ".join(sorted(set(kinds)))
    return "ok"


class _Records(logging.Handler):
    """Keeps the library's log records of one example."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def run_example(answer: Answer, *, project_token: bool = False) -> dict[str, str]:
    """Serve ``answer`` and run every call against it; return each call's outcome by name.

    Raises:
        PropertyError: A call hung, raised something other than a CalyptiaError,
            returned an answer about something else or out of its clamps, showed
            the token or text that is not strict UTF-8, or left a connection or
            task behind.
    """

    def reply(request: RawRequest) -> Reply:
        echo = request.headers.get("authorization") or request.headers.get("x-project-token", "")
        return Reply(
            answer.render(echo, request.headers.get("host", "")),
            close=answer.after == "close",
            hold=answer.after == "hold",
            push=answer.push,
            push_after=0.005,
        )

    infos: list[ResponseInfo] = []
    records = _Records()
    library_logger = logging.getLogger("calyptia_logs")
    library_logger.addHandler(records)
    level, library_logger.level = library_logger.level, logging.DEBUG
    try:
        outcomes = await _run_calls(answer, reply, infos, project_token=project_token)
    finally:
        library_logger.removeHandler(records)
        library_logger.setLevel(level)
    for info in infos:
        if TOKEN in repr(info):
            raise PropertyError(f"on_response: the token in {info!r}")
        _strict_utf8("on_response", repr(info))
    for record in records.records:
        text = f"{record.getMessage()} {vars(record)}"
        if TOKEN in text:
            raise PropertyError(f"a log record shows the token: {record.getMessage()}")
    return outcomes


async def _run_calls(
    answer: Answer,
    reply: Callable[[RawRequest], Reply],
    infos: list[ResponseInfo],
    *,
    project_token: bool,
) -> dict[str, str]:
    outcomes: dict[str, str] = {}
    auth = {"project_token": TOKEN} if project_token else {"token": TOKEN}
    async with raw_server(reply) as (url, server):
        client = CalyptiaClient(
            base_url=url,
            timeout=ATTEMPT_TIMEOUT,
            retry=RetryPolicy(max_attempts=ATTEMPTS, sleep=no_sleep),
            follow_redirects=True,
            on_response=infos.append,
            **auth,
        )

        async def one(name: str, call: Callable[[CalyptiaClient], Awaitable[Any]]) -> None:
            started = time.monotonic()
            try:
                async with asyncio.timeout(TIME_BOUND):
                    result = await call(client)
            except CalyptiaError as exc:  # first: a WaitTimeoutError is a TimeoutError too
                _check_error(name, exc)
                outcomes[name] = type(exc).__name__
            except TimeoutError as exc:
                raise PropertyError(f"{name}: no end within {TIME_BOUND}s") from exc
            except Exception as exc:
                raise PropertyError(f"{name}: {type(exc).__name__} escaped: {exc!r}") from exc
            else:
                outcomes[name] = _outcome(name, result, answer)
            assert time.monotonic() - started < TIME_BOUND

        try:
            await asyncio.gather(*(one(name, call) for name, call in CALLS.items()))
            session = client.transport.session
            if session is not None and session.connector is not None:
                acquired = len(getattr(session.connector, "_acquired", ()))
                if acquired:
                    raise PropertyError(f"{acquired} connections left checked out")
        finally:
            await client.close()
        await asyncio.sleep(0)
        current = asyncio.current_task()
        pending = [
            t
            for t in asyncio.all_tasks()
            if t is not current and t not in server.tasks and not t.done()
        ]
        if pending:
            raise PropertyError(f"tasks left pending: {pending}")
    return outcomes


def fuzz_settings(examples: int, *, derandomize: bool) -> settings:
    """Settings for a bounded, optionally reproducible run."""
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=derandomize,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        print_blob=True,
    )


def main(argv: list[str] | None = None) -> int:
    """Run the fuzzer and print the outcomes by call and exception type (Markdown)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=1000)
    parser.add_argument(
        "--random", action="store_true", help="a random seed instead of a fixed one"
    )
    args = parser.parse_args(argv)
    table: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    count = 0

    @fuzz_settings(args.examples, derandomize=not args.random)
    @given(answer=answers, project_token=st.booleans())
    def check(answer: Answer, project_token: bool) -> None:
        nonlocal count
        count += 1
        for name, outcome in asyncio.run(run_example(answer, project_token=project_token)).items():
            table[name][outcome] += 1

    started = time.monotonic()
    check()
    took = time.monotonic() - started
    print(f"{count} examples, {count * len(CALLS)} calls, 0 property violations, {took:.0f}s\n")
    kinds = sorted({k for counter in table.values() for k in counter}, key=lambda k: (k != "ok", k))
    print("| outcome | " + " | ".join(CALLS) + " |")
    print("|---|" + "---:|" * len(CALLS))
    for kind in kinds:
        print(f"| {kind} | " + " | ".join(str(table[name][kind]) for name in CALLS) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
