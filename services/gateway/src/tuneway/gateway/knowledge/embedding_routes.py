"""/v1/embeddings (OpenAI-compatible), served by the retriever's embedder."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from tuneway.gateway.deps import CurrentPrincipal, Retriever
from tuneway.gateway.http import json_response
from tuneway.gateway.knowledge.responses import EmbeddingList, embedding_list
from tuneway.gateway.knowledge.schemas import EmbeddingsBody
from tuneway.gateway.openapi import UPSTREAM, documented

router = APIRouter(prefix="/v1", tags=["embeddings"])


@router.post("/embeddings", responses=documented(EmbeddingList, 404, *UPSTREAM), summary="Create embeddings")
async def create_embeddings(
    body: EmbeddingsBody, principal: CurrentPrincipal, retriever: Retriever
) -> Response:
    """Embeddings of one string or a list of strings, as float lists or base64 float32."""
    response = await retriever.call(retriever.stub.Embed, body.to_proto(principal.tenant_id))
    return json_response(embedding_list(response, body.encoding_format))
