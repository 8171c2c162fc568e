"""gRPC clients of the services behind the gateway, raising domain errors instead of RpcErrors."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tuneway.api.inference.v1 import inference_pb2 as pb
from tuneway.api.inference.v1 import inference_pb2_grpc
from tuneway.core.errors import DomainError, UnavailableError, from_rpc_error
from tuneway.core.grpc_client import create_channel
from tuneway.gateway.generation_stream import GenerationStream


def unavailable(service: str) -> UnavailableError:
    """The 503 for a service the gateway cannot reach."""
    return UnavailableError(
        f"The {service} service is unavailable right now; please retry shortly.", code="service_unavailable"
    )


def rpc_error(error: grpc.aio.AioRpcError, service: str) -> DomainError:
    """The domain error for a failed call; transport failures become 503 naming the service."""
    if error.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED):
        return unavailable(service)
    return from_rpc_error(error)


class ServiceClient:
    """A channel to one service behind the gateway: calls with a deadline that raise domain errors
    (transport failures as 503 naming the service), its health, and closing."""

    def __init__(self, target: str, service: str, rpc_timeout: float) -> None:
        self._channel = create_channel(target)
        self._health = health_pb2_grpc.HealthStub(self._channel)
        self._service = service
        self._timeout = rpc_timeout

    async def _call(self, rpc: Any, request: Any, deadline: float | None = None) -> Any:
        """The response of a unary `rpc` (a stub method), within `deadline` or the default one."""
        try:
            return await rpc(request, timeout=deadline or self._timeout)
        except grpc.aio.AioRpcError as error:
            raise rpc_error(error, self._service) from None

    async def _stream(self, start: Callable[[], Any]) -> AsyncGenerator[Any, None]:
        """The messages of the server-streaming call that `start()` opens (on first iteration), with
        domain errors; closing this early cancels the call, and with it the work on the server."""
        call = start()
        try:
            async for response in call:
                yield response
        except grpc.aio.AioRpcError as error:
            raise rpc_error(error, self._service) from None
        finally:
            call.cancel()  # a no-op once the call has finished

    async def ready(self) -> bool:
        """Whether the service reports SERVING (inference does once its adapters are loaded)."""
        try:
            response = await self._health.Check(health_pb2.HealthCheckRequest(service=""), timeout=1.0)
        except grpc.aio.AioRpcError:
            return False
        return response.status == health_pb2.HealthCheckResponse.SERVING

    async def close(self) -> None:
        """Closes the channel."""
        await self._channel.close()


class InferenceClient(ServiceClient):
    """Calls the inference service: streaming generation, model listing and health."""

    def __init__(self, target: str, rpc_timeout: float, connect_seconds: float = 2.0) -> None:
        super().__init__(target, "inference", rpc_timeout)
        self._stub = inference_pb2_grpc.InferenceServiceStub(self._channel)
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

    async def list_models(self, tenant_id: str) -> list[pb.ModelInfo]:
        """The base model and the tenant's adapters."""
        response = await self._call(self._stub.ListModels, pb.ListModelsRequest(tenant_id=tenant_id))
        return list(response.models)
