"""Print pip constraints pinning every declared dependency to its floor (``>=X`` -> ``==X``).

CI installs the package and its test extra with these, so that the floors in
pyproject.toml are versions the suite passes with, not wishes.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

project = tomllib.loads(Path(sys.argv[1] if len(sys.argv) > 1 else "pyproject.toml").read_text())[
    "project"
]
wanted = [*project["dependencies"], *project["optional-dependencies"]["test"]]
wanted += project["optional-dependencies"]["cli"]
for requirement in wanted:
    match = re.match(r"^([A-Za-z0-9_.\[\]-]+?)(\[[^\]]*\])?\s*>=\s*([^,;\s]+)(.*)$", requirement)
    if match and not match.group(1).startswith("calyptia-logs"):
        marker = match.group(4).strip()
        print(f"{match.group(1)}=={match.group(3)}{' ' + marker if marker.startswith(';') else ''}")
