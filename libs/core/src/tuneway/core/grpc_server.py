"""gRPC server builder: health checking, reflection, and one interceptor for metrics, logs and errors."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import aclosing
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection

from tuneway.core.db import database_unreachable
from tuneway.core.errors import DomainError, InvalidArgumentError, trailing_metadata
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
    if database_unreachable(error):
        # The database is down or restarting: the caller may retry (a gateway answers 503), not a bug.
        log.warning("database unavailable: %s: %s", type(error).__name__, error)
        await context.abort(
            grpc.StatusCode.UNAVAILABLE, "The service's database is unavailable; please retry."
        )
    log.exception("unhandled error in RPC", exc_info=error)
    await context.abort(grpc.StatusCode.INTERNAL, "internal error")
    return "INTERNAL"  # pragma: no cover - abort raises


def _bind_context(request: Any) -> None:
    """Checks the request's tenant and puts it (and a request id) on every log line.

    Every request message with a `tenant_id` field is about one tenant's data, so an empty one is
    refused here, once for every servicer, rather than read as "no tenant" by a query.
    """
    if "tenant_id" in request.DESCRIPTOR.fields_by_name:
        if not request.tenant_id:
            raise InvalidArgumentError("tenant_id is required.", param="tenant_id")
        tenant_var.set(request.tenant_id)
    request_id = getattr(request, "request_id", None)
    if request_id:
        request_id_var.set(request_id)


class ServiceInterceptor(grpc.aio.ServerInterceptor):
    """Counts and times every RPC, binds log context and maps DomainError to a status with metadata.

    It also keeps the calls running now and how many were ever cancelled (their client left, or the
    drain ran out), which the server's drain reports."""

    def __init__(self, metrics: GrpcMetrics) -> None:
        self._metrics = metrics
        self.in_flight = 0
        self.cancelled = 0
        # Set while no call runs: the drain waits on it for the calls it cancelled to count themselves.
        self.idle = asyncio.Event()
        self.idle.set()

    def _started(self) -> None:
        self.in_flight += 1
        self.idle.clear()

    def _ended(self, code: str) -> None:
        self.in_flight -= 1
        if code == "CANCELLED":
            self.cancelled += 1
        if self.in_flight == 0:
            self.idle.set()

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
                self._started()
                try:
                    _bind_context(request)
                    return await inner(request, context)
                except DomainError as error:
                    code = error.grpc_code.name
                    await _abort_for(error, context)
                except asyncio.CancelledError:  # the client went away, or the drain ran out
                    code = "CANCELLED"
                    raise
                except Exception as error:
                    if isinstance(error, grpc.aio.AbortError):
                        code = "ABORTED_BY_HANDLER"
                        raise
                    code = "UNAVAILABLE" if database_unreachable(error) else "INTERNAL"
                    await _abort_for(error, context)
                finally:
                    self._ended(code)
                    metrics.observe(method, code, time.perf_counter() - started)

            return grpc.unary_unary_rpc_method_handler(
                unary, handler.request_deserializer, handler.response_serializer
            )
        if handler.unary_stream:
            inner_stream = handler.unary_stream

            # A coroutine that writes, not a generator that yields: when the client goes away grpc
            # cancels this task wherever it waits, even in a write, and aclosing() then closes the
            # handler's generators at once (down to the engine's stream, which aborts the work).
            # A suspended generator that grpc merely drops is finalised only by the garbage collector.
            async def stream(request: Any, context: grpc.aio.ServicerContext) -> None:
                started, code = time.perf_counter(), "OK"
                self._started()
                try:
                    _bind_context(request)
                    async with aclosing(inner_stream(request, context)) as items:
                        async for item in items:
                            await context.write(item)
                except DomainError as error:
                    code = error.grpc_code.name
                    await _abort_for(error, context)
                except BaseException as error:
                    if isinstance(error, grpc.aio.AbortError):
                        raise
                    if not isinstance(error, Exception):  # CancelledError: the client went away
                        code = "CANCELLED"
                        raise
                    code = "UNAVAILABLE" if database_unreachable(error) else "INTERNAL"
                    await _abort_for(error, context)
                finally:
                    self._ended(code)
                    metrics.observe(method, code, time.perf_counter() - started)

            return grpc.unary_stream_rpc_method_handler(
                stream, handler.request_deserializer, handler.response_serializer
            )
        return handler


class GrpcServer:
    """A service's grpc.aio server with its health servicer: listening, ready, draining."""

    def __init__(
        self,
        server: grpc.aio.Server,
        health: HealthServicer,
        service_names: Sequence[str],
        calls: ServiceInterceptor | None = None,
    ) -> None:
        self.server = server
        self.health = health
        self._service_names = tuple(service_names)
        self._calls = calls

    async def start(self) -> None:
        """Listens; health checks answer NOT_SERVING until `mark_serving`."""
        await self.server.start()

    async def mark_serving(self) -> None:
        """Reports the server and each of its services as SERVING to health checks."""
        for name in ("", *self._service_names):
            await self.health.set(name, health_pb2.HealthCheckResponse.SERVING)

    async def stop(self, grace_seconds: float | None) -> None:
        """Reports NOT_SERVING, refuses new RPCs and gives in-flight ones `grace_seconds` to finish;
        logs how many calls were in flight and how many of them the drain cut off."""
        await self.health.enter_graceful_shutdown()
        calls = self._calls
        in_flight, cancelled = (calls.in_flight, calls.cancelled) if calls else (0, 0)
        await self.server.stop(grace_seconds)
        if calls is not None:
            # The calls the stop cancelled count themselves as they unwind, which is after it returns.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(calls.idle.wait(), 1.0)
            cut = calls.cancelled - cancelled
            log.info("drained", extra={"in_flight": in_flight, "cut": cut, "grace_seconds": grace_seconds})


def build_server(
    *,
    service: str,
    registrars: Sequence[Registrar],
    service_names: Sequence[str],
    bind: str,
    options: Sequence[tuple[str, Any]] = (),
) -> GrpcServer:
    """A grpc.aio server with our interceptor, health (SERVING once marked) and reflection, bound."""
    calls = ServiceInterceptor(GrpcMetrics.for_service(service))
    server = grpc.aio.server(
        interceptors=[calls],
        options=[
            ("grpc.max_receive_message_length", 64 * 1024 * 1024),
            ("grpc.max_send_message_length", 64 * 1024 * 1024),
            ("grpc.so_reuseport", 0),
            # Our clients ping every 30 s during a call (grpc_client.py); with gRPC's defaults (one ping
            # per 5 min without data, 2 strikes) a call longer than a minute or so, like ingesting a big
            # document, is cut off with "Too many pings".
            ("grpc.http2.min_recv_ping_interval_without_data_ms", 10_000),
            ("grpc.http2.max_ping_strikes", 0),
            *options,
        ],
    )
    for register in registrars:
        register(server)
    health = HealthServicer()
    # grpc's servicer starts the whole server ("") as SERVING; ours serves only after mark_serving, so
    # a probe never sees a replica that is still loading (e.g. its adapters) as ready.
    health._server_status[""] = health_pb2.HealthCheckResponse.NOT_SERVING
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    reflection.enable_server_reflection(
        [*service_names, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME],
        server,
    )
    server.add_insecure_port(bind)
    return GrpcServer(server, health, service_names, calls)
