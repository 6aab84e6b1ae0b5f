"""The ``calyptia-logs`` commands, mirroring the Calyptia CLI's pipeline-log commands."""

from __future__ import annotations

import logging
import re
import shlex
import sys
import uuid
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, tzinfo
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
import orjson

from calyptia_logs import converter
from calyptia_logs.cli.output import FailedIDs, Failures, JsonLines
from calyptia_logs.cli.params import COUNT, LINES, Seconds, TextFile
from calyptia_logs.cli.records import LEVELS, SinceType, record_json, record_text, time_window
from calyptia_logs.cli.render import console, error_console, logs_table, print_failures
from calyptia_logs.cli.runtime import (
    EXIT_FAILED,
    EXIT_USAGE,
    Settings,
    fail,
    pass_settings,
    run,
)
from calyptia_logs.models import PipelineLogStatus
from calyptia_logs.records import filter_records, parse_records
from calyptia_logs.resources import CalyptiaClient
from calyptia_logs.transport.core import DEFAULT_BASE_URL

__all__ = ["cli"]

STATUSES = click.Choice([s.value for s in PipelineLogStatus], case_sensitive=False)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--token", envvar="CALYPTIA_CLOUD_TOKEN", help="User token [env CALYPTIA_CLOUD_TOKEN]."
)
@click.option(
    "--project-token",
    envvar="CALYPTIA_PROJECT_TOKEN",
    help="Project token [env CALYPTIA_PROJECT_TOKEN].",
)
@click.option(
    "--url",
    envvar="CALYPTIA_CLOUD_URL",
    help=f"API base URL [env CALYPTIA_CLOUD_URL; default {DEFAULT_BASE_URL}].",
)
@click.option(
    "--timeout",
    default=30.0,
    show_default=True,
    type=Seconds(3600),
    help="Seconds one attempt may take.",
)
@click.option(
    "--max-attempts",
    default=3,
    show_default=True,
    type=click.IntRange(1, 100),
    help="Attempts per call, the first included (1: no retries).",
)
@click.option(
    "--allow-insecure-http",
    is_flag=True,
    help="Allow plain http:// to a host that is not this machine (the token crosses in clear).",
)
@click.option(
    "--proxy",
    envvar="CALYPTIA_PROXY",
    help="Forward proxy, http://[user:password@]host:port [env CALYPTIA_PROXY; "
    "default: HTTPS_PROXY / HTTP_PROXY, NO_PROXY].",
)
@click.option(
    "--ca-bundle",
    type=click.Path(dir_okay=False),
    help="PEM file of CAs to trust instead of the system's.  [default: SSL_CERT_FILE]",
)
@click.option("--debug", is_flag=True, help="Show tracebacks and the retry log.")
@click.version_option(package_name="calyptia-logs")
@click.pass_context
def cli(
    ctx: click.Context,
    token: str | None,
    project_token: str | None,
    url: str | None,
    timeout: float,
    max_attempts: int,
    allow_insecure_http: bool,
    proxy: str | None,
    ca_bundle: str | None,
    debug: bool,
) -> None:
    """Work with Calyptia Cloud pipeline logs: get, records, list, create, update, delete, watch,
    fetch.

    Exit codes: 0 success, 1 an API call (or a bulk item) failed, 2 a mistake in the
    command or its configuration, 130 interrupted.
    """  # noqa: D205 - click shows this as the help text
    if token and project_token:
        sources = {name: ctx.get_parameter_source(name) for name in ("token", "project_token")}
        explicit = [
            name
            for name, source in sources.items()
            if source is click.core.ParameterSource.COMMANDLINE
        ]
        if len(explicit) == 2:
            raise click.UsageError("give --token or --project-token, not both")
        if explicit == ["project_token"]:
            token = None  # an explicit --project-token wins over CALYPTIA_CLOUD_TOKEN
        elif explicit == ["token"]:
            project_token = None  # and --token over CALYPTIA_PROJECT_TOKEN
        else:
            raise click.UsageError(
                "both CALYPTIA_CLOUD_TOKEN and CALYPTIA_PROJECT_TOKEN are set; unset one, "
                "or pass --token or --project-token"
            )
    if debug:
        logging.basicConfig(level=logging.DEBUG, format="%(asctime)s %(name)s %(message)s")
    ctx.obj = Settings(
        token=token,
        project_token=project_token,
        url=url,
        timeout=timeout,
        max_attempts=max_attempts,
        allow_insecure_http=allow_insecure_http,
        proxy=proxy,
        ca_bundle=ca_bundle,
        debug=debug,
    )


