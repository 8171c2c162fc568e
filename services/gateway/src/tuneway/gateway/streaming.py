"""A StreamingResponse that closes its body generator the moment the response ends."""

from __future__ import annotations

import anyio
from starlette.responses import StreamingResponse
from starlette.types import Send


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
