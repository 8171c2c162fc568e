"""A job's events as server-sent events: oldest first, live until the job ends, with keepalive comments."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import orjson

from tuneway.api.trainer.v1 import trainer_pb2 as pb
from tuneway.core.errors import DomainError
from tuneway.gateway.clients.trainer import TrainerClient
from tuneway.gateway.errors import domain_error_response
from tuneway.gateway.fine_tuning.responses import event_object
from tuneway.gateway.streaming import DONE

KEEPALIVE = b": keepalive\n\n"
_END = object()


def sse_event(event: pb.JobEvent) -> bytes:
    """One SSE message; its id is the event's sequence number, which Last-Event-ID resumes after."""
    return b"id: %d\ndata: %s\n\n" % (event.seq, orjson.dumps(event_object(event)))


async def event_stream(
    trainer: TrainerClient, tenant_id: str, job_id: str, after_seq: int, keepalive: float
) -> AsyncIterator[bytes]:
    """Relays WatchJobEvents; a comment line goes out whenever the job is quiet for `keepalive` s."""
    # The watch runs in its own task feeding a queue, so waiting with a timeout never cancels the RPC.
    queue: asyncio.Queue[object] = asyncio.Queue(maxsize=1024)
    request = pb.WatchJobEventsRequest(tenant_id=tenant_id, job_id=job_id, after_seq=after_seq)

    async def pump() -> None:
        try:
            async for response in trainer.stream(trainer.stub.WatchJobEvents, request):
                await queue.put(response.event)
            await queue.put(_END)
        except DomainError as error:
            await queue.put(error)

    task = asyncio.create_task(pump())
    try:
        while True:
            try:
                item = await asyncio.wait_for(queue.get(), keepalive)
            except TimeoutError:
                yield KEEPALIVE
                continue
            if item is _END:
                yield DONE
                return
            if isinstance(item, DomainError):
                # Headers are gone already: the error travels as a final SSE message in OpenAI's envelope.
                yield b"event: error\ndata: %s\n\n" % bytes(domain_error_response(item).body)
                return
            assert isinstance(item, pb.JobEvent)
            yield sse_event(item)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
