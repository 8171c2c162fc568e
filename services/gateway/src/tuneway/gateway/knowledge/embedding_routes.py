"""/v1/embeddings (OpenAI-compatible), served by the retriever's embedder."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends
from starlette.responses import Response

from tuneway.gateway.analytics.recorder import CompletionRecorder
from tuneway.gateway.deps import AnalyticsEvents, CurrentPrincipal, Retriever
from tuneway.gateway.http import json_response
from tuneway.gateway.knowledge.responses import EmbeddingList, embedding_list
from tuneway.gateway.knowledge.schemas import EmbeddingsBody
from tuneway.gateway.openapi import UPSTREAM, documented
from tuneway.gateway.rate_limits.dependency import enforce_rate_limits

router = APIRouter(prefix="/v1", tags=["embeddings"], dependencies=[Depends(enforce_rate_limits)])


@router.post("/embeddings", responses=documented(EmbeddingList, 404, *UPSTREAM), summary="Create embeddings")
async def create_embeddings(
    body: EmbeddingsBody, principal: CurrentPrincipal, retriever: Retriever, events: AnalyticsEvents
) -> Response:
    """Embeddings of one string or a list of strings, as float lists or base64 float32."""
    recorder = CompletionRecorder.for_embeddings(
        events, body.model, body.user, principal, f"embd-{uuid.uuid4().hex}"
    )
    try:
        response = await retriever.call(retriever.stub.Embed, body.to_proto(principal.tenant_id))
        reply = json_response(embedding_list(response, body.encoding_format))
    except BaseException as error:
        recorder.failed(error)
        raise
    recorder.tokens(response.prompt_tokens)
    recorder.succeeded()
    return reply
