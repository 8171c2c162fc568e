"""OpenAI's rate-limit headers: the limit, what remains and when it resets, for requests and tokens.

Every response of a limited route carries them (429s included); they are kept in the request's
state by the admission and added as the response starts, whatever produced the response.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Where the admission leaves the headers in the scope's state (request.state).
STATE_KEY = "rate_limit_headers"


@dataclass(frozen=True)
class Window:
    """One limit as seen now: its size, what remains of it and the seconds until more is available."""

    limit: int
    remaining: int
    reset_seconds: float


def duration(seconds: float) -> str:
    """A wait as OpenAI writes it (Go's duration format): '20ms', '1.5s', '6m0s'."""
    if seconds < 1:
        return f"{max(0, round(seconds * 1000))}ms"
    minutes, rest = divmod(round(seconds, 3), 60)
    text = f"{rest:.3f}".rstrip("0").rstrip(".") + "s"
    return f"{int(minutes)}m{text}" if minutes else text


def header_values(requests: Window | None, tokens: Window | None) -> list[tuple[bytes, bytes]]:
    """The x-ratelimit-* headers of the binding request and token windows (None: not limited)."""
    headers: list[tuple[bytes, bytes]] = []
    for kind, window in (("requests", requests), ("tokens", tokens)):
        if window is None:
            continue
        headers += [
            (f"x-ratelimit-limit-{kind}".encode(), str(window.limit).encode()),
            (f"x-ratelimit-remaining-{kind}".encode(), str(window.remaining).encode()),
            (f"x-ratelimit-reset-{kind}".encode(), duration(window.reset_seconds).encode()),
        ]
    return headers


class RateLimitHeadersMiddleware:
    """Adds the headers the admission left in the request's state to its response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})

        async def send_with_limits(message: Message) -> None:
            if message["type"] == "http.response.start" and state.get(STATE_KEY):
                message["headers"] = [*message.get("headers", []), *state[STATE_KEY]]
            await send(message)

        await self.app(scope, receive, send_with_limits)
