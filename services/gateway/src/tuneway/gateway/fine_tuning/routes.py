"""The fine-tuning domain's HTTP surface: jobs (OpenAI's), the adapter registry and retraining schedules."""

from __future__ import annotations

from fastapi import APIRouter

from tuneway.gateway.fine_tuning import adapter_routes, job_routes, schedule_routes

router = APIRouter()
for resource in (job_routes, adapter_routes, schedule_routes):
    router.include_router(resource.router)
