"""The `assistant:<name>` step of a chat completion: retrieval, prompt-svc renders, the engine generates."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tuneway.api.inference.v1 import inference_pb2 as ipb
from tuneway.api.prompt.v1 import prompt_pb2 as pb
from tuneway.gateway.chat.schemas import ChatCompletionRequest
from tuneway.gateway.clients.prompt import PromptClient
from tuneway.gateway.clients.retriever import RetrieverClient
from tuneway.gateway.knowledge.retrieval import retrieve_for_assistant
from tuneway.gateway.prompts.responses import ASSISTANT_PREFIX

# Keys of OpenAI's `metadata` request field that steer the prompt layer.
METADATA_KEYS = ("language", "channel", "tone", "conversation_id")


@dataclass(frozen=True)
class ServedBy:
    """What served an assistant request: the response's `tuneway` object and its headers."""

    body: dict[str, Any]
    headers: dict[str, str]
    # A reply the gateway gives without the model (nothing in the knowledge bases matched).
    answer: str | None = field(default=None)


def is_assistant(model: str) -> bool:
    """Whether the request names an assistant."""
    return model.startswith(ASSISTANT_PREFIX)


async def apply_assistant(
    request: ipb.GenerateRequest,
    body: ChatCompletionRequest,
    tenant_id: str,
    prompts: PromptClient,
    retriever: RetrieverClient,
) -> ServedBy:
    """Rewrites `request` in place: rendered messages (with retrieved chunks as `context`), the
    assistant's (or arm's) model, and the prompt's parameters wherever the client did not set its own."""
    metadata = body.metadata or {}
    name = body.model.removeprefix(ASSISTANT_PREFIX)
    retrieved = await retrieve_for_assistant(prompts, retriever, tenant_id, name, request.messages)
    rendered = await prompts.call(
        prompts.stub.RenderPrompt,
        pb.RenderPromptRequest(
            tenant_id=tenant_id,
            assistant=name,
            messages=[pb.ChatMessage(role=m.role, content=m.content, name=m.name) for m in request.messages],
            variables={**(body.variables or {}), **retrieved.variables},
            user=body.user or "",
            conversation_id=metadata.get("conversation_id", ""),
            language=metadata.get("language", ""),
            channel=metadata.get("channel", ""),
            tone=metadata.get("tone", ""),
        ),
    )
    del request.messages[:]
    request.messages.extend(
        ipb.ChatMessage(role=m.role, content=m.content, name=m.name) for m in rendered.messages
    )
    request.model = rendered.model
    _merge_parameters(request.params, rendered.parameters, body)
    served = {
        "assistant": rendered.assistant,
        "prompt": rendered.prompt_name,
        "prompt_version": rendered.version,
        "prompt_label": rendered.label or None,
        "variant": rendered.variant,
        "language": rendered.language or None,
        "experiment": rendered.experiment_id or None,
        "experiment_variant": rendered.experiment_variant or None,
        "model": rendered.model,
        **retrieved.served(),
    }
    headers = {
        "x-tuneway-prompt": rendered.prompt_name,
        "x-tuneway-prompt-version": str(rendered.version),
        "x-tuneway-variant": rendered.variant,
        "x-tuneway-model": rendered.model,
    }
    if rendered.experiment_id:
        headers["x-tuneway-experiment"] = rendered.experiment_id
        headers["x-tuneway-experiment-variant"] = rendered.experiment_variant
    return ServedBy(served, headers, retrieved.answer)


def _merge_parameters(
    params: ipb.SamplingParams, prompt: pb.ModelParameters, body: ChatCompletionRequest
) -> None:
    """The request's own values win; the prompt (and assistant) fill in the rest."""
    if body.temperature is None and prompt.HasField("temperature"):
        params.temperature = prompt.temperature
    if body.top_p is None and prompt.HasField("top_p"):
        params.top_p = prompt.top_p
    if body.max_tokens is None and body.max_completion_tokens is None and prompt.HasField("max_tokens"):
        params.max_tokens = prompt.max_tokens
    if not body.stop and prompt.stop:
        params.stop.extend(prompt.stop)
