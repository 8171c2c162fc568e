"""The models domain's HTTP surface: the models a tenant may call, and its model aliases."""

from __future__ import annotations

from fastapi import APIRouter

from tuneway.gateway.models import alias_routes, model_routes

router = APIRouter()
for resource in (model_routes, alias_routes):
    router.include_router(resource.router)
