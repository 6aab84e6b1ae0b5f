"""How every command runs: its settings, its client, its one-line failures and exit codes.

Exit codes: 0 success, 1 an API call (or a bulk item) failed, 2 a mistake in the
command or its configuration, 130 interrupted. Nothing a user can cause ends in
a traceback unless ``--debug`` is given.
"""

from __future__ import annotations

import asyncio
import errno
from collections.abc import Callable, Coroutine
from typing import Any, Final, NoReturn, TypeVar
from urllib.parse import urlsplit

import click
from rich.text import Text

from calyptia_logs.cli.render import closed_pipe, error_console
from calyptia_logs.errors import CalyptiaError, InvalidIDError
from calyptia_logs.resources import CalyptiaClient
from calyptia_logs.retry import RetryPolicy
from calyptia_logs.transport.core import DEFAULT_BASE_URL, is_loopback

__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_USAGE",
    "Settings",
    "closed_pipe",
    "fail",
    "pass_settings",
    "run",
]

T = TypeVar("T")
#: Exit codes: 1 an API call or a bulk item failed, 2 bad usage or configuration, 130 interrupted.
EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 1, 2, 130


class Settings:
    """The global options, and how to build a client from them."""

    def __init__(
        self,
        *,
        token: str | None,
        project_token: str | None,
        url: str | None,
        timeout: float,
        allow_insecure_http: bool,
        debug: bool,
        proxy: str | None = None,
        ca_bundle: str | None = None,
        max_attempts: int = 3,
    ) -> None:
        self.token = token
        self.project_token = project_token
        self.url = url
        self.timeout = timeout
        self.allow_insecure_http = allow_insecure_http
        self.proxy = proxy
        self.ca_bundle = ca_bundle
        self.max_attempts = max_attempts
        self.debug = debug

    def client(self, **kwargs: Any) -> CalyptiaClient:
        """Build a client; a configuration problem exits 2 with one line in the CLI's words."""
        if not (self.token or self.project_token):
            fail(
                "no credentials: pass --token (or --project-token), or set "
                "CALYPTIA_CLOUD_TOKEN (or CALYPTIA_PROJECT_TOKEN)",
                EXIT_USAGE,
            )
        url = self.url or DEFAULT_BASE_URL
        parts = urlsplit(url.strip())
        if (
            parts.scheme == "http"
            and parts.hostname
            and not self.allow_insecure_http
            and not is_loopback(parts.hostname)
        ):
            fail(
                f"refusing to send the token over plain http to {parts.hostname}; "
                "use https, or pass --allow-insecure-http if you really mean it",
                EXIT_USAGE,
            )
        kwargs.setdefault("retry", RetryPolicy(max_attempts=self.max_attempts))
        try:
            return CalyptiaClient(
                token=self.token,
                project_token=self.project_token,
                base_url=url,
                timeout=self.timeout,
                allow_insecure_http=self.allow_insecure_http,
                proxy=self.proxy,
                ssl=self.ca_bundle,
                **kwargs,
            )
        except ValueError as exc:
            text = str(exc)
            flag = next((f for key, f in _OPTION_OF.items() if key in text), None)
            fail(f"{flag}: {text}" if flag else text, EXIT_USAGE)


#: Which flag a configuration error from the client is about, by the words it uses.
_OPTION_OF = {"base_url": "--url", "proxy must": "--proxy", "CA bundle": "--ca-bundle"}


#: Errors of a device, not of the path given: a full disk is a failure (1), not a mistake (2).
_DEVICE_ERRORS: Final = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EFBIG, errno.EROFS})


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    """Print ``error: message`` on stderr (as plain text, never markup) and exit with ``code``."""
    error_console.print(Text.assemble(("error:", "bold red"), " ", message), soft_wrap=True)
    raise SystemExit(code)


def run(coro: Coroutine[Any, Any, T], *, debug: bool = False) -> T:
    """Run a command's coroutine (on uvloop when installed); errors become one line and a code.

    Exit codes: 1 an API call failed, 2 a mistake in the command (an ID that is
    not a UUID, a number out of range, a file that cannot be written), 130
    interrupted. Anything unexpected is one line too, with a hint to ``--debug``.
    """
    try:
        import uvloop  # noqa: PLC0415 - optional speedup

        loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = uvloop.new_event_loop
    except ImportError:
        loop_factory = None
    try:
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            return runner.run(coro)
    except KeyboardInterrupt:
        error_console.print("interrupted")
        raise SystemExit(EXIT_INTERRUPTED) from None
    except BrokenPipeError:
        closed_pipe()
    except Exception as exc:
        if debug:
            raise
        if isinstance(exc, InvalidIDError | ValueError | TypeError):
            fail(str(exc), EXIT_USAGE)  # the caller's mistake, found before anything was sent
        if isinstance(exc, CalyptiaError):
            fail(str(exc))
        if isinstance(exc, OSError):
            where = f" {exc.filename}" if exc.filename else ""
            if exc.errno in _DEVICE_ERRORS:  # the path was right; writing to it failed
                fail(f"cannot write{where}: {exc.strerror or exc}")
            fail(f"cannot use{where}: {exc.strerror or exc}", EXIT_USAGE)
        fail(f"unexpected {type(exc).__name__}: {exc} (run with --debug for the traceback)")


pass_settings: Callable[[Callable[..., Any]], Callable[..., Any]] = click.make_pass_decorator(
    Settings
)
