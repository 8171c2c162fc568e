"""GET /v1/models and /v1/models/{model}: the base model, the tenant's adapters, assistants and model
aliases, and the embedders."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from tuneway.core.errors import NotFoundError
from tuneway.gateway.clients.inference import InferenceClient
from tuneway.gateway.clients.prompt import PromptClient
from tuneway.gateway.clients.retriever import RetrieverClient
from tuneway.gateway.deps import CurrentPrincipal, Inference, ModelAliasBook, Prompts, Retriever
from tuneway.gateway.http import ListObject, json_response, list_object
from tuneway.gateway.models.aliases import ModelAliases
from tuneway.gateway.models.catalog import model_not_found_message, model_objects
from tuneway.gateway.models.responses import Model, alias_model_object
from tuneway.gateway.openapi import UPSTREAM, documented

router = APIRouter(tags=["models"])


async def _listed(
    inference: InferenceClient,
    prompts: PromptClient,
    retriever: RetrieverClient,
    aliases: ModelAliases,
    tenant_id: str,
) -> list[Model]:
    models = await model_objects(inference, prompts, retriever, tenant_id)
    by_id = {m["id"]: m for m in models}
    return [*models, *(alias_model_object(a, by_id.get(a.target)) for a in await aliases.list(tenant_id))]


@router.get("/v1/models", responses=documented(ListObject[Model], *UPSTREAM), summary="List models")
async def list_models(
    principal: CurrentPrincipal,
    inference: Inference,
    prompts: Prompts,
    retriever: Retriever,
    aliases: ModelAliasBook,
) -> Response:
    """Every model the caller may use: assistants (`assistant:<name>`), embedders and the tenant's model
    aliases (kind `alias`, with `alias_for`) included."""
    models = await _listed(inference, prompts, retriever, aliases, principal.tenant_id)
    return json_response(list_object(models))


@router.get(
    "/v1/models/{model:path}", responses=documented(Model, 404, *UPSTREAM), summary="Retrieve a model"
)
async def retrieve_model(
    model: str,
    principal: CurrentPrincipal,
    inference: Inference,
    prompts: Prompts,
    retriever: Retriever,
    aliases: ModelAliasBook,
) -> Response:
    """One model, or 404 model_not_found."""
    for info in await _listed(inference, prompts, retriever, aliases, principal.tenant_id):
        if info["id"] == model:
            return json_response(info)
    raise NotFoundError(model_not_found_message(model), param="model", code="model_not_found")
