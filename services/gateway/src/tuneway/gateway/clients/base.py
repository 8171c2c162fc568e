"""What every gRPC client of the gateway shares: a channel, calls with a deadline that raise domain errors
instead of RpcErrors, health and closing."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from typing import Any, Generic, TypeVar

import grpc
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tuneway.core.errors import DomainError, UnavailableError, from_rpc_error
from tuneway.core.grpc_client import create_channel

# The generated stub class of the service (e.g. PromptServiceStub).
Stub = TypeVar("Stub")


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


class ServiceClient(Generic[Stub]):
    """A channel to one service behind the gateway and its stub. Every RPC goes one way,
    `await client.call(client.stub.Method, request)`: within a deadline, failures as domain errors
    (transport failures as 503 naming the service); server-streaming ones through `stream`."""

    def __init__(
        self, target: str, service: str, rpc_timeout: float, stub: Callable[[grpc.aio.Channel], Stub]
    ) -> None:
        self._channel = create_channel(target)
        self.stub = stub(self._channel)
        self._health = health_pb2_grpc.HealthStub(self._channel)
        self._service = service
        self._timeout = rpc_timeout

    async def call(self, method: Callable[..., Any], request: Message, deadline: float | None = None) -> Any:
        """The response of the unary `method` (a method of `stub`), within `deadline` or the default one."""
        try:
            return await method(request, timeout=deadline or self._timeout)
        except grpc.aio.AioRpcError as error:
            raise rpc_error(error, self._service) from None

    async def stream(self, method: Callable[..., Any], request: Message) -> AsyncGenerator[Any, None]:
        """The messages of the server-streaming `method`, opened on first iteration and without a
        deadline; closing this early cancels the call, and with it the work on the server."""
        call = method(request)
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
