"""CORS for browsers calling the API from the origins an operator allows (GATEWAY_CORS_ORIGINS; none by
default, so no browser page elsewhere may read its answers). Preflights allow the headers OpenAI's SDKs
send, among them families named by prefix (OpenAI-*, X-Stainless-*) that grow with each SDK release."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import FastAPI
from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
HEADERS = ("authorization", "content-type", "accept", "idempotency-key", "x-request-id")
HEADER_PREFIXES = ("openai-", "x-stainless-")
# What a page's script may read of a response besides the CORS-safelisted headers.
EXPOSED = (
    "x-request-id",
    "retry-after",
    "x-ratelimit-limit-requests",
    "x-ratelimit-limit-tokens",
    "x-ratelimit-remaining-requests",
    "x-ratelimit-remaining-tokens",
    "x-ratelimit-reset-requests",
    "x-ratelimit-reset-tokens",
)
# Seconds a browser may reuse a preflight's answer.
MAX_AGE = 600
_REQUEST_HEADERS = b"access-control-request-headers"


def _allowed(header: str) -> bool:
    name = header.strip().lower()
    return name in HEADERS or name.startswith(HEADER_PREFIXES)


class OpenAICors(CORSMiddleware):
    """Starlette's CORS, with header prefixes: Starlette matches requested headers by exact name only."""

    def preflight_response(self, request_headers: Headers) -> Response:
        requested = request_headers.get(_REQUEST_HEADERS.decode())
        if requested is None or not all(_allowed(h) for h in requested.split(",") if h.strip()):
            return super().preflight_response(request_headers)
        # Every header asked for is allowed: the origin and method are checked as usual, and the answer
        # names exactly the headers asked for (as Starlette does when it allows all).
        others = Headers(raw=[(k, v) for k, v in request_headers.raw if k != _REQUEST_HEADERS])
        response = super().preflight_response(others)
        if response.status_code == 200:
            response.headers["Access-Control-Allow-Headers"] = requested
        return response


def add_cors(app: FastAPI, origins: Sequence[str]) -> None:
    """Answers preflights and marks responses readable by `origins` ("*": any); none: CORS stays off."""
    if origins:
        app.add_middleware(
            OpenAICors,
            allow_origins=list(origins),
            allow_methods=METHODS,
            allow_headers=HEADERS,
            expose_headers=EXPOSED,
            max_age=MAX_AGE,
        )
