"""Pure ASGI middleware (no per-request task or body copy): body size limit and request metrics."""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import REGISTRY, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tuneway.core.metrics import LATENCY_BUCKETS, BoundedLabel
from tuneway.gateway.errors import error_body

REQUESTS_NAME = "tuneway_gateway_requests_total"
REQUEST_LABELS = ("route", "method", "status")
REQUESTS = Counter(REQUESTS_NAME, "HTTP requests", REQUEST_LABELS)
LATENCY = Histogram(
    "tuneway_gateway_request_seconds",
    "Time to the end of the response",
    ["route", "method"],
    buckets=LATENCY_BUCKETS,
)
# Clients choose the method: anything else would add a series per made-up method.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Distinct tenants the tenant label keeps before later ones count as "other".
TENANT_LABEL_LIMIT = 100


def _requests_counter(tenant_label: bool) -> Counter:
    """The request counter, with a `tenant` label when asked (TUNEWAY_METRICS_TENANT_LABEL). A process
    runs one gateway, so the counter of the other shape is replaced rather than kept beside it: the
    metric keeps one name, and without the switch its series carry no tenant at all."""
    global REQUESTS
    labels = (*REQUEST_LABELS, "tenant") if tenant_label else REQUEST_LABELS
    if tuple(REQUESTS._labelnames) != labels:
        REGISTRY.unregister(REQUESTS)
        REQUESTS = Counter(REQUESTS_NAME, "HTTP requests", labels)
    return REQUESTS


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
    """Counts and times requests by route template (not the raw path, whose ids are unbounded), method
    and status; with `tenant_label`, the request counter also gets the authenticated tenant (bounded)."""

    def __init__(self, app: ASGIApp, tenant_label: bool = False) -> None:
        self.app = app
        self._requests = _requests_counter(tenant_label)
        self._tenants = BoundedLabel(TENANT_LABEL_LIMIT) if tenant_label else None

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
            method = scope["method"] if scope["method"] in KNOWN_METHODS else "other"
            labels: tuple[str, ...] = (template, method, str(status))
            if self._tenants is not None:
                labels = (*labels, self._tenant(scope))
            self._requests.labels(*labels).inc()
            LATENCY.labels(template, method).observe(time.perf_counter() - started)

    def _tenant(self, scope: Scope) -> str:
        """The tenant the request's key authenticated (deps.BearerKey records it), "none" without one."""
        assert self._tenants is not None
        return self._tenants(str(scope.get("state", {}).get("tenant_id", "")))
