"""GET /v1/models and /v1/models/{model}: the base model, the tenant's adapters and assistants."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from tuneway.core.errors import NotFoundError
from tuneway.gateway.clients.inference import InferenceClient
from tuneway.gateway.clients.prompt import PromptClient
from tuneway.gateway.deps import CurrentPrincipal, Inference, Prompts
from tuneway.gateway.http import ListObject, json_response, list_object
from tuneway.gateway.models.catalog import all_models, model_not_found_message
from tuneway.gateway.models.responses import Model, assistant_model_object, model_object
from tuneway.gateway.openapi import UPSTREAM, documented

router = APIRouter(tags=["models"])


async def _model_objects(inference: InferenceClient, prompts: PromptClient, tenant_id: str) -> list[Model]:
    models, assistants = await all_models(inference, prompts, tenant_id)
    return [*map(model_object, models), *map(assistant_model_object, assistants)]


@router.get("/v1/models", responses=documented(ListObject[Model], *UPSTREAM), summary="List models")
async def list_models(principal: CurrentPrincipal, inference: Inference, prompts: Prompts) -> Response:
    """Every model the caller may use, assistants (`assistant:<name>`) included."""
    return json_response(list_object(await _model_objects(inference, prompts, principal.tenant_id)))


@router.get(
    "/v1/models/{model:path}", responses=documented(Model, 404, *UPSTREAM), summary="Retrieve a model"
)
async def retrieve_model(
    model: str, principal: CurrentPrincipal, inference: Inference, prompts: Prompts
) -> Response:
    """One model, or 404 model_not_found."""
    for info in await _model_objects(inference, prompts, principal.tenant_id):
        if info["id"] == model:
            return json_response(info)
    raise NotFoundError(model_not_found_message(model), param="model", code="model_not_found")
