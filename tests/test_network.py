"""Proxies and TLS trust: the pure resolution, then real sockets (trustme CA, a forward proxy)."""

from __future__ import annotations

import base64
import os
import ssl
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
import trustme
from aiohttp import web
from click.testing import CliRunner

from calyptia_logs import APIConnectionError, CalyptiaClient
from calyptia_logs.cli.commands import cli
from calyptia_logs.testing import FakeCalyptiaCloud, run_fake_cloud
from calyptia_logs.transport.network import (
    Proxy,
    bypasses_proxy,
    resolve_proxy,
    resolve_ssl,
)
from tests.forward_proxy import forward_proxy

TOKEN = "a-long-secret-token-1234"

# --- resolution, pure -------------------------------------------------------------------


@pytest.fixture
def environ(monkeypatch: pytest.MonkeyPatch) -> Callable[[dict[str, str]], None]:
    """Set the process environment's proxy variables to exactly these."""

    def use(env: dict[str, str]) -> None:
        for name in list(os.environ):
            if name.lower().endswith("_proxy") or name == "REQUEST_METHOD":
                monkeypatch.delenv(name)
        for name, value in env.items():
            monkeypatch.setenv(name, value)

    return use


def test_lowercase_proxy_variables_win_and_empty_ones_remove(
    environ: Callable[[dict[str, str]], None],
) -> None:
    environ({"HTTPS_PROXY": "http://upper:1", "https_proxy": "http://lower:2"})
    assert resolve_proxy("https://api.test", None, trust_env=True) == Proxy("http://lower:2")
    environ({"HTTP_PROXY": "http://p:1", "http_proxy": ""})
    assert resolve_proxy("http://api.test", None, trust_env=True) is None


def test_under_cgi_http_proxy_is_ignored(environ: Callable[[dict[str, str]], None]) -> None:
    environ({"HTTP_PROXY": "http://evil:1", "REQUEST_METHOD": "GET"})
    assert resolve_proxy("http://api.test", None, trust_env=True) is None


@pytest.mark.parametrize(
    ("host", "port", "no_proxy", "bypassed"),
    [
        ("api.example.com", 443, "example.com", True),
        ("api.example.com", 443, ".example.com", True),
        ("example.com", 443, "example.com", True),
        ("badexample.com", 443, "example.com", False),
        ("api.example.com", 443, "*", True),
        ("api.example.com", 443, "other.org, example.com", True),
        ("api.example.com", 443, "example.com:8443", False),
        ("api.example.com", 8443, "example.com:8443", True),
        ("10.1.2.3", 443, "10.0.0.0/8", True),
        ("10.1.2.3", 443, "10.1.2.3", True),
        ("11.1.2.3", 443, "10.0.0.0/8", False),
        ("::1", 443, "::1", True),
        ("api.example.com", 443, "", False),
    ],
)
def test_no_proxy_matches_names_suffixes_ports_and_networks(
    host: str, port: int, no_proxy: str, bypassed: bool
) -> None:
    assert bypasses_proxy(host, port, no_proxy) is bypassed


def test_an_explicit_proxy_wins_over_the_environment(
    environ: Callable[[dict[str, str]], None],
) -> None:
    environ({"HTTPS_PROXY": "http://env:1"})
    chosen = resolve_proxy("https://api.test", "http://mine:3128", trust_env=True)
    assert chosen == Proxy("http://mine:3128")


def test_the_environment_proxy_is_taken_by_scheme_unless_exempt_or_not_trusted(
    environ: Callable[[dict[str, str]], None],
) -> None:
    environ({"HTTPS_PROXY": "proxy.corp:3128", "NO_PROXY": "internal.test"})
    assert resolve_proxy("https://api.test", None, trust_env=True) == Proxy(
        "http://proxy.corp:3128"
    )
    assert resolve_proxy("http://api.test", None, trust_env=True) is None
    assert resolve_proxy("https://internal.test", None, trust_env=True) is None
    assert resolve_proxy("https://api.test", None, trust_env=False) is None


