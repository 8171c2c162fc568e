"""Pure ASGI middleware (no per-request task or body copy): body size limit and request metrics."""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tuneway.core.metrics import LATENCY_BUCKETS
from tuneway.gateway.errors import error_body

REQUESTS = Counter("tuneway_gateway_requests_total", "HTTP requests", ["route", "method", "status"])
LATENCY = Histogram(
    "tuneway_gateway_request_seconds",
    "Time to the end of the response",
    ["route", "method"],
    buckets=LATENCY_BUCKETS,
)


class _TooLarge(BaseException):  # BaseException: FastAPI turns Exceptions in body parsing into 400s
    pass


async def _send_413(send: Send, limit: int) -> None:
    body = error_body(
        f"Request body too large: the limit is {limit} bytes.",
        "invalid_request_error",
        None,
        "request_too_large",
    )
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimitMiddleware:
    """Answers 413 for bodies over `limit` bytes, by Content-Length or while a chunked body streams in."""

    def __init__(self, app: ASGIApp, limit: int, path_limits: dict[str, int] | None = None) -> None:
        self.app = app
        self.limit = limit
        # Exact paths with a limit of their own (file uploads, which also enforce theirs as they stream).
        self.path_limits = path_limits or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.path_limits.get(scope["path"], self.limit)
        for name, value in scope["headers"]:
            if name == b"content-length":
                if int(value or 0) > limit:
                    await _send_413(send, limit)
                    return
                await self.app(scope, receive, send)  # the server enforces the declared length
                return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _send_413(send, limit)


class MetricsMiddleware:
    """Counts and times requests by route template (bounded cardinality), method and status."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            route: Any = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            REQUESTS.labels(template, scope["method"], str(status)).inc()
            LATENCY.labels(template, scope["method"]).observe(time.perf_counter() - started)
