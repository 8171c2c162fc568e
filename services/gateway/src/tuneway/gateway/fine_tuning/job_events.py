"""A job's events as server-sent events: oldest first, live until the job ends, with keepalive comments."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import orjson

from tuneway.api.trainer.v1 import trainer_pb2 as pb
from tuneway.core.errors import DomainError, UnavailableError
from tuneway.gateway.clients.trainer import TrainerClient
from tuneway.gateway.errors import domain_error_response
from tuneway.gateway.fine_tuning.responses import event_object
from tuneway.gateway.streaming import DONE

KEEPALIVE = b": keepalive\n\n"
# How long a stream waits for an unreachable trainer to be back (a restart takes seconds) before it ends
# with the 503 as its last event, and how often it tries meanwhile.
RESUME_WITHIN_SECONDS = 30.0
RESUME_INTERVAL_SECONDS = 0.5
_END = object()


def sse_event(event: pb.JobEvent) -> bytes:
    """One SSE message; its id is the event's sequence number, which Last-Event-ID resumes after."""
    return b"id: %d\ndata: %s\n\n" % (event.seq, orjson.dumps(event_object(event)))


async def event_stream(
    trainer: TrainerClient,
    tenant_id: str,
    job_id: str,
    after_seq: int,
    keepalive: float,
    resume_within: float = RESUME_WITHIN_SECONDS,
) -> AsyncIterator[bytes]:
    """Relays WatchJobEvents; a comment line goes out whenever the job is quiet for `keepalive` s. When
    the trainer cannot be reached (a replica restarted or rolled), the watch is reopened after the last
    event relayed for up to `resume_within` s, so the client misses nothing and sees nothing twice."""
    # The watch runs in its own task feeding a queue, so waiting with a timeout never cancels the RPC.
    queue: asyncio.Queue[object] = asyncio.Queue(maxsize=1024)
    loop = asyncio.get_running_loop()

    async def pump() -> None:
        last_seq, give_up_at = after_seq, 0.0
        while True:
            request = pb.WatchJobEventsRequest(tenant_id=tenant_id, job_id=job_id, after_seq=last_seq)
            try:
                async for response in trainer.stream(trainer.stub.WatchJobEvents, request):
                    give_up_at = 0.0
                    last_seq = response.event.seq
                    await queue.put(response.event)
                await queue.put(_END)
                return
            except UnavailableError as error:
                give_up_at = give_up_at or loop.time() + resume_within
                if loop.time() >= give_up_at:
                    await queue.put(error)
                    return
                await asyncio.sleep(RESUME_INTERVAL_SECONDS)
            except DomainError as error:
                await queue.put(error)
                return

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
