"""The analytics domain's HTTP surface: feedback, reports, experiment results, settings and query types."""

from __future__ import annotations

from fastapi import APIRouter

from tuneway.gateway.analytics import feedback_routes, report_routes, settings_routes

router = APIRouter()
for resource in (feedback_routes, report_routes, settings_routes):
    router.include_router(resource.router)