def test_proxy_credentials_are_split_off_and_never_shown() -> None:
    proxy = resolve_proxy("https://api.test", "http://me:p%40ss-w0rd@proxy:3128", trust_env=False)
    assert proxy is not None
    assert (proxy.url, proxy.username, proxy.password) == ("http://proxy:3128", "me", "p@ss-w0rd")
    assert "p@ss" not in repr(proxy)
    assert "redacted" in repr(proxy)


@pytest.mark.parametrize("bad", ["ftp://me:hunter22@proxy:21", "http://me:hunter22@", "http://"])
def test_a_bad_proxy_url_is_refused_without_repeating_its_password(bad: str) -> None:
    with pytest.raises(ValueError, match="proxy must be an http") as caught:
        resolve_proxy("https://api.test", bad, trust_env=False)
    assert "hunter22" not in str(caught.value)


def test_ssl_takes_a_context_a_bundle_or_the_environment(tmp_path: Path) -> None:
    ca = trustme.CA()
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    context = ssl.create_default_context()
    assert resolve_ssl(context, trust_env=True) is context
    assert isinstance(resolve_ssl(bundle, trust_env=False), ssl.SSLContext)
    env = {"SSL_CERT_FILE": str(bundle)}
    assert isinstance(resolve_ssl(None, trust_env=True, environ=env), ssl.SSLContext)
    assert resolve_ssl(None, trust_env=False, environ=env) is None
    assert resolve_ssl(None, trust_env=True, environ={}) is None


def test_a_missing_or_empty_ca_bundle_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        resolve_ssl(tmp_path / "nope.pem", trust_env=False)
    empty = tmp_path / "empty.pem"
    empty.write_text("not a certificate\n")
    with pytest.raises(ValueError, match="cannot load the CA bundle"):
        resolve_ssl(empty, trust_env=False)


# --- real sockets ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_bundle(ca: trustme.CA, tmp_path: Path) -> Path:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


@asynccontextmanager
async def tls_fake(ca: trustme.CA) -> AsyncIterator[tuple[str, FakeCalyptiaCloud]]:
    """The fake over HTTPS, with a certificate for 127.0.0.1 from the throwaway CA."""
    fake = FakeCalyptiaCloud(tokens=[TOKEN])
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    runner = web.AppRunner(fake.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_context)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"https://127.0.0.1:{port}", fake
    finally:
        await runner.cleanup()


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "SSL_CERT_FILE", "SSL_CERT_DIR"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


async def test_a_private_ca_bundle_verifies_the_server(ca: trustme.CA, ca_bundle: Path) -> None:
    async with tls_fake(ca) as (url, fake):
        (log_id,) = fake.seed_logs(fake.add_pipeline(), 1)
        async with CalyptiaClient(token=TOKEN, base_url=url, ssl=ca_bundle) as client:
            assert (await client.pipeline_logs.get(log_id)).id == log_id


async def test_without_the_ca_verification_fails_with_a_clear_error(ca: trustme.CA) -> None:
    async with tls_fake(ca) as (url, fake):
        (log_id,) = fake.seed_logs(fake.add_pipeline(), 1)
        async with CalyptiaClient(token=TOKEN, base_url=url, trust_env=False) as client:
            with pytest.raises(APIConnectionError, match="certificate") as caught:
                await client.pipeline_logs.get(log_id)
        assert "verify" in str(caught.value)
        assert fake.request_count == 0


async def test_ssl_cert_file_is_honoured_unless_trust_env_is_off(
    ca: trustme.CA, ca_bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_bundle))
    async with tls_fake(ca) as (url, fake):
        (log_id,) = fake.seed_logs(fake.add_pipeline(), 1)
        async with CalyptiaClient(token=TOKEN, base_url=url) as client:
            assert (await client.pipeline_logs.get(log_id)).id == log_id
        async with CalyptiaClient(token=TOKEN, base_url=url, trust_env=False) as client:
            with pytest.raises(APIConnectionError, match="certificate"):
                await client.pipeline_logs.get(log_id)


