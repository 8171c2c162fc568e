"""No NUL byte reaches the services behind the gateway from a URL. PostgreSQL refuses NUL in text, so an
id or a query value holding one (`/v1/model_aliases/%00`) failed as a 500 in whichever store it reached,
while SQLite simply found nothing. No id the system makes holds one, so such a path names nothing (404;
400 for a PUT, whose path names what it creates); a query value holding one is a 400 naming its
parameter."""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Receive, Scope, Send

from tuneway.gateway.errors import error_body


class NulBytesMiddleware:
    """Answers 404 (a PUT: 400) for a path, and 400 for a query value, that holds a NUL byte."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if "\x00" in scope["path"]:
                await _send(send, *_nul_in_path(scope["method"]))
                return
            param = _param_with_nul(scope["query_string"])
            if param is not None:
                message = f"Invalid value for '{param}': must not contain a NUL byte."
                await _send(send, 400, error_body(message, "invalid_request_error", param, "invalid_value"))
                return
        await self.app(scope, receive, send)


def _nul_in_path(method: str) -> tuple[int, bytes]:
    """A PUT names what it creates or replaces, and such a name is invalid (400); every other method
    looks up what the path names, and nothing is named so (404)."""
    if method == "PUT":
        message = "Invalid path: a name must not contain a NUL byte."
        return 400, error_body(message, "invalid_request_error", None, "invalid_value")
    message = "Nothing has an id with a NUL byte in it."
    return 404, error_body(message, "invalid_request_error", None, "not_found")


def _param_with_nul(query: bytes) -> str | None:
    """The first query parameter whose name or value decodes to text with a NUL byte."""
    # Most queries hold no escape for one: the scan costs nothing then.
    if b"%00" not in query and b"\x00" not in query:
        return None
    for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            return name.replace("\x00", "\\0")
    return None


async def _send(send: Send, status: int, body: bytes) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
