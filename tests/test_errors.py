"""The exception tree: shape, messages and the evidence each error keeps."""

from __future__ import annotations

import pytest

import calyptia_logs
from calyptia_logs import errors
from calyptia_logs.errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    CalyptiaError,
    InvalidIDError,
    RedirectError,
    ResponseTooLargeError,
    error_for_status,
)


def test_every_public_error_is_a_calyptia_error() -> None:
    for name in errors.__all__:
        obj = getattr(errors, name)
        if isinstance(obj, type):
            assert issubclass(obj, CalyptiaError), name


def test_the_tree_in_the_docstring_names_every_error_class() -> None:
    doc = errors.__doc__ or ""
    for name in errors.__all__:
        if isinstance(getattr(errors, name), type):
            assert name in doc, f"{name} missing from the tree in errors.__doc__"


def test_timeout_is_a_connection_error_and_invalid_id_a_value_error() -> None:
    assert issubclass(APITimeoutError, APIConnectionError)
    assert issubclass(InvalidIDError, ValueError)


@pytest.mark.parametrize(
    ("status", "name"),
    [
        (301, "RedirectError"),
        (400, "BadRequestError"),
        (401, "AuthenticationError"),
        (403, "PermissionDeniedError"),
        (404, "NotFoundError"),
        (409, "ConflictError"),
        (429, "RateLimitError"),
        (500, "ServerError"),
        (503, "ServerError"),
        (418, "APIStatusError"),
    ],
)
def test_error_for_status(status: int, name: str) -> None:
    assert error_for_status(status).__name__ == name


def test_status_error_str_has_status_message_detail_and_attempts() -> None:
    error = APIStatusError(
        "pipeline log not found",
        status=404,
        detail="no row",
        method="GET",
        url="https://x/v1/pipeline_logs/1",
        attempts=2,
    )
    assert (
        str(error)
        == "404 pipeline log not found (no row) [GET https://x/v1/pipeline_logs/1, 2 attempts]"
    )
    assert repr(error).startswith("APIStatusError(")


def test_headers_kept_on_errors_are_redacted() -> None:
    error = APIStatusError(
        "x",
        status=500,
        headers={"Authorization": "Bearer s3cret", "X-Project-Token": "p", "Location": "/y"},
    )
    assert error.headers == {
        "Authorization": "<redacted>",
        "X-Project-Token": "<redacted>",
        "Location": "/y",
    }


def test_redirect_error_names_the_location() -> None:
    error = RedirectError("moved", status=302, headers={"location": "https://elsewhere/"})
    assert error.location == "https://elsewhere/"


def test_too_large_is_a_decode_error() -> None:
    assert issubclass(ResponseTooLargeError, errors.ResponseDecodeError)


def test_the_package_exports_what_it_lists() -> None:
    for name in calyptia_logs.__all__:
        assert hasattr(calyptia_logs, name), name
    assert sorted(calyptia_logs.__all__) == sorted(set(calyptia_logs.__all__))