async def test_https_goes_through_a_connect_tunnel_and_the_proxy_never_sees_the_token(
    ca: trustme.CA, ca_bundle: Path
) -> None:
    async with tls_fake(ca) as (url, fake), forward_proxy() as proxy:
        (log_id,) = fake.seed_logs(fake.add_pipeline(), 1)
        async with CalyptiaClient(
            token=TOKEN, base_url=url, ssl=ca_bundle, proxy=proxy.url
        ) as client:
            await client.pipeline_logs.get(log_id)
            await client.pipeline_logs.list(fake.add_pipeline())
        port = url.rsplit(":", 1)[1]
        assert [s.line for s in proxy.seen] == [f"CONNECT 127.0.0.1:{port} HTTP/1.1"]
        seen = "\n".join(s.raw for s in proxy.seen)
        assert TOKEN not in seen
        assert "Authorization" not in seen
        assert fake.requests[0].headers["Authorization"] == f"Bearer {TOKEN}"


async def test_https_proxy_from_the_environment_and_no_proxy(
    ca: trustme.CA, ca_bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with tls_fake(ca) as (url, fake), forward_proxy() as proxy:
        (log_id,) = fake.seed_logs(fake.add_pipeline(), 1)
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        async with CalyptiaClient(token=TOKEN, base_url=url, ssl=ca_bundle) as client:
            await client.pipeline_logs.get(log_id)
        assert len(proxy.seen) == 1
        monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
        async with CalyptiaClient(token=TOKEN, base_url=url, ssl=ca_bundle) as client:
            await client.pipeline_logs.get(log_id)
        monkeypatch.delenv("NO_PROXY")
        async with CalyptiaClient(
            token=TOKEN, base_url=url, ssl=ca_bundle, trust_env=False
        ) as client:
            await client.pipeline_logs.get(log_id)
        assert len(proxy.seen) == 1  # neither the exempt host nor trust_env=False used it
        assert fake.request_count == 3


async def test_plain_http_goes_to_the_proxy_in_absolute_form(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with run_fake_cloud() as cloud, forward_proxy() as proxy:
        (log_id,) = cloud.seed_logs(cloud.add_pipeline(), 1)
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        async with CalyptiaClient(token=cloud.token, base_url=cloud.base_url) as client:
            await client.pipeline_logs.get(log_id)
        assert proxy.seen[0].line == f"GET {cloud.base_url}/v1/pipeline_logs/{log_id} HTTP/1.1"


async def test_proxy_credentials_reach_the_proxy_only_and_never_show(
    ca: trustme.CA, ca_bundle: Path
) -> None:
    password = "pr0xy-passw0rd"
    expected = "Basic " + base64.b64encode(f"me:{password}".encode()).decode()
    async with tls_fake(ca) as (url, fake), forward_proxy(require_auth=expected) as proxy:
        (log_id,) = fake.seed_logs(fake.add_pipeline(), 1)
        with_auth = proxy.url.replace("http://", f"http://me:{password}@")
        async with CalyptiaClient(
            token=TOKEN, base_url=url, ssl=ca_bundle, proxy=with_auth
        ) as client:
            await client.pipeline_logs.get(log_id)
            shown = f"{client!r} {client.transport!r}"
        assert proxy.seen[0].headers["Proxy-Authorization"] == expected
        assert password not in shown
        assert password not in str(fake.requests[0].headers)
    # The proxy is gone: the connection error names the target, never the password.
    async with CalyptiaClient(
        token=TOKEN, base_url=url, ssl=ca_bundle, proxy=with_auth, retry=None
    ) as client:
        with pytest.raises(APIConnectionError) as caught:
            await client.pipeline_logs.get(log_id)
    assert password not in f"{caught.value} {caught.value!r}"


async def test_proxy_and_ssl_belong_to_the_clients_own_session() -> None:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(ValueError, match="set them on yours"):
            CalyptiaClient(token=TOKEN, session=session, proxy="http://proxy:3128")


def test_the_cli_names_the_flag_of_a_bad_proxy_or_bundle(tmp_path: Path) -> None:
    runner = CliRunner()
    base = ["--token", TOKEN, "--url", "https://api.test"]
    done = runner.invoke(cli, [*base, "--proxy", "ftp://me:hunter22@x", "get", "x"])
    assert done.exit_code == 2
    assert "--proxy: proxy must be an http(s) URL" in done.stderr
    assert "hunter22" not in done.stderr
    done = runner.invoke(cli, [*base, "--ca-bundle", str(tmp_path / "none.pem"), "get", "x"])
    assert done.exit_code == 2
    assert "--ca-bundle: CA bundle" in done.stderr
