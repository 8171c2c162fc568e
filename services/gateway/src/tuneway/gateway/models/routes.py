"""GET /v1/models and /v1/models/{model}: the base model, the tenant's adapters and assistants."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson
from fastapi import APIRouter
from starlette.responses import Response

from tuneway.api.inference.v1 import inference_pb2 as pb
from tuneway.api.prompt.v1 import prompt_pb2 as ppb
from tuneway.core.errors import NotFoundError, UnavailableError
from tuneway.gateway.clients.inference import InferenceClient
from tuneway.gateway.clients.prompt import PromptClient
from tuneway.gateway.deps import CurrentPrincipal, Inference, Prompts
from tuneway.gateway.models.catalog import engine_models
from tuneway.gateway.prompts.assistant_names import assistant_model

log = logging.getLogger(__name__)

router = APIRouter(tags=["models"])


def _model(info: pb.ModelInfo) -> dict[str, Any]:
    return {
        "id": info.id,
        "object": "model",
        "created": info.created_at,
        "owned_by": info.tenant_id or "tuneway",
        "kind": info.kind,
        "base_model": info.base_model,
    }


def _assistant(info: ppb.Assistant) -> dict[str, Any]:
    return {
        "id": assistant_model(info.name),
        "object": "model",
        "created": info.created_at,
        "owned_by": info.tenant_id,
        "kind": "assistant",
        "base_model": info.base_model,
    }


async def _all_models(
    tenant_id: str, inference: InferenceClient, prompts: PromptClient
) -> list[dict[str, Any]]:
    """Base model and adapters, then assistants; without prompt-svc the engine's models still list."""
    # Both lists are fetched concurrently; the assistants wait while the engine answers.
    assistants = asyncio.ensure_future(
        prompts.call(prompts.stub.ListAssistants, ppb.ListAssistantsRequest(tenant_id=tenant_id))
    )
    try:
        listed = [_model(m) for m in await engine_models(inference, tenant_id)]
    except BaseException:
        assistants.cancel()
        raise
    try:
        listed.extend(_assistant(a) for a in (await assistants).assistants)
    except UnavailableError:
        log.warning("assistants not listed: the prompt service is unavailable")
    return listed


@router.get("/v1/models", summary="List models")
async def list_models(principal: CurrentPrincipal, inference: Inference, prompts: Prompts) -> Response:
    """Every model the caller may use, assistants (`assistant:<name>`) included."""
    models = await _all_models(principal.tenant_id, inference, prompts)
    return Response(orjson.dumps({"object": "list", "data": models}), media_type="application/json")


@router.get("/v1/models/{model:path}", summary="Retrieve a model")
async def retrieve_model(
    model: str, principal: CurrentPrincipal, inference: Inference, prompts: Prompts
) -> Response:
    """One model, or 404 model_not_found."""
    for info in await _all_models(principal.tenant_id, inference, prompts):
        if info["id"] == model:
            return Response(orjson.dumps(info), media_type="application/json")
    raise NotFoundError(
        f"The model `{model}` does not exist or you do not have access to it.",
        param="model",
        code="model_not_found",
    )