@cli.command()
@click.argument("log_id")
@click.option("--json", "as_json", is_flag=True, help="Print the whole object as JSON.")
@pass_settings
def get(settings: Settings, log_id: str, as_json: bool) -> None:
    """Print a pipeline log's text (or, with --json, the whole object)."""

    async def go() -> None:
        async with settings.client() as client:
            log = await client.pipeline_logs.get(log_id)
        if as_json:
            click.echo(orjson.dumps(converter.unstructure(log), option=orjson.OPT_INDENT_2))
            return
        if log.status is not PipelineLogStatus.DONE:
            error_console.print(
                f"pipeline log {log.id} is still {log.status}: the cluster has not filled it "
                "yet (wait with create --wait, or watch the pipeline)",
                highlight=False,
                soft_wrap=True,
            )
        sys.stdout.write(log.logs)

    run(go(), debug=settings.debug)


@cli.command()
@click.argument("log_id")
@click.option("--min-level", type=LEVELS, help="Only records at least this severe.")
@click.option("--component", help="Only records whose component matches this glob (output:es:*).")
@click.option(
    "--since", type=SinceType(), help="Only records since a time, or a duration ago (15m, 2h)."
)
@click.option(
    "--until", type=SinceType(), help="Only records before a time, or a duration ago (15m, 2h)."
)
@click.option("--grep", "pattern", help="Only records whose message matches this regex.")
@click.option("--tz", "zone", default="UTC", show_default=True, help="The zone of the log's times.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines instead of the records.")
@pass_settings
def records(
    settings: Settings,
    log_id: str,
    min_level: str | None,
    component: str | None,
    since: Any,
    until: Any,
    pattern: str | None,
    zone: str,
    as_json: bool,
) -> None:
    """Print a pipeline log's Fluent Bit records, filtered; levels coloured in a terminal."""
    tz = _zone(zone)
    start, end = time_window(since, until, tz)  # refused here, before any request, if empty
    try:
        grep = re.compile(pattern) if pattern is not None else None
    except re.error as exc:
        fail(f"--grep: invalid regular expression: {exc}", EXIT_USAGE)

    async def go() -> None:
        async with settings.client() as client:
            log = await client.pipeline_logs.get(log_id)
        if log.status is not PipelineLogStatus.DONE:
            error_console.print(f"pipeline log {log_id} is still {log.status}: no records yet")
        found = filter_records(
            parse_records(log.logs, tz=tz),
            min_level=min_level,
            component=component,
            since=start,
            until=end,
            grep=grep,
        )
        for record in found:
            if as_json:
                click.echo(record_json(record, log))
            else:
                console.print(record_text(record), soft_wrap=True)

    run(go(), debug=settings.debug)


def _zone(name: str) -> tzinfo:
    """``--tz``: an IANA zone name (``Europe/Berlin``) or ``UTC``."""
    if name.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        fail(f"--tz: unknown time zone {name!r} (an IANA name such as Europe/Berlin)", EXIT_USAGE)


@cli.command(name="list")
@click.option("--pipeline", "pipeline_id", required=True, help="The pipeline's ID.")
@click.option("--last", type=COUNT, help="Show at most this many.")
@click.option("--status", type=STATUSES, help="Only this status.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines instead of a table.")
@pass_settings
def list_(
    settings: Settings, pipeline_id: str, last: int | None, status: str | None, as_json: bool
) -> None:
    """List a pipeline's log requests, newest first: ID, STATUS, LINES, AGE."""

    async def go() -> None:
        async with settings.client() as client:
            logs = []
            async for log in client.pipeline_logs.iter(
                pipeline_id, status=status and status.upper(), page_size=min(last or 100, 100)
            ):
                logs.append(log)
                if last is not None and len(logs) >= last:
                    break
        if as_json:
            for log in logs:
                click.echo(converter.dumps(log))
        else:
            console.print(logs_table(logs))

    run(go(), debug=settings.debug)


