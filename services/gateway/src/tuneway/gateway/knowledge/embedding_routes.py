"""/v1/embeddings (OpenAI-compatible), served by the retriever's embedder."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from starlette.responses import Response

from tuneway.gateway.deps import AnalyticsEvents, CurrentPrincipal, ModelAliasBook, Retriever
from tuneway.gateway.knowledge.embedding import embed
from tuneway.gateway.knowledge.responses import EmbeddingList
from tuneway.gateway.knowledge.schemas import EmbeddingsBody
from tuneway.gateway.openapi import UPSTREAM, documented
from tuneway.gateway.rate_limits.dependency import enforce_rate_limits

router = APIRouter(prefix="/v1", tags=["embeddings"], dependencies=[Depends(enforce_rate_limits)])


@router.post("/embeddings", responses=documented(EmbeddingList, 404, *UPSTREAM), summary="Create embeddings")
async def create_embeddings(
    body: EmbeddingsBody,
    principal: CurrentPrincipal,
    retriever: Retriever,
    events: AnalyticsEvents,
    aliases: ModelAliasBook,
) -> Response:
    """Embeddings of one string or a list of strings, as float lists or base64 float32."""
    body.model = await aliases.resolve(principal.tenant_id, body.model)
    return await embed(body, principal, retriever, events)
