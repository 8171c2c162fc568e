"""The server builder over a real gRPC server: errors keep their class, field and code; health; metrics."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from prometheus_client import REGISTRY

from tuneway.api.inference.v1 import inference_pb2 as pb
from tuneway.api.inference.v1 import inference_pb2_grpc
from tuneway.core.errors import InvalidArgumentError, NotFoundError, from_rpc_error
from tuneway.core.grpc_client import create_channel
from tuneway.core.grpc_server import build_server
from tuneway.core.testing.processes import free_port

SERVICE = "tuneway.api.inference.v1.InferenceService"


class RaisingServicer(inference_pb2_grpc.InferenceServiceServicer):
    """Exercises the interceptor: unary and streaming handlers that raise domain errors."""

    async def ListModels(
        self, request: pb.ListModelsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListModelsResponse:
        if request.tenant_id == "missing":
            raise NotFoundError("no such tenant", param="tenant_id", code="tenant_not_found")
        if request.tenant_id == "boom":
            raise RuntimeError("secret internals")
        return pb.ListModelsResponse(models=[pb.ModelInfo(id="m")])

    async def ListAdapters(
        self, request: pb.ListAdaptersRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListAdaptersResponse:
        return pb.ListAdaptersResponse()

    async def Generate(
        self, request: pb.GenerateRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.GenerateResponse]:
        yield pb.GenerateResponse(text_delta="a")
        raise InvalidArgumentError("bad temperature", param="temperature")


@pytest.fixture
async def channel() -> AsyncIterator[grpc.aio.Channel]:
    port = free_port()
    server = build_server(
        service="coretest",
        registrars=[
            lambda s: inference_pb2_grpc.add_InferenceServiceServicer_to_server(RaisingServicer(), s)
        ],
        service_names=[SERVICE],
        bind=f"127.0.0.1:{port}",
    )
    await server.start()
    await server.mark_serving()
    async with create_channel(f"127.0.0.1:{port}") as chan:
        yield chan
    await server.stop(0)


async def test_domain_errors_cross_the_wire(channel: grpc.aio.Channel) -> None:
    stub = inference_pb2_grpc.InferenceServiceStub(channel)
    assert (await stub.ListModels(pb.ListModelsRequest(tenant_id="t"))).models[0].id == "m"
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.ListModels(pb.ListModelsRequest(tenant_id="missing"))
    error = from_rpc_error(caught.value)
    assert isinstance(error, NotFoundError)
    assert (error.message, error.param, error.code) == ("no such tenant", "tenant_id", "tenant_not_found")


async def test_unexpected_errors_are_internal_without_details(channel: grpc.aio.Channel) -> None:
    stub = inference_pb2_grpc.InferenceServiceStub(channel)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.ListModels(pb.ListModelsRequest(tenant_id="boom"))
    assert caught.value.code() == grpc.StatusCode.INTERNAL
    assert "secret" not in (caught.value.details() or "")


async def test_streaming_errors_after_data(channel: grpc.aio.Channel) -> None:
    stub = inference_pb2_grpc.InferenceServiceStub(channel)
    received = []
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        async for response in stub.Generate(pb.GenerateRequest(tenant_id="t")):
            received.append(response.text_delta)
    assert received == ["a"]
    error = from_rpc_error(caught.value)
    assert isinstance(error, InvalidArgumentError) and error.param == "temperature"


async def test_every_request_with_a_tenant_field_needs_a_tenant(channel: grpc.aio.Channel) -> None:
    """The interceptor refuses an empty tenant before any servicer runs, unary and streaming alike."""
    stub = inference_pb2_grpc.InferenceServiceStub(channel)
    with pytest.raises(grpc.aio.AioRpcError) as unary:
        await stub.ListModels(pb.ListModelsRequest())
    with pytest.raises(grpc.aio.AioRpcError) as streaming:
        async for _ in stub.Generate(pb.GenerateRequest(model="m")):
            raise AssertionError("a generation without a tenant produced output")
    for caught in (unary, streaming):
        error = from_rpc_error(caught.value)
        assert isinstance(error, InvalidArgumentError)
        assert (error.message, error.param) == ("tenant_id is required.", "tenant_id")
    # Messages without the field are not tenant data: they pass.
    assert (await stub.ListAdapters(pb.ListAdaptersRequest())) is not None


async def test_health_and_metrics(channel: grpc.aio.Channel) -> None:
    health = health_pb2_grpc.HealthStub(channel)
    response = await health.Check(health_pb2.HealthCheckRequest(service=SERVICE))
    assert response.status == health_pb2.HealthCheckResponse.SERVING
    await inference_pb2_grpc.InferenceServiceStub(channel).ListModels(pb.ListModelsRequest(tenant_id="t"))
    count = REGISTRY.get_sample_value(
        "tuneway_coretest_grpc_requests_total", {"method": "ListModels", "code": "OK"}
    )
    assert count and count >= 1


async def test_not_serving_until_marked() -> None:
    """A replica that is still starting (loading adapters, say) must not pass a probe of the server."""
    port = free_port()
    server = build_server(
        service="coretest-start", registrars=[], service_names=[SERVICE], bind=f"127.0.0.1:{port}"
    )
    await server.start()
    try:
        async with create_channel(f"127.0.0.1:{port}") as chan:
            stub = health_pb2_grpc.HealthStub(chan)
            status = (await stub.Check(health_pb2.HealthCheckRequest())).status
            assert status == health_pb2.HealthCheckResponse.NOT_SERVING
            with pytest.raises(grpc.aio.AioRpcError) as unknown:  # not registered yet
                await stub.Check(health_pb2.HealthCheckRequest(service=SERVICE))
            assert unknown.value.code() == grpc.StatusCode.NOT_FOUND
            await server.mark_serving()
            for name in ("", SERVICE):
                status = (await stub.Check(health_pb2.HealthCheckRequest(service=name))).status
                assert status == health_pb2.HealthCheckResponse.SERVING, name
    finally:
        await server.stop(0)


class SlowServicer(inference_pb2_grpc.InferenceServiceServicer):
    """ListModels takes as many seconds as its tenant id says; `started` counts the calls it began."""

    def __init__(self) -> None:
        self.started = 0
        self.two_started = asyncio.Event()

    async def ListModels(
        self, request: pb.ListModelsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListModelsResponse:
        self.started += 1
        if self.started == 2:
            self.two_started.set()
        await asyncio.sleep(float(request.tenant_id))
        return pb.ListModelsResponse(models=[pb.ModelInfo(id="m")])


async def test_the_drain_finishes_calls_in_its_grace_and_reports_the_ones_it_cut(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """SIGTERM's drain: a call that ends within the grace is answered, one that does not is cut, and the
    drain's log line counts both (what the fault tests read to tell calls in flight from late ones)."""
    port = free_port()
    servicer = SlowServicer()
    server = build_server(
        service="coretest-drain",
        registrars=[lambda s: inference_pb2_grpc.add_InferenceServiceServicer_to_server(servicer, s)],
        service_names=[SERVICE],
        bind=f"127.0.0.1:{port}",
    )
    await server.start()
    await server.mark_serving()
    async with create_channel(f"127.0.0.1:{port}") as chan:
        stub = inference_pb2_grpc.InferenceServiceStub(chan)
        short = asyncio.ensure_future(stub.ListModels(pb.ListModelsRequest(tenant_id="0.5")))
        long = asyncio.ensure_future(stub.ListModels(pb.ListModelsRequest(tenant_id="60")))
        await servicer.two_started.wait()  # both running in the server before the drain begins
        with caplog.at_level(logging.INFO, logger="tuneway.core.grpc_server"):
            await server.stop(2)
        assert (await short).models[0].id == "m"
        with pytest.raises(grpc.aio.AioRpcError):
            await long
    [drained] = [r for r in caplog.records if r.getMessage() == "drained"]
    assert (drained.in_flight, drained.cut) == (2, 1)  # type: ignore[attr-defined]
