"""POST /v1/chat/completions (JSON or server-sent events)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from tuneway.core.logging import tenant_var
from tuneway.gateway.analytics.recorder import CompletionRecorder
from tuneway.gateway.chat.pipeline import complete
from tuneway.gateway.chat.responses import ChatCompletion, ChatCompletionChunk
from tuneway.gateway.chat.schemas import ChatCompletionRequest
from tuneway.gateway.deps import AllServices, CurrentPrincipal
from tuneway.gateway.openapi import UPSTREAM, documented
from tuneway.gateway.request_ids import use_completion_id

router = APIRouter(tags=["chat"])


@router.post(
    "/v1/chat/completions",
    responses=documented(ChatCompletion, 404, 409, *UPSTREAM, events=ChatCompletionChunk),
    summary="Create a chat completion (OpenAI-compatible)",
)
async def create_chat_completion(
    request: Request, body: ChatCompletionRequest, principal: CurrentPrincipal, services: AllServices
) -> Response:
    """Generates with a base model, an adapter, or an assistant (`assistant:<name>`: the prompt layer
    renders the conversation first); `stream: true` answers with server-sent events."""
    completion_id = services.completion_ids.new(principal.tenant_id)
    # The response's x-request-id and the logs' request id, unless the caller sent its own.
    use_completion_id(request, completion_id)
    tenant_var.set(principal.tenant_id)
    body.model = await services.model_aliases.resolve(principal.tenant_id, body.model)
    recorder = CompletionRecorder.for_chat(services.analytics_events, body, principal, completion_id)
    return await complete(
        body,
        principal.tenant_id,
        completion_id,
        services.inference,
        services.prompts,
        services.retriever,
        recorder,
    )
