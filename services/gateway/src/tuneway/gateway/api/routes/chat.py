"""POST /v1/chat/completions (JSON or server-sent events)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response, StreamingResponse

from tuneway.core.logging import request_id_var, tenant_var
from tuneway.gateway.completions import (
    ChunkWriter,
    collect_completion,
    new_completion_id,
    stream_completion,
    to_generate_request,
)
from tuneway.gateway.deps import CurrentPrincipal, Inference
from tuneway.gateway.schemas import ChatCompletionRequest

router = APIRouter(tags=["chat"])


@router.post("/v1/chat/completions", summary="Create a chat completion (OpenAI-compatible)")
async def create_chat_completion(
    body: ChatCompletionRequest, principal: CurrentPrincipal, inference: Inference
) -> Response:
    """Generates with a base model or an adapter; `stream: true` answers with server-sent events."""
    completion_id = new_completion_id()
    request_id_var.set(completion_id)
    tenant_var.set(principal.tenant_id)
    responses = inference.generate(to_generate_request(body, principal.tenant_id, completion_id))
    # Wait for the first response before choosing the status: unknown models, bad parameters and an
    # unreachable engine become proper HTTP errors instead of a 200 stream that fails.
    try:
        first = await anext(responses)
    except BaseException:
        await responses.aclose()
        raise
    if not body.stream:
        return Response(
            await collect_completion(first, responses, completion_id, body.model),
            media_type="application/json",
        )
    include_usage = bool(body.stream_options and body.stream_options.include_usage)
    writer = ChunkWriter(completion_id, body.model, include_usage)
    return StreamingResponse(
        stream_completion(first, responses, writer, include_usage),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
