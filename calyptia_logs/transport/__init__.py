"""The transport: how requests reach the API (auth, timeouts, retries, errors, pagination).

:mod:`~calyptia_logs.transport.core` holds the pure, I/O-free pieces;
:mod:`~calyptia_logs.transport.http` the thin aiohttp adapter built on them.
"""

from calyptia_logs.transport.core import (
    DEFAULT_BASE_URL,
    Credentials,
    RawResponse,
    ResponseInfo,
    check_base_url,
    resolve_credentials,
    user_agent,
)
from calyptia_logs.transport.http import DEFAULT_MAX_RESPONSE_SIZE, DEFAULT_TIMEOUT, Transport

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_RESPONSE_SIZE",
    "DEFAULT_TIMEOUT",
    "Credentials",
    "RawResponse",
    "ResponseInfo",
    "Transport",
    "check_base_url",
    "resolve_credentials",
    "user_agent",
]
