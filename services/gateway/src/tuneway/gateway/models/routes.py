"""GET /v1/models and /v1/models/{model}: the base model, the tenant's adapters and assistants, and the
embedders."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from starlette.responses import Response

from tuneway.core.errors import NotFoundError
from tuneway.gateway.clients.inference import InferenceClient
from tuneway.gateway.clients.prompt import PromptClient
from tuneway.gateway.clients.retriever import RetrieverClient
from tuneway.gateway.deps import CurrentPrincipal, Inference, Prompts, Retriever
from tuneway.gateway.http import ListObject, json_response, list_object
from tuneway.gateway.models.catalog import all_models, embedding_models, model_not_found_message
from tuneway.gateway.models.responses import (
    Model,
    assistant_model_object,
    embedding_model_object,
    model_object,
)
from tuneway.gateway.openapi import UPSTREAM, documented

router = APIRouter(tags=["models"])


async def _model_objects(
    inference: InferenceClient, prompts: PromptClient, retriever: RetrieverClient, tenant_id: str
) -> list[Model]:
    embedders = asyncio.ensure_future(embedding_models(retriever, tenant_id))
    try:
        models, assistants = await all_models(inference, prompts, tenant_id)
    except BaseException:
        embedders.cancel()
        raise
    return [
        *map(model_object, models),
        *map(assistant_model_object, assistants),
        *map(embedding_model_object, await embedders),
    ]


@router.get("/v1/models", responses=documented(ListObject[Model], *UPSTREAM), summary="List models")
async def list_models(
    principal: CurrentPrincipal, inference: Inference, prompts: Prompts, retriever: Retriever
) -> Response:
    """Every model the caller may use: assistants (`assistant:<name>`) and embedders included."""
    models = await _model_objects(inference, prompts, retriever, principal.tenant_id)
    return json_response(list_object(models))


@router.get(
    "/v1/models/{model:path}", responses=documented(Model, 404, *UPSTREAM), summary="Retrieve a model"
)
async def retrieve_model(
    model: str, principal: CurrentPrincipal, inference: Inference, prompts: Prompts, retriever: Retriever
) -> Response:
    """One model, or 404 model_not_found."""
    for info in await _model_objects(inference, prompts, retriever, principal.tenant_id):
        if info["id"] == model:
            return json_response(info)
    raise NotFoundError(model_not_found_message(model), param="model", code="model_not_found")
