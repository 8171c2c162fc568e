"""Server-sent event responses (chat completion chunks, fine-tuning job events) and their shared parts."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable

import anyio
from starlette.responses import StreamingResponse
from starlette.types import Send

from tuneway.api.inference.v1 import inference_pb2 as pb
from tuneway.core.errors import DomainError
from tuneway.gateway.errors import domain_error_response

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


async def relay_generation(
    first: pb.GenerateResponse,
    rest: AsyncGenerator[pb.GenerateResponse, None],
    events_of: Callable[[pb.GenerateResponse], Iterable[bytes]],
    usage_event: Callable[[pb.GenerateResponse], bytes] | None,
) -> AsyncGenerator[bytes, None]:
    """A generation's responses as SSE events (`events_of` writes each response's), up to the response
    that carries the usage (the generation's last, once every choice finished); then the usage event if
    asked, and [DONE]. A failure after the first response ends the stream with an `error` event."""
    last = first
    try:
        response = first
        while True:
            for event in events_of(response):
                yield event
            if response.finish_reason or response.HasField("usage"):
                last = response
            if response.HasField("usage"):
                break
            response = await anext(rest)
    except DomainError as error:
        # Headers are gone; OpenAI-compatible clients read an `error` event and stop.
        yield b"data: " + bytes(domain_error_response(error).body) + b"\n\n"
        return
    except StopAsyncIteration:
        pass
    finally:
        await rest.aclose()
    if usage_event is not None:
        yield usage_event(last)
    yield DONE
