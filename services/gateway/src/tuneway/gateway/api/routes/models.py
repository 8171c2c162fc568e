"""GET /v1/models and /v1/models/{model}: the base model and the tenant's adapters."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter
from starlette.responses import Response

from tuneway.api.inference.v1 import inference_pb2 as pb
from tuneway.core.errors import NotFoundError
from tuneway.gateway.deps import CurrentPrincipal, Inference

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


@router.get("/v1/models", summary="List models")
async def list_models(principal: CurrentPrincipal, inference: Inference) -> Response:
    """Every model the caller may use."""
    models = await inference.list_models(principal.tenant_id)
    return Response(
        orjson.dumps({"object": "list", "data": [_model(m) for m in models]}), media_type="application/json"
    )


@router.get("/v1/models/{model:path}", summary="Retrieve a model")
async def retrieve_model(model: str, principal: CurrentPrincipal, inference: Inference) -> Response:
    """One model, or 404 model_not_found."""
    for info in await inference.list_models(principal.tenant_id):
        if info.id == model:
            return Response(orjson.dumps(_model(info)), media_type="application/json")
    raise NotFoundError(
        f"The model `{model}` does not exist or you do not have access to it.",
        param="model",
        code="model_not_found",
    )
