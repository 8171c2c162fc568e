"""gRPC clients of the services behind the gateway, raising domain errors instead of RpcErrors."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tuneway.api.inference.v1 import inference_pb2 as pb
from tuneway.api.inference.v1 import inference_pb2_grpc
from tuneway.core.errors import DomainError, UnavailableError, from_rpc_error
from tuneway.core.grpc_client import create_channel


def _mapped(error: grpc.aio.AioRpcError, service: str) -> DomainError:
    if error.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED):
        return UnavailableError(
            f"The {service} service is unavailable right now; please retry shortly.",
            code="service_unavailable",
        )
    return from_rpc_error(error)


class InferenceClient:
    """Calls the inference service: streaming generation, model listing and health."""

    def __init__(self, target: str, rpc_timeout: float) -> None:
        self._channel = create_channel(target)
        self._stub = inference_pb2_grpc.InferenceServiceStub(self._channel)
        self._health = health_pb2_grpc.HealthStub(self._channel)
        self._timeout = rpc_timeout

    async def generate(self, request: pb.GenerateRequest) -> AsyncGenerator[pb.GenerateResponse, None]:
        """Streams the generation; closing this iterator early cancels it on the engine."""
        call = self._stub.Generate(request)
        try:
            async for response in call:
                yield response
        except grpc.aio.AioRpcError as error:
            raise _mapped(error, "inference") from None
        finally:
            call.cancel()  # no-op once finished; aborts the vLLM request when the client went away

    async def list_models(self, tenant_id: str) -> list[pb.ModelInfo]:
        """The base model and the tenant's adapters."""
        try:
            response = await self._stub.ListModels(
                pb.ListModelsRequest(tenant_id=tenant_id), timeout=self._timeout
            )
        except grpc.aio.AioRpcError as error:
            raise _mapped(error, "inference") from None
        return list(response.models)

    async def ready(self) -> bool:
        """Whether the service reports SERVING (it does once its adapters are loaded)."""
        try:
            response = await self._health.Check(health_pb2.HealthCheckRequest(service=""), timeout=1.0)
        except grpc.aio.AioRpcError:
            return False
        return response.status == health_pb2.HealthCheckResponse.SERVING

    async def close(self) -> None:
        """Closes the channel."""
        await self._channel.close()