@cli.command()
@click.option("--pipeline", "pipeline_id", required=True, help="The pipeline's ID.")
@click.option(
    "--lines",
    default=100,
    show_default=True,
    type=LINES,
    help="How many lines to ask for (the embedded fake-server gives at most 10,000).",
)
@click.option("--wait", is_flag=True, help="Wait until the cluster fills it, then print the logs.")
@click.option(
    "--wait-timeout", default=60.0, show_default=True, type=Seconds(), help="Seconds to wait."
)
@pass_settings
def create(
    settings: Settings, pipeline_id: str, lines: int, wait: bool, wait_timeout: float
) -> None:
    """Request the last N log lines of a pipeline; prints the new ID."""

    async def go() -> None:
        async with settings.client() as client:
            created = await client.pipeline_logs.create(pipeline_id, lines=lines)
            click.echo(str(created.id))
            if wait:
                log = await client.pipeline_logs.wait_until_done(created.id, timeout=wait_timeout)
                sys.stdout.write(log.logs)

    run(go(), debug=settings.debug)


@cli.command()
@click.argument("log_id")
@click.option("--status", type=STATUSES, help="New status.")
@click.option("--lines", type=LINES, help="New number of lines.")
@click.option(
    "--logs-file",
    type=TextFile(),
    help="Read the new log text from this UTF-8 file ('-': stdin).",
)
@pass_settings
def update(
    settings: Settings,
    log_id: str,
    status: str | None,
    lines: int | None,
    logs_file: str | None,
) -> None:
    """Change a pipeline log's status, lines or text; prints when it was updated."""
    if status is None and lines is None and logs_file is None:
        fail("nothing to update: give --status, --lines or --logs-file", EXIT_USAGE)
    logs = logs_file

    async def go() -> None:
        async with settings.client() as client:
            updated = await client.pipeline_logs.update(
                log_id, status=status and status.upper(), lines=lines, logs=logs
            )
        click.echo(f"updated {log_id} at {converter.format_datetime(updated.updated_at)}")

    run(go(), debug=settings.debug)


@cli.command()
@click.argument("log_id")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_settings
def delete(settings: Settings, log_id: str, yes: bool) -> None:
    """Delete a pipeline log (asks first, unless -y; declining exits 1 and deletes nothing)."""
    if not yes and not sys.stdin.isatty():
        # cron, CI, `< /dev/null`: nobody can answer, and that is no Ctrl-C (130).
        fail("no terminal to confirm the delete on: pass -y to delete without asking", EXIT_USAGE)
    if not yes and not click.confirm(f"Delete pipeline log {log_id}?", err=True):
        fail(f"not deleted: {log_id} (declined)")

    async def go() -> None:
        async with settings.client() as client:
            gone = await client.pipeline_logs.delete(log_id)
        click.echo(f"deleted {log_id}" if gone.deleted else f"{log_id} was not deleted")

    run(go(), debug=settings.debug)


@cli.command()
@click.option("--pipeline", "pipeline_id", required=True, help="The pipeline's ID.")
@click.option(
    "--interval", type=Seconds(3600), help="Seconds between polls [default: the server's hint]."
)
@click.option(
    "--duration", type=Seconds(10**7), help="Stop after this many seconds [default: never]."
)
@click.option("--existing", is_flag=True, help="Also print the DONE logs there already.")
@click.option("--min-level", type=LEVELS, help="Print only records at least this severe.")
@pass_settings
def watch(
    settings: Settings,
    pipeline_id: str,
    interval: float | None,
    duration: float | None,
    existing: bool,
    min_level: str | None,
) -> None:
    """Poll a pipeline and print each new DONE log once, as it arrives."""
    from calyptia_logs.cli.jobs import watch_pipeline  # noqa: PLC0415

    async def go() -> None:
        async with settings.client() as client:
            await watch_pipeline(
                client,
                pipeline_id,
                interval=interval,
                duration=duration,
                existing=existing,
                emit=click.echo,
                min_level=min_level,
                emit_record=lambda record: console.print(record_text(record), soft_wrap=True),
            )

    run(go(), debug=settings.debug)


