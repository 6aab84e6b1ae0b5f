"""``python -m calyptia_logs.cli``: the same as the ``calyptia-logs`` command."""

from calyptia_logs.cli import main

main()
