"""/v1/embeddings (OpenAI-compatible), served by the retriever's embedder."""

from __future__ import annotations

import orjson
from fastapi import APIRouter
from starlette.responses import Response

from tuneway.api.retriever.v1 import retriever_pb2 as pb
from tuneway.core.errors import InvalidArgumentError
from tuneway.gateway.deps import CurrentPrincipal, Retriever
from tuneway.gateway.knowledge.responses import embedding_list
from tuneway.gateway.knowledge.schemas import EmbeddingsBody

router = APIRouter(prefix="/v1", tags=["embeddings"])
DIMENSIONS = 384


def _texts(value: str | list[str] | list[int] | list[list[int]]) -> list[str]:
    """The inputs as strings; token arrays are refused (they would be another tokenizer's ids)."""
    if isinstance(value, str):
        return [value]
    if not value:
        raise InvalidArgumentError("'input' must not be empty.", param="input", code="invalid_value")
    if all(isinstance(item, str) for item in value):
        return [str(item) for item in value]
    raise InvalidArgumentError(
        "Token arrays are not supported as 'input'; send the text (a string or a list of strings).",
        param="input",
        code="invalid_value",
    )


@router.post("/embeddings", summary="Create embeddings")
async def create_embeddings(
    body: EmbeddingsBody, principal: CurrentPrincipal, retriever: Retriever
) -> Response:
    """Embeddings of one string or a list of strings, as float lists or base64 float32."""
    if body.dimensions is not None and body.dimensions != DIMENSIONS:
        raise InvalidArgumentError(
            f"This model only returns {DIMENSIONS} dimensions.", param="dimensions", code="invalid_value"
        )
    request = pb.EmbedRequest(tenant_id=principal.tenant_id, model=body.model, inputs=_texts(body.input))
    response = await retriever.call(retriever.stub.Embed, request)
    return Response(
        orjson.dumps(embedding_list(response, body.encoding_format)), media_type="application/json"
    )
