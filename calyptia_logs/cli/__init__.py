"""The ``calyptia-logs`` command line (an optional extra: ``pip install 'calyptia-logs[cli]'``)."""

from __future__ import annotations

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
    import click  # noqa: PLC0415 - installed with the extra, like the commands

    try:
        # Not click's standalone mode: that exits 1 on a closed pipe, and we own every ending.
        cli.main(standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        raise SystemExit(exc.exit_code) from None
    except click.exceptions.Exit as exc:
        raise SystemExit(exc.exit_code) from None
    except (click.exceptions.Abort, KeyboardInterrupt):
        sys.stderr.write("interrupted\n")
        raise SystemExit(130) from None
    except BrokenPipeError:  # written outside a command's run(): the same quiet ending
        from calyptia_logs.cli.runtime import closed_pipe  # noqa: PLC0415

        closed_pipe()
