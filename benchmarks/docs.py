"""Writing benchmark figures into docs/benchmarks.md, each command its own section.

``python -m benchmarks`` writes the page's head (the CPU-time table); the other
commands each own a section between ``<!-- section:NAME -->`` and
``<!-- /section:NAME -->``, replaced in place (or appended) when they write.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
#: Where the sections of other commands begin; the head's writer keeps everything from here.
SECTIONS = "<!-- section:"


def write_section(name: str, text: str) -> None:
    """Put ``text`` in section ``name`` of docs/benchmarks.md."""
    begin, end = f"<!-- section:{name} -->", f"<!-- /section:{name} -->"
    block = f"{begin}\n\n{text.strip()}\n\n{end}"
    old = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.DOTALL)
    new = (
        pattern.sub(lambda _: block, old) if pattern.search(old) else f"{old.rstrip()}\n\n{block}\n"
    )
    DOC.write_text(new)
    print(f"\nwritten to {DOC.relative_to(ROOT)} (section {name})")


def kept_sections() -> str:
    """The sections the head's writer must keep, from the first section marker on."""
    old = DOC.read_text() if DOC.exists() else ""
    return old[old.index(SECTIONS) :] if SECTIONS in old else ""
