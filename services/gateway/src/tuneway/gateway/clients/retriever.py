"""gRPC client of the retriever, raising domain errors instead of RpcErrors."""

from __future__ import annotations

from typing import Any

from tuneway.api.retriever.v1 import retriever_pb2 as pb
from tuneway.api.retriever.v1 import retriever_pb2_grpc
from tuneway.gateway.clients.base import ServiceClient


class RetrieverClient(ServiceClient):
    """Calls RetrieverService RPCs by name with a deadline; ingestion gets a longer one."""

    def __init__(self, target: str, rpc_timeout: float, ingest_timeout: float) -> None:
        super().__init__(target, "retriever", rpc_timeout)
        self._stub = retriever_pb2_grpc.RetrieverServiceStub(self._channel)
        self._ingest_timeout = ingest_timeout

    async def call(self, method: str, request: Any, deadline: float | None = None) -> Any:
        """The response of `method` (e.g. "CreateKnowledgeBase"); errors arrive as DomainErrors."""
        return await self._call(getattr(self._stub, method), request, deadline)

    async def add_document(self, request: pb.AddDocumentRequest) -> pb.AddDocumentResponse:
        """Adds or replaces documents; parsing (and with `wait`, embedding) can take a while."""
        response: pb.AddDocumentResponse = await self.call("AddDocument", request, self._ingest_timeout)
        return response

    async def search(self, request: pb.SearchRequest) -> pb.SearchResponse:
        """The best chunks for a query (the assistant pipeline's hot path)."""
        response: pb.SearchResponse = await self.call("Search", request)
        return response
