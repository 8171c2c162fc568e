"""`x-request-id` on every response, as OpenAI's API sends it: the caller's own id when it sent a sane one
(kept for tracing across its systems and ours), else the completion id of a chat completion, else a new
`req_<hex>`. The same id is the request id of the gateway's log lines."""

from __future__ import annotations

import re
import secrets

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tuneway.core.logging import request_id_var

HEADER = "x-request-id"
# What an incoming id may be: the characters of UUIDs, ULIDs, OpenAI's and tracing systems' ids, and no
# more than fits a log line. Anything else (control characters, spaces, a megabyte) is replaced, never
# echoed into our headers or logs.
_SANE = re.compile(r"[A-Za-z0-9._:+=/@-]{1,128}")
# Where the request's id lives in the scope's state (request.state), for routes and error handlers.
_STATE_ID = "request_id"
_STATE_INCOMING = "request_id_incoming"


def new_request_id() -> str:
    """A fresh id in OpenAI's shape (`req_` and 32 hex digits)."""
    return "req_" + secrets.token_hex(16)


def incoming_request_id(scope: Scope) -> str | None:
    """The caller's `x-request-id`, if it sent one sane id (a repeated header counts as none)."""
    values = [value for name, value in scope["headers"] if name == HEADER.encode()]
    if len(values) != 1:
        return None
    text = values[0].decode("latin-1")
    return text if _SANE.fullmatch(text) else None


def request_id(request: Request) -> str:
    """The id the response to `request` carries (set by RequestIdMiddleware)."""
    return str(getattr(request.state, _STATE_ID, "")) or new_request_id()


def use_completion_id(request: Request, completion_id: str) -> None:
    """A chat completion's id becomes its request id, unless the caller sent its own."""
    if not getattr(request.state, _STATE_INCOMING, False):
        request.state.request_id = completion_id
        request_id_var.set(completion_id)


class RequestIdMiddleware:
    """Picks the request's id, binds it to the log context, and adds `x-request-id` to the response
    (read from the scope's state when the response starts, so a route may still have replaced it)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = incoming_request_id(scope)
        state = scope.setdefault("state", {})
        state[_STATE_ID] = incoming or new_request_id()
        state[_STATE_INCOMING] = incoming is not None
        request_id_var.set(state[_STATE_ID])

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(n, v) for n, v in message.get("headers", []) if n.lower() != HEADER.encode()]
                headers.append((HEADER.encode(), str(state[_STATE_ID]).encode("latin-1")))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_id)
