"""The models a tenant may call: the base model and its adapters (inference service), its assistants
(prompt service) and the embedders (retriever)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from tuneway.api.inference.v1 import inference_pb2 as pb
from tuneway.api.prompt.v1 import prompt_pb2 as ppb
from tuneway.api.retriever.v1 import retriever_pb2 as rpb
from tuneway.core.errors import DeadlineExceededError, InvalidArgumentError, UnavailableError
from tuneway.gateway.clients.inference import InferenceClient
from tuneway.gateway.clients.prompt import PromptClient
from tuneway.gateway.clients.retriever import RetrieverClient
from tuneway.gateway.models.responses import (
    Model,
    assistant_model_object,
    embedding_model_object,
    model_object,
)

log = logging.getLogger(__name__)


async def engine_models(inference: InferenceClient, tenant_id: str) -> list[pb.ModelInfo]:
    """The base model and the tenant's adapters."""
    response = await inference.call(inference.stub.ListModels, pb.ListModelsRequest(tenant_id=tenant_id))
    return list(response.models)


async def all_models(
    inference: InferenceClient, prompts: PromptClient, tenant_id: str
) -> tuple[list[pb.ModelInfo], list[ppb.Assistant]]:
    """The engine's models, then the assistants; without prompt-svc the engine's models still list."""
    # Both lists are fetched concurrently; the assistants wait while the engine answers.
    assistants = asyncio.ensure_future(
        prompts.call(prompts.stub.ListAssistants, ppb.ListAssistantsRequest(tenant_id=tenant_id))
    )
    try:
        models = await engine_models(inference, tenant_id)
    except BaseException:
        assistants.cancel()
        raise
    try:
        return models, list((await assistants).assistants)
    except UnavailableError:
        log.warning("assistants not listed: the prompt service is unavailable")
        return models, []


async def embedding_models(retriever: RetrieverClient, tenant_id: str) -> list[rpb.EmbeddingModel]:
    """The retriever's embedders (/v1/embeddings' models); none while the retriever is unavailable, so
    that the generation models still list."""
    request = rpb.ListEmbeddingModelsRequest(tenant_id=tenant_id)
    try:
        return list((await retriever.call(retriever.stub.ListEmbeddingModels, request)).models)
    except (UnavailableError, DeadlineExceededError):
        log.warning("embedding models not listed: the retriever is unavailable")
        return []


async def model_objects(
    inference: InferenceClient, prompts: PromptClient, retriever: RetrieverClient, tenant_id: str
) -> list[Model]:
    """Every model the tenant may call as OpenAI's model objects: the engine's, the assistants, the
    embedders (the three fetched concurrently)."""
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


def model_not_found_message(model: str) -> str:
    """OpenAI's words for a model the caller cannot use."""
    return f"The model `{model}` does not exist or you do not have access to it."


async def require_callable(
    inference: InferenceClient, tenant_id: str, models: Mapping[str, str | None]
) -> None:
    """400 model_not_found naming the first parameter whose model the tenant cannot call now; `models` maps
    request parameters to model names (None: not given, nothing to check or ask)."""
    wanted = {param: model for param, model in models.items() if model is not None}
    if not wanted:
        return
    callable_ = {m.id for m in await engine_models(inference, tenant_id)}
    for param, model in wanted.items():
        if model not in callable_:
            raise InvalidArgumentError(model_not_found_message(model), param=param, code="model_not_found")


class BaseModels:
    """The inference service's base models, listed in the background now and then, so that telling a
    base model from an adapter (for analytics) never waits on a call."""

    def __init__(self, inference: InferenceClient, ttl_seconds: float = 60.0) -> None:
        self._inference = inference
        self._ttl = ttl_seconds
        self._names: frozenset[str] = frozenset()
        self._listed_at = float("-inf")
        self._refreshing: asyncio.Task[None] | None = None

    def names(self, tenant_id: str) -> frozenset[str]:
        """The base models as last listed (empty before the first listing); a stale list is refreshed in
        the background with `tenant_id`'s ListModels (base models are every tenant's)."""
        stale = asyncio.get_running_loop().time() - self._listed_at > self._ttl
        if stale and (self._refreshing is None or self._refreshing.done()):
            self._refreshing = asyncio.ensure_future(self._refresh(tenant_id))
        return self._names

    async def _refresh(self, tenant_id: str) -> None:
        try:
            models = await engine_models(self._inference, tenant_id)
        except Exception as error:  # the inference service may be down; try again on a later request
            log.debug("base models not listed: %s", error)
            return
        self._names = frozenset(m.id for m in models if m.kind == "base")
        self._listed_at = asyncio.get_running_loop().time()

    def close(self) -> None:
        """Cancels a listing in progress."""
        if self._refreshing is not None:
            self._refreshing.cancel()
