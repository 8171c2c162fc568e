"""An embeddings request, answered by the retriever's embedder: what /v1/embeddings and a batch's
/v1/embeddings lines both run."""

from __future__ import annotations

import uuid

from starlette.responses import Response

from tuneway.gateway.analytics.events import AnalyticsEvents
from tuneway.gateway.analytics.recorder import CompletionRecorder
from tuneway.gateway.clients.retriever import RetrieverClient
from tuneway.gateway.http import json_response
from tuneway.gateway.knowledge.responses import embedding_list
from tuneway.gateway.knowledge.schemas import EmbeddingsBody
from tuneway.gateway.tenancy.keys import Principal


async def embed(
    body: EmbeddingsBody, principal: Principal, retriever: RetrieverClient, events: AnalyticsEvents
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