def bulk_output_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options ``fetch`` and ``collect`` share: output, resume, failed IDs, level, width."""
    options = [
        click.option(
            "--jsonl",
            "jsonl_file",
            type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
            help="Write one JSON object per log to FILE ('-': stdout).",
        ),
        click.option(
            "--resume",
            is_flag=True,
            help="Keep the complete lines already in the --jsonl FILE, skip their items, append "
            "the rest (after an interrupted run).",
        ),
        click.option(
            "--failed-ids",
            "failed_ids_file",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Write every failed ID to FILE, one per line (read back by --ids-file or "
            "--pipelines-file).",
        ),
        click.option(
            "--concurrency", default=16, show_default=True, type=click.IntRange(1, 10_000)
        ),
        click.option(
            "--min-level",
            type=LEVELS,
            help="Write only the records at least this severe: JSON lines of records (log ID, "
            "pipeline ID, record fields).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def distinct_ids(ids: list[str]) -> tuple[list[str], int]:
    """The IDs once each (``3FA8...`` and ``3fa8...`` are one), in order; and how many repeats."""
    unique: dict[str, str] = {}
    for raw in ids:
        try:
            key = str(uuid.UUID(raw))
        except ValueError:
            key = raw  # not a UUID: kept, and reported as that item's error
        unique.setdefault(key, raw)
    kept = list(unique.values())
    return kept, len(ids) - len(kept)


def _open_jsonl(jsonl_file: Path, key: str, resume: bool) -> JsonLines:
    if resume and str(jsonl_file) == "-":
        raise click.UsageError("--resume needs a --jsonl FILE to read back, not '-'")
    try:
        return JsonLines(jsonl_file, key=key, resume=resume)
    except OSError as exc:
        fail(f"--jsonl: cannot use {jsonl_file}: {exc.strerror or exc}", EXIT_USAGE)


def _report(
    failures: Failures, *, total: int, repeats: int, skipped: int, failed_ids: Path | None
) -> None:
    """The end of a bulk run on stderr: repeats and resumed items, then any failures (exit 1)."""
    if repeats:
        error_console.print(f"{repeats} repeated IDs fetched once")
    if skipped:
        error_console.print(f"{skipped} already in the output (--resume): skipped")
    if failures:
        print_failures(failures, total=total, failed_ids=failed_ids)
        raise SystemExit(EXIT_FAILED)


@cli.command()
@click.argument("ids", nargs=-1)
@click.option(
    "--ids-file",
    type=TextFile(),
    help="Read IDs from this UTF-8 file, one per line; blank lines and # comments are skipped "
    "('-': stdin).",
)
@click.option("--pipeline", "pipeline_id", help="Fetch the logs this pipeline lists.")
@click.option("--status", type=STATUSES, help="With --pipeline: only logs with this status.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write each log's text to DIR/<id>.log. One of --out and --jsonl is required.",
)
@bulk_output_options
@pass_settings
def fetch(
    settings: Settings,
    ids: tuple[str, ...],
    ids_file: str | None,
    pipeline_id: str | None,
    status: str | None,
    out_dir: Path | None,
    jsonl_file: Path | None,
    resume: bool,
    failed_ids_file: Path | None,
    concurrency: int,
    min_level: str | None,
) -> None:
    """Fetch many pipeline logs concurrently, with a progress bar; exit 1 if any failed.

    IDs come as arguments, from --ids-file, or from a pipeline's list (--pipeline); the output
    is --out DIR or --jsonl FILE.
    """
    from calyptia_logs.cli.jobs import fetch_to  # noqa: PLC0415

    if (out_dir is None) == (jsonl_file is None):
        raise click.UsageError("give exactly one of --out DIR or --jsonl FILE")
    if sum((bool(ids), ids_file is not None, pipeline_id is not None)) != 1:
        raise click.UsageError("give IDs as arguments, with --ids-file or with --pipeline (one)")
    if status is not None and pipeline_id is None:
        raise click.UsageError("--status goes with --pipeline")
    if resume and jsonl_file is None:
        raise click.UsageError("--resume reads back a --jsonl FILE")
    if out_dir is not None:
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            fail(f"--out: cannot create {out_dir}: {exc.strerror or exc}", EXIT_USAGE)
    jsonl = None if jsonl_file is None else _open_jsonl(
        jsonl_file, "id" if min_level is None else "logID", resume
    )

    async def job(client: CalyptiaClient, failed_ids: FailedIDs) -> tuple[Failures, Counts]:
        if pipeline_id is not None:
            found = client.pipeline_logs.iter(pipeline_id, status=status and status.upper())
            listed = [str(log.id) async for log in found]
        else:
            listed = list(ids) if ids else read_ids((ids_file or "").splitlines())
        todo, counts = _pending(listed, jsonl)
        failures = await fetch_to(
            client,
            todo,
            out_dir=out_dir,
            jsonl=jsonl,
            concurrency=concurrency,
            min_level=min_level,
            failed_ids=failed_ids,
        )
        return failures, counts

    _run_bulk(settings, concurrency, jsonl, failed_ids_file, job)


@cli.command()
@click.option("--pipeline", "pipelines", multiple=True, help="A pipeline's ID (repeatable).")
@click.option(
    "--pipelines-file",
    type=TextFile(),
    help="Read pipeline IDs from this UTF-8 file, one per line; blank lines and # comments are "
    "skipped ('-': stdin).",
)
@click.option("--lines", default=100, show_default=True, type=LINES, help="Lines per pipeline.")
@click.option("--delete-after", is_flag=True, help="Delete each log request once read.")
@bulk_output_options
@pass_settings
def collect(
    settings: Settings,
    pipelines: tuple[str, ...],
    pipelines_file: str | None,
    lines: int,
    delete_after: bool,
    jsonl_file: Path | None,
    resume: bool,
    failed_ids_file: Path | None,
    concurrency: int,
    min_level: str | None,
) -> None:
    """Ask many pipelines for their last logs, wait until filled, write them; exit 1 on failures.

    One JSON line per pipeline's log (or, with --min-level, per matching record), as they are
    ready, with a progress bar. --delete-after removes each request once read.
    """
    from calyptia_logs.cli.jobs import collect_to  # noqa: PLC0415

    if jsonl_file is None:
        raise click.UsageError("give --jsonl FILE (or '-' for stdout)")
    if bool(pipelines) == (pipelines_file is not None):
        raise click.UsageError("give --pipeline IDs or --pipelines-file, not both and not neither")
    listed = list(pipelines) if pipelines else read_ids((pipelines_file or "").splitlines())
    jsonl = _open_jsonl(jsonl_file, "pipelineID", resume)
    todo, counts = _pending(listed, jsonl)

    async def job(client: CalyptiaClient, failed_ids: FailedIDs) -> tuple[Failures, Counts]:
        failures = await collect_to(
            client,
            todo,
            jsonl=jsonl,
            lines=lines,
            concurrency=concurrency,
            delete_after=delete_after,
            min_level=min_level,
            failed_ids=failed_ids,
        )
        return failures, counts

    _run_bulk(settings, concurrency, jsonl, failed_ids_file, job)


#: What a bulk run reports besides its failures: total, repeats, skipped (resumed).
Counts = dict[str, int]


def _pending(listed: list[str], jsonl: JsonLines | None) -> tuple[list[str], Counts]:
    """The distinct IDs still to do (not already in a resumed output), and the counts."""
    source, repeats = distinct_ids(listed)
    done = jsonl.done if jsonl is not None else set()
    todo = [item for item in source if _canonical(item) not in done]
    return todo, {"total": len(source), "repeats": repeats, "skipped": len(source) - len(todo)}


def _run_bulk(
    settings: Settings,
    concurrency: int,
    jsonl: JsonLines | None,
    failed_ids_file: Path | None,
    job: Callable[[CalyptiaClient, FailedIDs], Awaitable[tuple[Failures, Counts]]],
) -> None:
    """Run a bulk command's job with a client, close its files, report; exit 1 on failures."""
    failed_ids = FailedIDs(failed_ids_file)

    async def go() -> tuple[Failures, Counts]:
        async with settings.client(connector_limit=max(100, concurrency)) as client:
            return await job(client, failed_ids)

    try:
        failures, counts = run(go(), debug=settings.debug)
    finally:
        failed_ids.close()
        if jsonl is not None:
            jsonl.close()
    _report(failures, failed_ids=failed_ids_file, **counts)


