"""gRPC server builder: health checking, reflection, and one interceptor for metrics, logs and errors."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection

from tuneway.core.errors import DomainError, trailing_metadata
from tuneway.core.logging import request_id_var, tenant_var
from tuneway.core.metrics import GrpcMetrics

log = logging.getLogger(__name__)

Registrar = Callable[[grpc.aio.Server], None]


def _method_name(full: str) -> str:
    return full.rsplit("/", 1)[-1]


async def _abort_for(error: Exception, context: grpc.aio.ServicerContext) -> str:
    """Turns `error` into the RPC's status; returns the code name for metrics."""
    if isinstance(error, DomainError):
        await context.abort(error.grpc_code, error.message, trailing_metadata(error))
    log.exception("unhandled error in RPC", exc_info=error)
    await context.abort(grpc.StatusCode.INTERNAL, "internal error")
    return "INTERNAL"  # pragma: no cover - abort raises


def _bind_context(request: Any) -> None:
    # Requests carry the tenant and, for generation, a request id: put them on every log line.
    tenant = getattr(request, "tenant_id", None)
    if tenant:
        tenant_var.set(tenant)
    request_id = getattr(request, "request_id", None)
    if request_id:
        request_id_var.set(request_id)


class ServiceInterceptor(grpc.aio.ServerInterceptor):
    """Counts and times every RPC, binds log context and maps DomainError to a status with metadata."""

    def __init__(self, metrics: GrpcMetrics) -> None:
        self._metrics = metrics

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None or handler.request_streaming:
            return handler
        method = _method_name(handler_call_details.method)
        if method in ("Check", "Watch", "ServerReflectionInfo"):
            return handler
        metrics = self._metrics
        if handler.unary_unary:
            inner = handler.unary_unary

            async def unary(request: Any, context: grpc.aio.ServicerContext) -> Any:
                started, code = time.perf_counter(), "OK"
                _bind_context(request)
                try:
                    return await inner(request, context)
                except DomainError as error:
                    code = error.grpc_code.name
                    await _abort_for(error, context)
                except Exception as error:
                    if isinstance(error, grpc.aio.AbortError):
                        code = "ABORTED_BY_HANDLER"
                        raise
                    code = "INTERNAL"
                    await _abort_for(error, context)
                finally:
                    metrics.observe(method, code, time.perf_counter() - started)

            return grpc.unary_unary_rpc_method_handler(
                unary, handler.request_deserializer, handler.response_serializer
            )
        if handler.unary_stream:
            inner_stream = handler.unary_stream

            async def stream(request: Any, context: grpc.aio.ServicerContext) -> Any:
                started, code = time.perf_counter(), "OK"
                _bind_context(request)
                try:
                    async for item in inner_stream(request, context):
                        yield item
                except DomainError as error:
                    code = error.grpc_code.name
                    await _abort_for(error, context)
                except BaseException as error:
                    if isinstance(error, grpc.aio.AbortError | GeneratorExit):
                        raise
                    if not isinstance(error, Exception):  # CancelledError: the client went away
                        code = "CANCELLED"
                        raise
                    code = "INTERNAL"
                    await _abort_for(error, context)
                finally:
                    metrics.observe(method, code, time.perf_counter() - started)

            return grpc.unary_stream_rpc_method_handler(
                stream, handler.request_deserializer, handler.response_serializer
            )
        return handler


def build_server(
    *,
    service: str,
    registrars: Sequence[Registrar],
    service_names: Sequence[str],
    bind: str,
    options: Sequence[tuple[str, Any]] = (),
) -> tuple[grpc.aio.Server, HealthServicer]:
    """A grpc.aio server with our interceptor, health (SERVING per service) and reflection, bound."""
    server = grpc.aio.server(
        interceptors=[ServiceInterceptor(GrpcMetrics.for_service(service))],
        options=[
            ("grpc.max_receive_message_length", 64 * 1024 * 1024),
            ("grpc.max_send_message_length", 64 * 1024 * 1024),
            ("grpc.so_reuseport", 0),
            *options,
        ],
    )
    for register in registrars:
        register(server)
    health = HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    reflection.enable_server_reflection(
        [*service_names, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME],
        server,
    )
    server.add_insecure_port(bind)
    return server, health


async def mark_serving(health: HealthServicer, service_names: Sequence[str]) -> None:
    """Reports the server and each named service as SERVING to health checks."""
    for name in ("", *service_names):
        await health.set(name, health_pb2.HealthCheckResponse.SERVING)
