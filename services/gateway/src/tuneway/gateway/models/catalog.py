"""The models a tenant may call, as the inference service and the prompt service know them."""

from __future__ import annotations

from tuneway.api.inference.v1 import inference_pb2 as pb
from tuneway.gateway.clients.inference import InferenceClient


async def engine_models(inference: InferenceClient, tenant_id: str) -> list[pb.ModelInfo]:
    """The base model and the tenant's adapters."""
    response = await inference.call(inference.stub.ListModels, pb.ListModelsRequest(tenant_id=tenant_id))
    return list(response.models)