def _canonical(item_id: str) -> str:
    try:
        return str(uuid.UUID(item_id))
    except ValueError:
        return item_id


def read_ids(lines: Iterable[str]) -> list[str]:
    """IDs from a file, one per line: blank lines and ``#`` comments (whole or trailing) skipped."""
    ids = []
    for line in lines:
        text = line.split("#", 1)[0].strip()
        if text:
            ids.append(text)
    return ids


@cli.command(name="fake-server")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--token", "tokens", multiple=True, default=["fake-token"], show_default=True)
@click.option(
    "--seed-logs",
    default=30,
    show_default=True,
    type=click.IntRange(0, 1_000_000),
    help="DONE logs to seed, spread over the pipelines.",
)
@click.option("--pipelines", default=1, show_default=True, type=click.IntRange(1, 1000))
@click.option(
    "--fill-delay",
    default=1.0,
    show_default=True,
    type=Seconds(3600, zero=True),
    help="Seconds until NEW is DONE.",
)
@click.option(
    "--fault-rate",
    default=0.0,
    show_default=True,
    type=click.FloatRange(0, 1),
    help="Share of GETs failed with transient faults (503s, resets, cut bodies).",
)
@click.option(
    "--rate-limit",
    default=None,
    type=click.FloatRange(0, 1_000_000, min_open=True),
    help="Requests per second per token; over it: 429 with Retry-After.  [default: no limit]",
)
@click.option(
    "--rate-burst",
    default=None,
    type=click.FloatRange(1, 1_000_000),
    help="Requests a token may send at once.  [default: one second's worth]",
)
@click.option(
    "--seed",
    default=0,
    show_default=True,
    type=click.IntRange(0, 2**32 - 1),
    help="Seeds data and faults.",
)
def fake_server(
    host: str,
    port: int,
    tokens: tuple[str, ...],
    seed_logs: int,
    pipelines: int,
    fill_delay: float,
    fault_rate: float,
    rate_limit: float | None,
    rate_burst: float | None,
    seed: int,
) -> None:
    """Serve the embedded fake Calyptia Cloud, for trying things without an account."""
    from calyptia_logs.testing import FakeCalyptiaCloud, serve_forever  # noqa: PLC0415
    from calyptia_logs.testing.fake import EXAMPLE_PIPELINE_ID  # noqa: PLC0415

    fake = FakeCalyptiaCloud(
        tokens=tokens,
        project_tokens=tokens,
        fill_delay=fill_delay,
        seed=seed,
        record_limit=1000,
        rate_limit=rate_limit,
        rate_burst=rate_burst,
    )
    if fault_rate:
        fake.inject_transient_faults(fault_rate, seed=seed)
    for index in range(pipelines):
        # The first is the pipeline of the docs' examples: they run against this as written.
        pipeline = fake.add_pipeline(EXAMPLE_PIPELINE_ID if index == 0 else None)
        share = seed_logs // pipelines + (1 if index < seed_logs % pipelines else 0)
        fake.seed_logs(pipeline, share)
        note = " (the docs' examples use this one)" if index == 0 else ""
        click.echo(f"pipeline {pipeline}: {share} logs{note}")
    try:
        run(serve_forever(fake, host=host, port=port, announce=_announce))
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}", EXIT_USAGE)


