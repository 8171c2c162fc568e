"""POST /v1/chat/completions (JSON or server-sent events)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from tuneway.core.logging import request_id_var, tenant_var
from tuneway.gateway.chat.responses import (
    ChunkWriter,
    collect_completion,
    new_completion_id,
    stream_completion,
    to_generate_request,
)
from tuneway.gateway.chat.schemas import ChatCompletionRequest
from tuneway.gateway.deps import CurrentPrincipal, Inference, Prompts, Retriever
from tuneway.gateway.knowledge.retrieval import fixed_answer
from tuneway.gateway.prompts.rendering import ServedBy, apply_assistant, is_assistant
from tuneway.gateway.streaming import ClosingStreamingResponse

router = APIRouter(tags=["chat"])


@router.post("/v1/chat/completions", summary="Create a chat completion (OpenAI-compatible)")
async def create_chat_completion(
    body: ChatCompletionRequest,
    principal: CurrentPrincipal,
    inference: Inference,
    prompts: Prompts,
    retriever: Retriever,
) -> Response:
    """Generates with a base model, an adapter, or an assistant (`assistant:<name>`: the prompt layer
    renders the conversation first); `stream: true` answers with server-sent events."""
    completion_id = new_completion_id()
    request_id_var.set(completion_id)
    tenant_var.set(principal.tenant_id)
    request = to_generate_request(body, principal.tenant_id, completion_id)
    served: ServedBy | None = None
    if is_assistant(body.model):
        served = await apply_assistant(request, body, principal.tenant_id, prompts, retriever)
    extra = {"tuneway": served.body} if served else None
    headers = served.headers if served else {}
    if served and served.answer is not None:
        responses = fixed_answer(served.answer)
    else:
        responses = inference.generate(request)
    # Wait for the first response before choosing the status: unknown models, bad parameters and an
    # unreachable engine become proper HTTP errors instead of a 200 stream that fails.
    try:
        first = await anext(responses)
    except BaseException:
        await responses.aclose()
        raise
    if not body.stream:
        return Response(
            await collect_completion(first, responses, completion_id, body.model, extra),
            media_type="application/json",
            headers=headers,
        )
    include_usage = bool(body.stream_options and body.stream_options.include_usage)
    writer = ChunkWriter(completion_id, body.model, include_usage, extra)
    return ClosingStreamingResponse(
        stream_completion(first, responses, writer, include_usage),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no", **headers},
    )
