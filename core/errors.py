"""One exception hierarchy, mapped to JSON errors in one place.

Services raise `BadInput`, `NotFound`, `Forbidden`, `Unauthorized` or `Conflict`; views never
build error responses by hand. Every error body reads
``{"error": {"code": ..., "message": ..., "field": ...}}``.
"""

from __future__ import annotations

import logging
import sys

import psycopg2
from django.core.signals import got_request_exception
from django.db import DataError, IntegrityError, InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from rest_framework import exceptions as drf_exceptions
from rest_framework import serializers
from rest_framework.views import exception_handler as drf_default_handler

log = logging.getLogger(__name__)


class ApiError(Exception):
    status = 400
    code = "error"

    def __init__(
        self,
        message: str,
        field: str | None = None,
        code: str | None = None,
        current: dict | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.field = field
        # What the caller needs to retry a conflicting write (e.g. a case's state and version),
        # sent beside the error as ``"current"``.
        self.current = current
        if code:
            self.code = code

    def as_dict(self) -> dict:
        body = {"error": {"code": self.code, "message": self.message, "field": self.field}}
        if self.current is not None:
            body["current"] = self.current
        return body


class BadInput(ApiError):
    status, code = 400, "bad_input"

    @classmethod
    def from_serializer_errors(cls, errors) -> BadInput:
        """Gives the error for a DRF serializer's `errors`: its first field, and the first
        message found under it however deeply nested (``fields[0].name: Not a valid string``)."""
        field, message = first_error(errors)
        return cls(message, field=field)


def first_error(errors) -> tuple[str | None, str]:
    """Gives (top-level field, message) of the first error in DRF's nested error structure;
    the message names the nested path when there is one."""
    if isinstance(errors, dict) and errors:
        field = next(iter(errors))
        path, message = _first_leaf(errors[field])
        top = None if field in ("non_field_errors", "__all__") else str(field)
        return top, (f"{field}{path}: {message}" if path else message)
    path, message = _first_leaf(errors)
    return None, message


# DRF validation codes that refuse a well-formed value because of what is stored: a duplicate
# (UniqueValidator) or a reference to nothing (the related fields).
STORED_DATA_CODES = frozenset({"unique", "does_not_exist"})


def first_code(errors) -> str | None:
    """Gives the DRF code (``ErrorDetail.code``) of the error `first_error` reports."""
    while isinstance(errors, dict | list) and errors:
        if isinstance(errors, dict):
            errors = errors[next(iter(errors))]
        else:
            errors = next((item for item in errors if item), errors[0])
    return getattr(errors, "code", None)


def _first_leaf(value) -> tuple[str, str]:
    if isinstance(value, dict) and value:
        key = next(iter(value))
        path, message = _first_leaf(value[key])
        return f".{key}{path}", message
    if isinstance(value, list):
        for index, item in enumerate(value):
            if item:
                path, message = _first_leaf(item)
                nested = isinstance(item, dict | list)
                return (f"[{index}]{path}" if nested else path), message
        return "", "invalid"
    return "", str(value)


class Unauthorized(ApiError):
    status, code = 401, "not_authenticated"


class Forbidden(ApiError):
    status, code = 403, "forbidden"


class NotFound(ApiError):
    status, code = 404, "not_found"


class Conflict(ApiError):
    status, code = 409, "conflict"


class TooLarge(ApiError):
    status, code = 413, "too_large"


class ServerError(ApiError):
    status, code = 500, "server_error"


class ServiceUnavailable(ApiError):
    status, code = 503, "unavailable"


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    field = serializers.CharField(allow_null=True)


class ErrorSerializer(serializers.Serializer):
    """The one JSON error body, ``{"error": {"code", "message", "field"}}``: the OpenAPI
    component ``Error`` that every operation's error responses refer to."""

    error = ErrorDetailSerializer()


def error_response(
    status: int, code: str, message: str, field: str | None = None, current: dict | None = None
) -> JsonResponse:
    body = {"error": {"code": code, "message": message, "field": field}}
    if current is not None:
        body["current"] = current
    response = JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="citygrid"'
    return response


def api_error_response(exc: ApiError) -> JsonResponse:
    return error_response(exc.status, exc.code, exc.message, exc.field, exc.current)


def drf_exception_handler(exc, context):
    """DRF's handler, reshaped so DRF views answer with the same JSON error body."""
    if isinstance(exc, ApiError):
        return _as_drf(api_error_response(exc))
    response = drf_default_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, drf_exceptions.NotAuthenticated | drf_exceptions.AuthenticationFailed):
        response.status_code = 401
    code = getattr(exc, "default_code", "error")
    field, message = None, str(getattr(exc, "detail", exc))
    detail = getattr(exc, "detail", None)
    if isinstance(detail, dict) and detail:
        field, message = first_error(detail)
        code = "bad_input" if response.status_code == 400 else code
        if response.status_code == 400 and first_code(detail) in STORED_DATA_CODES:
            # Well-formed, but a duplicate or a missing reference: the same 409 the database
            # answers for the constraint (`DATABASE_ERRORS`), so the status does not depend on
            # which of the two noticed first.
            response.status_code, code = 409, "conflict"
    elif isinstance(detail, list) and detail:
        message = first_error(detail)[1]
    response.data = {"error": {"code": code, "message": message, "field": field}}
    return response