def _announce(base_url: str, token: str) -> None:
    """Say where the fake listens, in a form a client can connect to and paste."""
    parts = urlsplit(base_url)
    host = parts.hostname or "127.0.0.1"
    # A wildcard address is where the server listens, not where a client connects.
    if host in ("0.0.0.0", "::"):  # noqa: S104 - compared, not bound
        host = "127.0.0.1" if host == "0.0.0.0" else "[::1]"  # noqa: S104
    elif ":" in host:
        host = f"[{host}]"
    url = f"{parts.scheme}://{host}:{parts.port}"
    click.echo(f"fake Calyptia Cloud listening on {url} (token: {token})")
    click.echo(f"export CALYPTIA_CLOUD_URL={url} CALYPTIA_CLOUD_TOKEN={shlex.quote(token)}")


@cli.command()
@click.option(
    "--logs",
    "count",
    default=3000,
    show_default=True,
    type=click.IntRange(1, 100_000),
    help="Logs to bulk-fetch.",
)
@click.option("--concurrency", default=64, show_default=True, type=click.IntRange(1, 1000))
@click.option("--fault-rate", default=0.15, show_default=True, type=click.FloatRange(0, 0.9))
@pass_settings
def demo(settings: Settings, count: int, concurrency: int, fault_rate: float) -> None:
    """Tour the library against the embedded fake: no account, no network."""
    from calyptia_logs.cli.demo import run_demo  # noqa: PLC0415

    failed = run(
        run_demo(count=count, concurrency=concurrency, fault_rate=fault_rate), debug=settings.debug
    )
    if failed:
        raise SystemExit(EXIT_FAILED)
