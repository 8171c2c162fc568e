"""The prompt domain's HTTP surface: prompts and role templates, experiments, assistants."""

from __future__ import annotations

from fastapi import APIRouter

from tuneway.gateway.prompts import assistant_routes, experiment_routes, prompt_routes

router = APIRouter()
for resource in (prompt_routes, experiment_routes, assistant_routes):
    router.include_router(resource.router)
