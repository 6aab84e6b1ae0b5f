"""The strict aioresponses of :mod:`calyptia_logs.testing.mocking`, for this suite's fixtures.

CI runs the mocked suites on aiohttp 3.13 (aioresponses 0.7.9 cannot build
responses on aiohttp 3.14); elsewhere :data:`AIORESPONSES_SKIP` says why they skip.
"""

from __future__ import annotations

from calyptia_logs.testing.mocking import (
    UnmatchedRequestError,
    aioresponses_problem,
    strict_aioresponses,
)

__all__ = ["AIORESPONSES_SKIP", "UnmatchedRequestError", "strict_aioresponses"]

AIORESPONSES_SKIP = aioresponses_problem()
