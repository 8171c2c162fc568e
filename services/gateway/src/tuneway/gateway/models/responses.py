"""The engine's models, the embedders, the tenant's assistants and model aliases as OpenAI's `model`
objects; the aliases as themselves too."""

from __future__ import annotations

from typing import Literal, NotRequired

from typing_extensions import TypedDict  # pydantic documents typing.TypedDict only from Python 3.12

from tuneway.api.inference.v1 import inference_pb2 as pb
from tuneway.api.prompt.v1 import prompt_pb2 as ppb
from tuneway.api.retriever.v1 import retriever_pb2 as rpb
from tuneway.gateway.models.alias_tables import ModelAlias
from tuneway.gateway.prompts.assistant_names import assistant_model


class Model(TypedDict):
    """OpenAI's `model`; `kind` (base, adapter, assistant, embedding or alias), `base_model` and an
    alias's `alias_for` are tuneway's additions."""

    id: str
    object: Literal["model"]
    created: int
    owned_by: str
    kind: str
    base_model: str
    # Only on a model alias: the model it stands for.
    alias_for: NotRequired[str]


class ModelAliasObject(TypedDict):
    """A tenant's model alias (tuneway's object): requests naming `alias` are served by `target`."""

    object: Literal["model_alias"]
    alias: str
    target: str
    created_at: int
    updated_at: int


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


def alias_model_object(alias: ModelAlias, target: Model | None) -> Model:
    """A model alias as a model: the kind `alias`, the base model of its target (when it is listed)."""
    return {
        "id": alias.alias,
        "object": "model",
        "created": alias.created_at,
        "owned_by": alias.tenant_id,
        "kind": "alias",
        "base_model": target["base_model"] if target is not None else "",
        "alias_for": alias.target,
    }


def model_alias_object(alias: ModelAlias) -> ModelAliasObject:
    """The alias itself."""
    return {
        "object": "model_alias",
        "alias": alias.alias,
        "target": alias.target,
        "created_at": alias.created_at,
        "updated_at": alias.updated_at,
    }
