"""Probes a test waits on: whether a service's gRPC health check says SERVING."""

from __future__ import annotations

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tuneway.core.grpc_client import create_channel


async def grpc_serving(target: str) -> bool:
    """Whether the server at `target` reports SERVING (False while it is down or still starting)."""
    async with create_channel(target) as channel:
        try:
            response = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=1
            )
        except grpc.aio.AioRpcError:
            return False
    return response.status == health_pb2.HealthCheckResponse.SERVING
