"""gRPC client of the inference service: generations over one shared stream, model listing and health."""

from __future__ import annotations

from collections.abc import AsyncGenerator

from tuneway.api.inference.v1 import inference_pb2 as pb
from tuneway.api.inference.v1 import inference_pb2_grpc
from tuneway.core.grpc_client import create_channel
from tuneway.gateway.clients.base import ServiceClient, rpc_error, unavailable
from tuneway.gateway.clients.generation_stream import GenerationStream


class InferenceClient(ServiceClient[inference_pb2_grpc.InferenceServiceStub]):
    """InferenceService: unary calls (model listing) with the default deadline, generations over one
    shared stream."""

    def __init__(self, target: str, rpc_timeout: float, connect_seconds: float = 2.0) -> None:
        super().__init__(target, "inference", rpc_timeout, inference_pb2_grpc.InferenceServiceStub)
        # Generations share one long-lived stream, on a channel of its own without retries (gRPC would
        # keep every message of a retryable call for replay); a broken stream fails its calls with 503.
        self._generation_channel = create_channel(target, retries=False)
        self._generations = GenerationStream(
            self._generation_channel,
            lambda error: rpc_error(error, "inference") if error else unavailable("inference"),
            connect_seconds,
        )

    def generate(self, request: pb.GenerateRequest) -> AsyncGenerator[pb.GenerateResponse, None]:
        """Streams the generation; closing this iterator early aborts it on the engine."""
        return self._generations.generate(request)

    async def close(self) -> None:
        """Ends the generation stream and closes both channels."""
        self._generations.close()
        await self._generation_channel.close()
        await super().close()
