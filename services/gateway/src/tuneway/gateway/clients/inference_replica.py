"""One inference replica as the gateway sees it: its channels, its generation stream, how many
generations it runs for this gateway, and whether it takes new ones."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tuneway.api.inference.v1 import inference_pb2 as pb
from tuneway.api.inference.v1 import inference_pb2_grpc
from tuneway.core.errors import DomainError
from tuneway.core.grpc_client import create_channel
from tuneway.gateway.clients.base import rpc_error, unavailable
from tuneway.gateway.clients.generation_stream import GenerationStream

log = logging.getLogger(__name__)
# How often a replica that is down is asked whether it serves again.
PROBE_SECONDS = 0.25


class InferenceReplica:
    """A replica takes new generations while its stream is open. A watcher opens the stream once the
    replica reports SERVING and waits for it to break: a replica that dies or drains breaks it at once
    (its calls in flight fail with 503, as with one replica) and is probed until it serves again.

    Unary calls get a channel of their own with retries; the stream's channel has none (gRPC would keep
    every message of a retryable call for replay)."""

    def __init__(self, address: str, connect_seconds: float) -> None:
        self.address = address
        self.in_flight = 0
        self.retired = False
        self._closed = False
        self._channel = create_channel(address)
        self.stub = inference_pb2_grpc.InferenceServiceStub(self._channel)
        self._health = health_pb2_grpc.HealthStub(self._channel)
        self._generation_channel = create_channel(address, retries=False)
        self._generations = GenerationStream(self._generation_channel, _stream_error, connect_seconds)
        self._watcher = asyncio.create_task(self._watch())

    @property
    def up(self) -> bool:
        """Whether new generations go here: its stream is open and it is still among the replicas."""
        return self._generations.is_open and not self.retired

    def generate(self, request: pb.GenerateRequest) -> AsyncGenerator[pb.GenerateResponse, None]:
        """The generation on this replica's stream (the caller counts it in `in_flight`)."""
        return self._generations.generate(request)

    async def ended(self) -> None:
        """Called as a generation counted in `in_flight` ends: a retired replica closes after its last."""
        self.in_flight -= 1
        if self.retired and not self.in_flight:
            await self.close()

    async def serving(self) -> bool:
        """Whether the replica reports SERVING (inference does once its adapters are loaded)."""
        try:
            response = await self._health.Check(health_pb2.HealthCheckRequest(service=""), timeout=1.0)
        except grpc.aio.AioRpcError:
            return False
        return response.status == health_pb2.HealthCheckResponse.SERVING

    async def _until_serving(self) -> None:
        # Polled: nothing tells the gateway when a replica's process is back.
        while True:
            if await self.serving():
                return
            await asyncio.sleep(PROBE_SECONDS)

    async def _watch(self) -> None:
        while True:
            await self._until_serving()
            try:
                stream = await self._generations.open()
            except DomainError:  # its channel did not connect in time: probe again
                continue
            log.info("inference replica up", extra={"replica": self.address})
            await stream.closed.wait()
            log.info("inference replica down", extra={"replica": self.address})

    async def retire(self) -> None:
        """Takes no new generations; closes once those in flight have ended (a replica that left DNS
        is usually draining, and finishes them)."""
        self.retired = True
        self._watcher.cancel()
        if not self.in_flight:
            await self.close()

    async def close(self) -> None:
        """Ends the stream (calls in flight fail with 503) and closes both channels."""
        if self._closed:
            return
        self._closed = True
        self._watcher.cancel()
        self._generations.close()
        await self._generation_channel.close()
        await self._channel.close()


def _stream_error(error: grpc.aio.AioRpcError | None) -> DomainError:
    return rpc_error(error, "inference") if error else unavailable("inference")
