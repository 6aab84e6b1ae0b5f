"""The transport's pure core on recorded samples: no event loop, no socket."""

from __future__ import annotations

import orjson
import pytest

from calyptia_logs import __version__
from calyptia_logs.errors import (
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    RateLimitError,
    RedirectError,
    ServerError,
)
from calyptia_logs.models import PipelineLog
from calyptia_logs.transport.core import (
    RawResponse,
    build_headers,
    check_base_url,
    cursor_from_link,
    decode_success,
    error_from_response,
    resolve_credentials,
    user_agent,
)
from tests.conftest import log_json


def response(status: int, body: bytes = b"", **headers: str) -> RawResponse:
    return RawResponse(status, headers, body, "GET", "https://api.test/v1/pipeline_logs/x")


# --- credentials and configuration --------------------------------------------------------


def test_user_token_is_a_bearer_header() -> None:
    creds = resolve_credentials("abc", None, environ={})
    assert creds.headers() == {"Authorization": "Bearer abc"}


def test_project_token_uses_its_own_header() -> None:
    creds = resolve_credentials(None, "p1", environ={})
    assert creds.headers() == {"X-Project-Token": "p1"}


def test_environment_is_read_when_no_argument_is_given() -> None:
    assert resolve_credentials(None, None, environ={"CALYPTIA_CLOUD_TOKEN": "e"}).headers() == {
        "Authorization": "Bearer e"
    }
    env = {"CALYPTIA_PROJECT_TOKEN": "pe"}
    assert resolve_credentials(None, None, environ=env).headers() == {"X-Project-Token": "pe"}


def test_explicit_arguments_win_over_the_environment() -> None:
    env = {"CALYPTIA_CLOUD_TOKEN": "env", "CALYPTIA_PROJECT_TOKEN": "penv"}
    assert resolve_credentials("arg", None, environ=env).token == "arg"


@pytest.mark.parametrize(
    ("token", "project", "env", "message"),
    [
        (None, None, {}, "no credentials"),
        ("a", "b", {}, "not both"),
        (None, None, {"CALYPTIA_CLOUD_TOKEN": "a", "CALYPTIA_PROJECT_TOKEN": "b"}, "both"),
        ("abc\r\nX-Evil: 1", None, {}, "control characters"),
        ("  ", None, {}, "empty"),
    ],
)
def test_bad_credentials_are_refused(
    token: str | None, project: str | None, env: dict[str, str], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        resolve_credentials(token, project, environ=env)


def test_credentials_repr_hides_the_token() -> None:
    creds = resolve_credentials("sup3r-s3cret", None, environ={})
    assert "sup3r-s3cret" not in repr(creds)
    assert "sup3r-s3cret" not in str(creds)


def test_base_url_default_env_and_trailing_slash() -> None:
    assert check_base_url(None, environ={}) == "https://cloud-api.calyptia.com"
    assert (
        check_base_url(None, environ={"CALYPTIA_CLOUD_URL": "https://e.test/"}) == "https://e.test"
    )
    assert check_base_url("https://a.test/api/", environ={"CALYPTIA_CLOUD_URL": "https://e"}) == (
        "https://a.test/api"
    )
    assert check_base_url("http://127.0.0.1:5000", environ={}) == "http://127.0.0.1:5000"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://x.test", "http"),
        ("https://", "host"),
        ("cloud-api.calyptia.com", "http"),
        ("https://x.test/?a=1", "query"),
        ("https://user:pw@x.test", "user info"),
        ("http://cloud-api.calyptia.com", "plain http"),
    ],
)
def test_bad_base_urls_are_refused(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_base_url(url, environ={})


def test_insecure_http_can_be_allowed_explicitly() -> None:
    assert (
        check_base_url("http://10.0.0.5", allow_insecure_http=True, environ={}) == "http://10.0.0.5"
    )


def test_user_agent_names_library_python_and_aiohttp() -> None:
    agent = user_agent(__version__)
    assert agent.startswith(f"calyptia-logs/{__version__} python/3.")
    assert " aiohttp/" in agent


def test_headers_carry_agent_accept_and_auth() -> None:
    headers = build_headers(resolve_credentials("t", None, environ={}), "ua/1")
    assert headers == {
        "User-Agent": "ua/1",
        "Accept": "application/json",
        "Authorization": "Bearer t",
    }


# --- responses ----------------------------------------------------------------------------


def test_api_error_document_becomes_message_and_detail() -> None:
    body = orjson.dumps({"error": "invalid pipeline log ID", "detail": "uuid: bad", "index": 2})
    error = error_from_response(response(400, body, **{"Content-Type": "application/json"}))
    assert isinstance(error, BadRequestError)
    assert (error.message, error.detail) == ("invalid pipeline log ID", "uuid: bad")
    assert error.error_fields == {"index": 2}


def test_quota_fields_are_kept() -> None:
    body = orjson.dumps({"error": "quota", "quotaLimit": 10, "quotaRemaining": 0})
    error = error_from_response(response(429, body, **{"Retry-After": "5"}))
    assert isinstance(error, RateLimitError)
    assert error.retry_after == 5.0
    assert error.error_fields == {"quotaLimit": 10, "quotaRemaining": 0}


def test_html_page_from_a_proxy() -> None:
    page = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
    error = error_from_response(response(502, page, **{"Content-Type": "text/html"}))
    assert isinstance(error, ServerError)
    assert error.message == "Bad Gateway"
    assert "text/html" in (error.detail or "")
    assert "nginx" in error.body


def test_empty_error_body() -> None:
    error = error_from_response(response(401))
    assert isinstance(error, AuthenticationError)
    assert (error.message, error.detail) == ("Unauthorized", "empty body")


def test_json_that_is_not_an_error_document_is_treated_as_opaque() -> None:
    error = error_from_response(response(404, b'{"message": "nope"}'))
    assert isinstance(error, NotFoundError)
    assert error.message == "Not Found"
    assert '"message"' in error.body


def test_redirect_names_the_location() -> None:
    error = error_from_response(response(302, b"", Location="https://other.test/login"))
    assert isinstance(error, RedirectError)
    assert error.location == "https://other.test/login"
    assert "https://other.test/login" in str(error)


def test_decode_success_structures_and_annotates_errors() -> None:
    log = decode_success(response(200, orjson.dumps(log_json())), PipelineLog)
    assert log.lines == 100
    with pytest.raises(Exception, match="not valid JSON") as caught:
        decode_success(response(200, b"{"), PipelineLog)
    assert caught.value.url == "https://api.test/v1/pipeline_logs/x"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("link", "cursor"),
    [
        ('<https://api.test/v1/pipelines/p/logs?last=2&before=abc>; rel="next"', "abc"),
        ('</v1/x?before=c%3D%3D>; rel="prev", </v1/x?before=n1>; rel="next"', "n1"),
        ("<https://api.test/x?before=z>; rel=next", "z"),
        ('<https://api.test/x?before=z>; rel="prev"', None),
        ('<https://api.test/x?page=2>; rel="next"', None),
        (None, None),
        ("garbage", None),
    ],
)
def test_cursor_from_link(link: str | None, cursor: str | None) -> None:
    assert cursor_from_link(link) == cursor
