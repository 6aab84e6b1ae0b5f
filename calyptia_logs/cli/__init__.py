"""The ``calyptia-logs`` command line (an optional extra: ``pip install 'calyptia-logs[cli]'``)."""

from __future__ import annotations

import os
import sys

__all__ = ["main"]


def main() -> None:
    """Run the ``calyptia-logs`` command; explain how to install the extra if it is missing."""
    try:
        from calyptia_logs.cli.commands import cli  # noqa: PLC0415 - click and rich are optional
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        missing = exc.name or "a dependency"
        sys.stderr.write(
            f"calyptia-logs: the command line needs {missing}, which is not installed.\n"
            "Install it with:  pip install 'calyptia-logs[cli]'\n"
        )
        raise SystemExit(2) from None
    try:
        cli()
    except BrokenPipeError:
        # The reader went away (| head): that ends the output, quietly and successfully.
        # stdout is pointed at devnull so that the interpreter's own final flush cannot
        # fail again (the recipe in Python's signal module documentation).
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise SystemExit(0) from None
