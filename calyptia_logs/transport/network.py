"""Where connections go: the proxy (explicit, or from the environment) and the TLS trust.

Pure functions, read once when a client is made. The environment is honoured
as requests, httpx and curl do: ``HTTPS_PROXY`` / ``HTTP_PROXY`` (lowercase
wins), ``NO_PROXY`` (``*``, host names and domain suffixes, with or without a
port), and a CA bundle from ``SSL_CERT_FILE`` / ``SSL_CERT_DIR``. aiohttp's own
``trust_env`` is not used: it also reads ``~/.netrc`` for every request (in a
thread, and a netrc entry for the API host would clash with the token), and its
default TLS context is built at import time, before ``SSL_CERT_FILE`` could count.

A proxy URL's ``user:password`` is taken out of the URL at once: it is sent as
``Proxy-Authorization`` to the proxy only, and never appears in a message or repr.
"""

from __future__ import annotations

import base64
import ipaddress
import os
import ssl as _ssl
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple
from urllib.parse import unquote, urlsplit

__all__ = ["Proxy", "bypasses_proxy", "resolve_proxy", "resolve_ssl"]

#: What ``ssl=`` accepts: a context, or the path of a CA bundle (PEM).
SSLOption = _ssl.SSLContext | str | os.PathLike[str]


class Proxy(NamedTuple):
    """A forward proxy: its URL without credentials, and the credentials apart.

    A named tuple rather than an attrs class: it is defined when the client is
    imported, and attrs' generated methods cost more than the rest of this module.

    Attributes:
        url: ``http://host:port`` (or ``https://``), never with ``user:password@``.
        username: The proxy user, if the URL had one.
        password: The proxy password, if the URL had one.
    """

    url: str
    username: str | None = None
    password: str | None = None

    def __repr__(self) -> str:
        auth = ", auth=<redacted>" if self.username is not None else ""
        return f"Proxy({self.url!r}{auth})"

    def headers(self) -> dict[str, str] | None:
        """The headers for the proxy alone: ``Proxy-Authorization`` (Basic), if credentials."""
        if self.username is None:
            return None
        pair = f"{self.username}:{self.password or ''}"
        try:
            raw = pair.encode("latin-1")  # RFC 7617's default, what proxies expect
        except UnicodeEncodeError:
            raw = pair.encode()
        return {"Proxy-Authorization": "Basic " + base64.b64encode(raw).decode("ascii")}

    @property
    def secrets(self) -> tuple[str, ...]:
        """What must never be shown: the password (and the user:password pair)."""
        if not self.password:
            return ()
        headers = self.headers() or {}
        return (
            self.password,
            f"{self.username}:{self.password}",
            *(value.removeprefix("Basic ") for value in headers.values()),
        )


def bypasses_proxy(host: str, port: int | None, no_proxy: str) -> bool:
    """Whether ``NO_PROXY`` exempts ``host``: ``*``, a name or domain suffix, an IP or CIDR.

    Entries are comma-separated; a leading dot is optional (``example.com`` and
    ``.example.com`` both exempt ``api.example.com``); an entry with ``:port``
    exempts that port only. Written here rather than taken from
    ``urllib.request.proxy_bypass_environment``, which matches names and
    suffixes only: it knows no IP networks (``10.0.0.0/8``), as curl and httpx do.
    """
    host = host.strip("[]").rstrip(".").lower()
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    for raw in no_proxy.split(","):
        entry = raw.strip().lower()
        if not entry:
            continue
        if entry == "*":
            return True
        entry_port = None
        if entry.count(":") == 1 or (entry.startswith("[") and "]:" in entry):
            entry, _, port_text = entry.rpartition(":")
            entry_port = int(port_text) if port_text.isdigit() else -1
        if entry_port is not None and entry_port != port:
            continue
        entry = entry.strip("[]").lstrip(".").rstrip(".")
        if address is not None:
            try:
                if address in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                pass
            continue
        if host == entry or host.endswith("." + entry):
            return True
    return False


def _parse_proxy(value: str) -> Proxy:
    """Split a proxy URL into its credential-free URL and its credentials.

    Raises:
        ValueError: Not an http(s) URL with a host (the message never shows credentials).
    """
    raw = value.strip()
    if "://" not in raw:
        raw = f"http://{raw}"  # as curl and requests read "proxy:3128"
    try:
        parts = urlsplit(raw)
        host, port = parts.hostname, parts.port
        if host is not None:
            host.encode("idna")  # a label no DNS name can have ("not a proxy") raises
    except (ValueError, UnicodeError):
        host = port = None
        parts = None
    if (
        parts is None
        or not host
        or parts.scheme not in ("http", "https")
        or any(char.isspace() for char in host)
    ):
        shown = raw.rsplit("@", 1)[-1]
        msg = f"proxy must be an http(s) URL with a host, got {shown!r}"
        raise ValueError(msg)
    shown_host = f"[{host}]" if ":" in host else host
    url = f"{parts.scheme}://{shown_host}" + (f":{port}" if port else "")
    username = None if parts.username is None else unquote(parts.username)
    password = None if parts.password is None else unquote(parts.password)
    return Proxy(url=url, username=username, password=password)


def resolve_proxy(
    target: str,
    proxy: str | None,
    *,
    trust_env: bool,
) -> Proxy | None:
    """The proxy requests to ``target`` go through, or ``None`` for a direct connection.

    An explicit ``proxy`` wins; else, with ``trust_env``, the environment's proxy
    for the target's scheme, unless ``NO_PROXY`` exempts its host. The variables
    are read by ``urllib.request.getproxies_environment`` (lowercase names win,
    an empty value removes one, ``HTTP_PROXY`` is ignored under CGI: httpoxy).

    Raises:
        ValueError: The proxy URL is not an http(s) URL with a host.
    """
    if proxy is not None:
        return _parse_proxy(proxy)
    if not trust_env:
        return None
    proxies = urllib.request.getproxies_environment()
    parts = urlsplit(target)
    chosen = proxies.get(parts.scheme)
    if chosen is None or parts.hostname is None:
        return None
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    if bypasses_proxy(parts.hostname, port, proxies.get("no", "")):
        return None
    return _parse_proxy(chosen)


def resolve_ssl(
    ssl: SSLOption | None,
    *,
    trust_env: bool,
    environ: Mapping[str, str] | None = None,
) -> _ssl.SSLContext | None:
    """The TLS context to verify servers with, or ``None`` for aiohttp's default.

    An explicit context is used as it is; a path is a CA bundle (PEM) to trust
    instead of the system's; else, with ``trust_env``, ``SSL_CERT_FILE`` and
    ``SSL_CERT_DIR`` name the CAs, as for OpenSSL's own tools.

    Raises:
        ValueError: The CA bundle does not exist or holds no certificate.
    """
    if isinstance(ssl, _ssl.SSLContext):
        return ssl
    env = os.environ if environ is None else environ
    cafile = None if ssl is None else os.fspath(ssl)
    capath = None
    if cafile is None and trust_env:
        cafile = env.get("SSL_CERT_FILE") or None
        capath = env.get("SSL_CERT_DIR") or None
    if cafile is None and capath is None:
        return None
    for what, path in (("CA bundle", cafile), ("CA directory", capath)):
        if path is not None and not Path(path).exists():
            msg = f"{what} {path!r} does not exist"
            raise ValueError(msg)
    try:
        return _ssl.create_default_context(cafile=cafile, capath=capath)
    except (_ssl.SSLError, OSError) as exc:
        msg = f"cannot load the CA bundle {cafile or capath!r}: {exc}"
        raise ValueError(msg) from None
