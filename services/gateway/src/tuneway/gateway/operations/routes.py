"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from typing import Literal

import orjson
from fastapi import APIRouter
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from starlette.responses import Response
from typing_extensions import TypedDict  # pydantic documents typing.TypedDict only from Python 3.12

from tuneway.gateway.deps import AllServices

router = APIRouter(tags=["operations"])
# On the API port only when GATEWAY_METRICS_ON_API_PORT asks; the metrics port always serves it.
metrics_router = APIRouter(tags=["operations"])


class Health(TypedDict):
    status: Literal["ok"]


class Readiness(TypedDict):
    """Whether the database and every service behind the gateway answer, and which do."""

    status: Literal["ready", "not_ready"]
    checks: dict[str, bool]


@router.get("/healthz", summary="Liveness", responses={200: {"model": Health}})
async def healthz() -> Response:
    """The process is up."""
    return Response(b'{"status":"ok"}', media_type="application/json")


@router.get(
    "/readyz",
    summary="Readiness",
    responses={200: {"model": Readiness}, 503: {"model": Readiness, "description": "Something is down."}},
)
async def readyz(services: AllServices) -> Response:
    """200 when the database and every downstream service answer, else 503 naming what is down."""
    checks: dict[str, bool] = {}
    try:
        async with services.db.connect() as connection:
            await connection.execute(text("SELECT 1"))
        checks["database"] = True
    except Exception:
        checks["database"] = False
    checks["inference"] = await services.inference.ready()
    checks["prompt"] = await services.prompts.ready()
    checks["trainer"] = await services.trainer.ready()
    checks["retriever"] = await services.retriever.ready()
    ready = all(checks.values())
    body = orjson.dumps({"status": "ready" if ready else "not_ready", "checks": checks})
    headers = None if ready else {"Retry-After": str(services.settings.retry_after_seconds)}
    return Response(body, 200 if ready else 503, headers, media_type="application/json")


@metrics_router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
async def metrics() -> Response:
    """Prometheus exposition of this process's metrics."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
