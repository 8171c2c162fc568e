"""Embeddings from the retriever's MiniLM over gRPC (analytics keeps no second copy of the model)."""

from __future__ import annotations

from collections.abc import Sequence

import grpc
import numpy as np

from tuneway.api.retriever.v1 import retriever_pb2, retriever_pb2_grpc
from tuneway.core.errors import InvalidArgumentError, from_rpc_error
from tuneway.core.grpc_client import create_channel

# Texts per Embed RPC: small enough for one forward pass of a few batches, large enough to amortise.
BATCH_SIZE = 64


class RetrieverEmbedder:
    """Calls RetrieverService.Embed in batches; rows come back float32 and L2-normalised."""

    def __init__(self, target: str, timeout_seconds: float = 10.0) -> None:
        self._channel = create_channel(target)
        self._stub = retriever_pb2_grpc.RetrieverServiceStub(self._channel)
        self._timeout = timeout_seconds

    async def embed(self, tenant_id: str, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dimensions) unit vectors, in order; the retriever refuses empty strings.
        A failed RPC raises the peer's DomainError (UnavailableError when the retriever is down)."""
        if not tenant_id:
            raise InvalidArgumentError("tenant_id must not be empty.", param="tenant_id")
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        rows: list[np.ndarray] = []
        for start in range(0, len(texts), BATCH_SIZE):
            batch = list(texts[start : start + BATCH_SIZE])
            request = retriever_pb2.EmbedRequest(tenant_id=tenant_id, inputs=batch)
            try:
                response = await self._stub.Embed(request, timeout=self._timeout)
            except grpc.aio.AioRpcError as error:
                raise from_rpc_error(error) from error
            rows.append(np.array([list(e.values) for e in response.embeddings], dtype=np.float32))
        return normalised(np.concatenate(rows))

    async def close(self) -> None:
        await self._channel.close()


def normalised(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (a zero row stays zero), as float32."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.where(norms > 0.0, norms, 1.0)).astype(np.float32)
