"""Where bulk commands write: JSON lines that survive interruption, and a file of failed IDs.

A bulk run (``fetch``, ``collect``) writes each item's lines in one ``write``
to a file opened for appending, so an interrupted run leaves complete lines,
at most the last one cut off. ``--resume`` reads such a file back: its
complete lines are kept and their items skipped, and the end of the file that
a cut might have touched (a cut line, and the lines of the item before it) is
dropped and fetched again. Interrupted and resumed any number of times, the
file holds the lines of one uninterrupted run: no duplicate, no loss.
"""

from __future__ import annotations

import os
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Final

from calyptia_logs.errors import CalyptiaError

__all__ = ["SHOWN_FAILURES", "FailedIDs", "Failures", "JsonLines"]

#: How many failed items a summary lists one by one (the rest are counted).
SHOWN_FAILURES: Final = 10


class JsonLines:
    """A JSON-lines output: a file (appended to with ``resume``) or stdout (``-``).

    Args:
        target: The file, or ``-`` for stdout.
        key: The field that names an item (``id`` of a log, ``logID`` of a record
            line, ``pipelineID`` for collect), read back on resume.
        resume: Keep the complete lines already there and skip their items.

    Raises:
        OSError: The file cannot be opened (the path is wrong: a usage error).
    """

    def __init__(self, target: Path, *, key: str, resume: bool) -> None:
        self.to_stdout = str(target) == "-"
        self.path = target
        self.done: set[str] = set()
        self._fd = -1
        if self.to_stdout:
            return
        if resume and target.exists():
            self.done = _resume(target, key)
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | (0 if resume else os.O_TRUNC)
        self._fd = os.open(target, flags, 0o644)

    def write(self, lines: list[bytes]) -> None:
        """Write one item's lines at once (one ``write`` call, as far as the OS allows).

        Raises:
            OSError: Writing failed (a full disk), with the file's name.
        """
        if not lines:
            return
        block = b"".join(line + b"\n" for line in lines)
        if self.to_stdout:
            sys.stdout.buffer.write(block)
            sys.stdout.buffer.flush()
            return
        data = memoryview(block)
        try:
            while data:
                data = data[os.write(self._fd, data) :]
        except OSError as exc:
            if exc.filename is None:
                raise OSError(exc.errno, exc.strerror, str(self.path)) from exc
            raise

    def close(self) -> None:
        """Close the file (stdout stays open)."""
        if not self.to_stdout:
            os.close(self._fd)


def _resume(path: Path, key: str) -> set[str]:
    """Read back a file of an interrupted run: the items done; the file cut to what counts."""
    data = path.read_bytes()
    keep = len(data)
    if not data.endswith(b"\n"):
        # Cut off mid-write: drop the cut line, and the lines of the item before it (the cut
        # may belong to that item's block of lines, which then is not whole).
        keep = data.rfind(b"\n") + 1
        last = _key_of(data[data.rfind(b"\n", 0, keep - 1) + 1 : keep], key) if keep else None
        while keep and last is not None:
            start = data.rfind(b"\n", 0, keep - 1) + 1
            if _key_of(data[start:keep], key) != last:
                break
            keep = start
    if keep != len(data):
        with path.open("r+b") as file:
            file.truncate(keep)
    done = set()
    for line in data[:keep].splitlines():
        value = _key_of(line, key)
        if value is not None:
            done.add(value)
    return done


def _key_of(line: bytes, key: str) -> str | None:
    match = re.search(rb'"' + re.escape(key.encode()) + rb'":\s*"([^"]{1,100})"', line)
    return None if match is None else match.group(1).decode("ascii", "replace")


class FailedIDs:
    """``--failed-ids FILE``: every failed ID, one per line, as ``--ids-file`` reads them back.

    Written as failures happen (and flushed), so an interrupted run keeps them too.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._file = None if path is None else path.open("w", encoding="utf-8")

    def add(self, item_id: object) -> None:
        """Record one failed ID (an input that is not a UUID is written as given, one line)."""
        if self._file is not None:
            self._file.write(str(item_id).replace("\n", " ").replace("\r", " ") + "\n")
            self._file.flush()

    def close(self) -> None:
        """Close the file."""
        if self._file is not None:
            self._file.close()


class Failures:
    """What a summary needs of the failed items, in constant memory: counts and the first few.

    A run of 100,000 failing items keeps ten of them, not 100,000.
    """

    def __init__(self) -> None:
        self.count = 0
        self.kinds: Counter[str] = Counter()
        self.first: list[tuple[object, CalyptiaError]] = []

    def add(self, item_id: object, error: CalyptiaError) -> None:
        """Count one failure; keep it if it is among the first few."""
        self.count += 1
        self.kinds[type(error).__name__] += 1
        if len(self.first) < SHOWN_FAILURES:
            self.first.append((item_id, error))

    def __bool__(self) -> bool:
        return self.count > 0

    def __len__(self) -> int:
        return self.count
