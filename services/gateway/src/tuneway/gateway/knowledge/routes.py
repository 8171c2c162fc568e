"""The knowledge domain's HTTP surface: knowledge bases (documents, search) and embeddings."""

from __future__ import annotations

from fastapi import APIRouter

from tuneway.gateway.knowledge import embedding_routes, knowledge_base_routes

router = APIRouter()
for resource in (knowledge_base_routes, embedding_routes):
    router.include_router(resource.router)
