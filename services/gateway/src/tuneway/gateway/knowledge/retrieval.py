"""The retrieval step of `assistant:<name>`: the assistant's knowledge bases are searched with the user's
question, the chunks reach the prompt as its `context` variable, and the response names its sources."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from typing_extensions import TypedDict  # pydantic documents typing.TypedDict only from Python 3.12

from tuneway.api.prompt.v1 import prompt_pb2 as pb
from tuneway.api.retriever.v1 import retriever_pb2 as rpb
from tuneway.core.errors import FailedPreconditionError, NotFoundError
from tuneway.gateway.clients.prompt import PromptClient
from tuneway.gateway.clients.retriever import RetrieverClient
from tuneway.gateway.knowledge.responses import Source, source_object

# The prompt variable that receives the retrieved chunks (declare it, e.g. with an empty default).
CONTEXT_VARIABLE = "context"
DEFAULT_TOP_K = 4
# Said instead of generating when no chunk passes the threshold: better than an invented answer.
NO_ANSWER = "I don't know: the knowledge base has no information about that."


class KnowledgeUsed(TypedDict):
    """The knowledge settings a retrieval ran with."""

    knowledge_base_ids: list[str]
    top_k: int
    score_threshold: float | None


class RetrievalServed(TypedDict, total=False):
    """What retrieval adds to the response's `tuneway` object (nothing when the assistant has no
    knowledge bases)."""

    knowledge: KnowledgeUsed
    sources: list[Source]


@dataclass(frozen=True)
class Retrieved:
    """What retrieval added to a request: prompt variables, the sources, and the settings it ran with
    (None: the assistant has no knowledge bases, or there was no question to search with)."""

    variables: dict[str, str] = field(default_factory=dict)
    sources: list[Source] = field(default_factory=list)
    settings: KnowledgeUsed | None = None

    @property
    def answer(self) -> str | None:
        """The fixed reply when retrieval ran and found nothing; None means: let the model answer."""
        return NO_ANSWER if self.settings is not None and not self.sources else None

    def served(self) -> RetrievalServed:
        """Fields for the response's `tuneway` object."""
        if self.settings is None:
            return {}
        return {"knowledge": self.settings, "sources": self.sources}


# Knowledge settings per (tenant, assistant) for a moment, so a busy assistant costs prompt-svc one
# lookup per TTL rather than one per request; an edit to the assistant shows within the TTL.
_SETTINGS_TTL = 2.0
_settings_cache: dict[tuple[str, str], tuple[float, pb.KnowledgeSettings]] = {}


async def _knowledge_settings(prompts: PromptClient, tenant_id: str, assistant: str) -> pb.KnowledgeSettings:
    key = (tenant_id, assistant)
    cached = _settings_cache.get(key)
    now = time.monotonic()
    if cached and now - cached[0] < _SETTINGS_TTL:
        return cached[1]
    response = await prompts.call(
        prompts.stub.GetAssistant, pb.GetAssistantRequest(tenant_id=tenant_id, name=assistant)
    )
    if len(_settings_cache) > 10_000:  # bounded: drop everything rather than track recency
        _settings_cache.clear()
    _settings_cache[key] = (now, response.assistant.knowledge)
    return response.assistant.knowledge


def _question(messages: Sequence[Any]) -> str:
    """The latest user message: what the assistant is asked."""
    return next((m.content for m in reversed(messages) if m.role == "user" and m.content.strip()), "")


def _context(hits: Sequence[rpb.SearchHit]) -> str:
    """Numbered excerpts, so a prompt can ask the model to cite [n]."""
    return "\n\n".join(f"[{n}] {hit.title}\n{hit.text}" for n, hit in enumerate(hits, start=1))


async def retrieve_for_assistant(
    prompts: PromptClient, retriever: RetrieverClient, tenant_id: str, assistant: str, messages: Sequence[Any]
) -> Retrieved:
    """Searches the assistant's knowledge bases (if it has any) with the latest user message."""
    try:
        knowledge = await _knowledge_settings(prompts, tenant_id, assistant)
    except NotFoundError:
        return Retrieved()  # rendering reports the unknown assistant in its own words
    question = _question(messages)
    if not knowledge.knowledge_base_ids or not question:
        return Retrieved()
    top_k = knowledge.top_k or DEFAULT_TOP_K
    threshold = knowledge.score_threshold or None
    request = rpb.SearchRequest(
        tenant_id=tenant_id,
        knowledge_base_ids=list(knowledge.knowledge_base_ids),
        query=question,
        top_k=top_k,
        score_threshold=threshold,
    )
    try:
        hits = list((await retriever.call(retriever.stub.Search, request)).hits)
    except NotFoundError as error:
        raise FailedPreconditionError(
            f"The assistant '{assistant}' uses a knowledge base that does not exist: {error.message} "
            "Update the assistant's knowledge settings.",
            param="model",
            code="knowledge_base_not_found",
        ) from None
    settings: KnowledgeUsed = {
        "knowledge_base_ids": list(knowledge.knowledge_base_ids),
        "top_k": top_k,
        "score_threshold": threshold,
    }
    return Retrieved({CONTEXT_VARIABLE: _context(hits)}, [source_object(h) for h in hits], settings)