def _as_drf(json_response: JsonResponse):
    from rest_framework.response import Response
    import json

    response = Response(json.loads(json_response.content), status=json_response.status_code)
    if json_response.has_header("WWW-Authenticate"):
        response["WWW-Authenticate"] = json_response["WWW-Authenticate"]
    return response


# Database errors an API caller can act on, as the error each one answers. A connection that
# fails or drops is an outage (503, try again); a refused constraint is a conflict with the
# stored data (409, also when PostgreSQL checks it at commit); a value PostgreSQL cannot hold
# is bad input (400). Django wraps driver errors in its own classes; SQL run on a raw psycopg2
# cursor raises the driver's.
DATABASE_ERRORS: tuple[tuple[tuple[type[Exception], ...], ApiError], ...] = (
    (
        (OperationalError, InterfaceError, psycopg2.OperationalError, psycopg2.InterfaceError),
        ServiceUnavailable("the database is unavailable; try again shortly"),
    ),
    (
        (IntegrityError, psycopg2.IntegrityError),
        Conflict("the change conflicts with stored data (a duplicate or a missing reference)"),
    ),
    (
        (DataError, psycopg2.DataError),
        BadInput("a value in the request cannot be stored (out of range or not valid text)"),
    ),
)
SERVER_ERROR = ServerError("internal error; it has been logged")
HTTP_CODES = {
    400: "bad_input",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
}


def error_for_exception(exception: BaseException | None) -> ApiError:
    """Gives the JSON error an API caller gets for an exception no view turned into one."""
    for classes, error in DATABASE_ERRORS:
        if isinstance(exception, classes):
            return error
    return SERVER_ERROR


class JsonErrorMiddleware:
    """Turns `ApiError` from plain Django views into JSON, and every other error under API
    paths too: database errors by `DATABASE_ERRORS`, anything else a JSON 500. An error raised
    outside the view (by a middleware inside this one, or at commit) reaches Django's own
    handler first, whose page (with DEBUG, the technical page listing the settings) an API
    caller never sees: it is replaced by the JSON error of the exception it reported."""

    API_PREFIXES = ("/api/", "/ogc", "/tiles/", "/styles/", "/nominatim/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _has_nul(request):
            # PostgreSQL text cannot hold NUL; refuse it before any view turns it into SQL.
            return error_response(400, "bad_input", "the request contains a NUL character")
        response = self.get_response(request)
        if not request.path.startswith(self.API_PREFIXES) or _is_json(response):
            return response
        if response.status_code == 404:
            return error_response(404, "not_found", f"no such resource: {request.path}")
        if response.status_code >= 500:
            return api_error_response(
                error_for_exception(getattr(request, "citygrid_exception", None))
            )
        if response.status_code >= 400:
            # Django's own 4xx pages (with DEBUG, a technical page for SuspiciousOperation).
            status = response.status_code
            error = error_response(status, HTTP_CODES.get(status, "error"), response.reason_phrase)
            if response.has_header("Allow"):
                error["Allow"] = response["Allow"]
            return error
        return response

    def process_exception(self, request, exception):
        if isinstance(exception, ApiError):
            return api_error_response(exception)
        if isinstance(exception, ValueError) and "NUL" in str(exception):
            return error_response(400, "bad_input", "text may not contain NUL characters")
        if request.path.startswith(self.API_PREFIXES):
            error = error_for_exception(exception)
            if error is SERVER_ERROR:
                log.exception("unhandled error on %s", request.path)
            else:
                log.warning("%s on %s: %s", type(exception).__name__, request.path, exception)
            return api_error_response(error)
        return None


def _is_json(response: HttpResponse) -> bool:
    return response.get("Content-Type", "").startswith("application/")


def _remember_exception(sender, request: HttpRequest | None = None, **kwargs) -> None:
    """Keeps the exception Django's handler turned into a 500 page, for `JsonErrorMiddleware`."""
    if request is not None:
        request.citygrid_exception = sys.exc_info()[1]


got_request_exception.connect(_remember_exception, dispatch_uid="citygrid-json-errors")


def _has_nul(request) -> bool:
    """Whether the path or a query parameter name or value holds a NUL character."""
    if "\x00" in request.path:
        return True
    return any(
        "\x00" in key or any("\x00" in v for v in values) for key, values in request.GET.lists()
    )
