"""Prometheus helpers: metric naming per service, the gRPC server metrics and the metrics endpoint."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from wsgiref.simple_server import WSGIServer

from prometheus_client import Counter, Gauge, Histogram, start_http_server

# Buckets that resolve both sub-millisecond RPCs and multi-second generations.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


def metric_name(service: str, name: str) -> str:
    """`tuneway_<service>_<name>` with the service name made Prometheus-safe."""
    return f"tuneway_{service.replace('-', '_')}_{name}"


@dataclass(frozen=True)
class GrpcMetrics:
    """Requests and latency of the RPCs a service serves."""

    requests: Counter
    latency: Histogram

    @classmethod
    def for_service(cls, service: str) -> GrpcMetrics:
        """One instance per service and process (Prometheus refuses duplicate names)."""
        cache = _GRPC_METRICS
        if service not in cache:
            cache[service] = cls(
                requests=Counter(
                    metric_name(service, "grpc_requests_total"), "RPCs handled", ["method", "code"]
                ),
                latency=Histogram(
                    metric_name(service, "grpc_request_seconds"),
                    "RPC handling time",
                    ["method"],
                    buckets=LATENCY_BUCKETS,
                ),
            )
        return cache[service]

    def observe(self, method: str, code: str, seconds: float) -> None:
        """Records one finished RPC."""
        self.requests.labels(method, code).inc()
        self.latency.labels(method).observe(seconds)


_GRPC_METRICS: dict[str, GrpcMetrics] = {}


# One per process, whichever service it runs: the job label tells the services apart.
_EVENT_LOOP_TASKS = Gauge(
    "tuneway_asyncio_tasks",
    "Tasks alive on the process's event loop; at rest after steady load, more than before is a leak",
)


def _count_tasks_of_running_loop() -> None:
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    # Read on the scraping thread: all_tasks copies the loop's weak set, retrying if it changes meanwhile.
    _EVENT_LOOP_TASKS.set_function(lambda: len(asyncio.all_tasks(loop)))


def serve_metrics(port: int, host: str = "0.0.0.0") -> WSGIServer | None:
    """Starts the Prometheus endpoint on its own thread (port 0 disables it); stop_metrics stops it.
    Called on a running event loop, the endpoint also counts that loop's tasks."""
    if not port:
        return None
    _count_tasks_of_running_loop()
    server, _ = start_http_server(port, addr=host)
    return server


def stop_metrics(server: WSGIServer | None) -> None:
    """Stops a server from serve_metrics and frees its port (blocks until its thread has stopped)."""
    if server is not None:
        server.shutdown()
        server.server_close()


class BoundedLabel:
    """Caps the distinct values one label may take: the first `limit` values seen pass through, later
    ones become "other". Labels fed by tenants' own names (assistants, channels, prompt versions) would
    otherwise grow Prometheus's series without end."""

    OTHER = "other"

    def __init__(self, limit: int = 50) -> None:
        self._limit = limit
        self._seen: set[str] = set()

    def __call__(self, value: str) -> str:
        """`value`, or "other" once `limit` other values have been seen; "" becomes "none"."""
        value = value or "none"
        if value in self._seen:
            return value
        if len(self._seen) >= self._limit:
            return self.OTHER
        self._seen.add(value)
        return value
