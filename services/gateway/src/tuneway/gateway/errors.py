"""Every error leaves the gateway in OpenAI's envelope: {"error": {message, type, param, code}}."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match, Route
from typing_extensions import TypedDict  # pydantic documents typing.TypedDict only from Python 3.12

from tuneway.core import errors as core
from tuneway.core.db import database_unreachable
from tuneway.gateway.request_ids import HEADER as REQUEST_ID_HEADER
from tuneway.gateway.request_ids import request_id

log = logging.getLogger(__name__)

# Domain error class -> (HTTP status, OpenAI error type).
_STATUS: dict[type[core.DomainError], tuple[int, str]] = {
    core.InvalidArgumentError: (400, "invalid_request_error"),
    core.NotFoundError: (404, "invalid_request_error"),
    core.AlreadyExistsError: (409, "invalid_request_error"),
    core.FailedPreconditionError: (409, "invalid_request_error"),
    core.PermissionDeniedError: (403, "permission_error"),
    core.ResourceExhaustedError: (429, "rate_limit_error"),
    core.UnavailableError: (503, "server_error"),
    core.DeadlineExceededError: (504, "server_error"),
}


class ErrorDetail(TypedDict):
    """What went wrong: a message for people, OpenAI's error type, the offending parameter and a code."""

    message: str
    type: str
    param: str | None
    code: str | None


class ErrorEnvelope(TypedDict):
    """OpenAI's error envelope, in which every error leaves the gateway."""

    error: ErrorDetail


class AuthenticationError(core.DomainError):
    """Missing, unknown or revoked API key (401)."""


class PayloadTooLargeError(core.DomainError):
    """An upload past its size limit (413)."""


class RateLimitExceededError(core.ResourceExhaustedError):
    """A key's or tenant's per-minute quota is used up (429 rate_limit_exceeded). `kind` is what ran
    out, requests or tokens, which OpenAI sends as the error's type; `retry_after` is when some of it
    is back, in seconds."""

    def __init__(self, message: str, *, kind: str, retry_after: int) -> None:
        super().__init__(message, code="rate_limit_exceeded")
        self.kind = kind
        self.retry_after = retry_after


def error_body(message: str, type_: str, param: str | None = None, code: str | None = None) -> bytes:
    """The JSON bytes of OpenAI's error envelope."""
    envelope: ErrorEnvelope = {"error": {"message": message, "type": type_, "param": param, "code": code}}
    return orjson.dumps(envelope)


def error_response(
    status: int,
    message: str,
    type_: str,
    param: str | None = None,
    code: str | None = None,
    retry_after: int = 1,
) -> Response:
    """An envelope response; 429 and 503 carry Retry-After."""
    headers = {"Retry-After": str(retry_after)} if status in (429, 503) else None
    return Response(error_body(message, type_, param, code), status, headers, media_type="application/json")


def domain_error_response(error: core.DomainError, retry_after: int = 1) -> Response:
    """Maps a domain error to its status and envelope."""
    if isinstance(error, AuthenticationError):
        return error_response(401, error.message, "invalid_request_error", error.param, error.code)
    if isinstance(error, PayloadTooLargeError):
        return error_response(413, error.message, "invalid_request_error", error.param, error.code)
    if isinstance(error, RateLimitExceededError):
        return error_response(429, error.message, error.kind, None, error.code, error.retry_after)
    status, type_ = next(
        ((s, t) for cls, (s, t) in _STATUS.items() if isinstance(error, cls)), (500, "server_error")
    )
    return error_response(status, error.message, type_, error.param, error.code, retry_after)


def _param(loc: tuple[Any, ...]) -> str | None:
    """('body', 'messages', 0, 'role') -> 'messages[0].role'."""
    # Only the first element is the location: a body field may be called `query` (knowledge search).
    parts = list(loc[1:] if loc and loc[0] in ("body", "query", "path", "header") else loc)
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or None


def validation_error_response(error: RequestValidationError) -> Response:
    """400 naming the first offending field the way OpenAI does."""
    first = error.errors()[0] if error.errors() else {"loc": (), "msg": "invalid request", "type": ""}
    param = _param(tuple(first.get("loc", ())))
    kind = str(first.get("type", ""))
    if kind == "missing":
        message, code = f"Missing required parameter: '{param}'.", "missing_required_parameter"
    elif kind == "json_invalid":
        message, code = f"We could not parse the JSON body of your request: {first.get('msg')}", None
        param = None
    elif kind == "unsupported_parameter":  # a field we know but do not honour (chat's logprobs)
        message, code = f"Unsupported parameter: '{param}' is not supported by this server.", kind
    elif kind == "extra_forbidden":
        message, code = f"Unrecognized request argument supplied: {param}", "unknown_parameter"
    elif kind.endswith("_type") or kind in ("model_attributes_type", "list_type", "dict_type"):
        message, code = f"Invalid type for '{param}': {first.get('msg')}.", "invalid_type"
    else:
        message, code = f"Invalid value for '{param}': {first.get('msg')}.", "invalid_value"
    return error_response(400, message, "invalid_request_error", param, code)


def allowed_methods(request: Request) -> str:
    """Every method some route serves at the request's path, for a 405's `Allow`. Starlette's own
    405 names only the first route's methods, though a path is often several routes (GET and DELETE)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        if isinstance(route, Route) and route.methods and route.matches(request.scope)[0] != Match.NONE:
            methods |= route.methods
    return ", ".join(sorted(methods))


def install_error_handlers(app: FastAPI, retry_after: int) -> None:
    """Routes every exception the app can raise through the envelope."""

    @app.exception_handler(core.DomainError)
    async def _domain(_: Request, error: core.DomainError) -> Response:
        return domain_error_response(error, retry_after)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, error: RequestValidationError) -> Response:
        return validation_error_response(error)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code)
        type_ = "invalid_request_error" if error.status_code < 500 else "server_error"
        response = error_response(error.status_code, str(error.detail), type_, None, code, retry_after)
        # The exception's headers (405's Allow among them) were dropped here before.
        response.headers.update(error.headers or {})
        if error.status_code == 405:
            response.headers["Allow"] = allowed_methods(request) or response.headers.get("Allow", "")
        return response

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> Response:
        log.exception("unhandled error", exc_info=error)
        message = "The server had an error while processing your request."
        response = error_response(500, message, "server_error")
        # Starlette sends this one from outside every middleware, RequestIdMiddleware included.
        response.headers[REQUEST_ID_HEADER] = request_id(request)
        return response

    # The gateway's database down or restarting: 503 with Retry-After, as for any dependency. Handled
    # here, by class, rather than by the catch-all above: Starlette re-raises what reaches that one, and
    # the server then drops the client's connection (its next request on it was reset).
    async def _database(request: Request, error: Exception) -> Response:
        if not database_unreachable(error):
            return await _unexpected(request, error)
        log.warning("database unavailable: %s: %s", type(error).__name__, error)
        message = "The gateway's database is unavailable; please retry."
        return error_response(503, message, "server_error", None, "service_unavailable", retry_after)

    app.add_exception_handler(DBAPIError, _database)
    app.add_exception_handler(ConnectionError, _database)
