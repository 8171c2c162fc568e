"""Server-sent event responses (chat completion chunks, fine-tuning job events) and their shared parts."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
from starlette.responses import StreamingResponse
from starlette.types import Send

# OpenAI's last event of a stream.
DONE = b"data: [DONE]\n\n"
# No caching, and no buffering by proxies such as nginx: each event must reach the client as it is sent.
_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


class ClosingStreamingResponse(StreamingResponse):
    """Starlette drops the body generator when the client disconnects while a chunk is being sent;
    its `finally` (which cancels the gRPC call, and with it the engine's work) would then wait for
    the garbage collector. This closes it at once, shielded from the disconnect's cancellation."""

    async def stream_response(self, send: Send) -> None:
        try:
            await super().stream_response(send)
        finally:
            close = getattr(self.body_iterator, "aclose", None)
            if close is not None:
                with anyio.CancelScope(shield=True):
                    await close()


def event_stream_response(
    events: AsyncIterator[bytes], headers: dict[str, str] | None = None
) -> ClosingStreamingResponse:
    """A 200 `text/event-stream` of `events` (already formatted), with `headers` besides the SSE ones."""
    return ClosingStreamingResponse(
        events, media_type="text/event-stream", headers={**_HEADERS, **(headers or {})}
    )
