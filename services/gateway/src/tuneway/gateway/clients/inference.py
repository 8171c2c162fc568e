"""gRPC client of the inference service: generations spread over its replicas, each replica's over one
shared stream; model listing and health on any replica that is up."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from typing import Any

import grpc
from google.protobuf.message import Message

from tuneway.api.inference.v1 import inference_pb2 as pb
from tuneway.api.inference.v1 import inference_pb2_grpc
from tuneway.gateway.clients.base import rpc_error
from tuneway.gateway.clients.inference_replicas import InferenceReplicas
from tuneway.gateway.clients.targets import parse_targets


class InferenceClient:
    """InferenceService on every replica `target` names (GATEWAY_INFERENCE_TARGET: host:port entries,
    comma-separated, names re-resolved every `resolve_seconds`). Built inside the event loop."""

    def __init__(
        self, target: str, rpc_timeout: float, connect_seconds: float = 2.0, resolve_seconds: float = 5.0
    ) -> None:
        targets = parse_targets(target, "GATEWAY_INFERENCE_TARGET")
        self._replicas = InferenceReplicas(targets, connect_seconds, resolve_seconds)
        self._timeout = rpc_timeout

    @property
    def stub(self) -> inference_pb2_grpc.InferenceServiceStub:
        """The stub of a replica that is up (503 if none is known), for `call`."""
        return self._replicas.pick().stub

    async def call(self, method: Callable[..., Any], request: Message, deadline: float | None = None) -> Any:
        """The response of the unary `method` (a method of `stub`), within `deadline` or the default one."""
        try:
            return await method(request, timeout=deadline or self._timeout)
        except grpc.aio.AioRpcError as error:
            raise rpc_error(error, "inference") from None

    def generate(self, request: pb.GenerateRequest) -> AsyncGenerator[pb.GenerateResponse, None]:
        """Streams the generation from the replica with the fewest in flight; closing this iterator
        early aborts it on the engine."""
        return self._replicas.generate(request)

    async def ready(self) -> bool:
        """Whether some replica serves (inference does once its adapters are loaded)."""
        return await self._replicas.ready()

    def replicas(self) -> dict[str, bool]:
        """Each replica's address and whether it takes new generations."""
        return self._replicas.addresses()

    async def close(self) -> None:
        """Ends the generation streams and closes every channel."""
        await self._replicas.close()
