"""The engine's models, the embedders and the tenant's assistants as OpenAI's `model` objects."""

from __future__ import annotations

from typing import Literal

from typing_extensions import TypedDict  # pydantic documents typing.TypedDict only from Python 3.12

from tuneway.api.inference.v1 import inference_pb2 as pb
from tuneway.api.prompt.v1 import prompt_pb2 as ppb
from tuneway.api.retriever.v1 import retriever_pb2 as rpb
from tuneway.gateway.prompts.assistant_names import assistant_model


class Model(TypedDict):
    """OpenAI's `model`; `kind` (base, adapter, assistant or embedding) and `base_model` are tuneway's
    additions."""

    id: str
    object: Literal["model"]
    created: int
    owned_by: str
    kind: str
    base_model: str


def model_object(info: pb.ModelInfo) -> Model:
    """The base model or an adapter; `kind` and `base_model` are tuneway's additions."""
    return {
        "id": info.id,
        "object": "model",
        "created": info.created_at,
        "owned_by": info.tenant_id or "tuneway",
        "kind": info.kind,
        "base_model": info.base_model,
    }


def assistant_model_object(info: ppb.Assistant) -> Model:
    """An assistant, callable as `assistant:<name>`."""
    return {
        "id": assistant_model(info.name),
        "object": "model",
        "created": info.created_at,
        "owned_by": info.tenant_id,
        "kind": "assistant",
        "base_model": info.base_model,
    }


def embedding_model_object(info: rpb.EmbeddingModel) -> Model:
    """An embedder of /v1/embeddings; every tenant's, present since the service started."""
    return {
        "id": info.id,
        "object": "model",
        "created": 0,
        "owned_by": "tuneway",
        "kind": "embedding",
        "base_model": "",
    }
