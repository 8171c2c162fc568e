"""gRPC client of the retriever: knowledge bases, documents, search and embeddings."""

from __future__ import annotations

from tuneway.api.retriever.v1 import retriever_pb2 as pb
from tuneway.api.retriever.v1 import retriever_pb2_grpc
from tuneway.gateway.clients.base import ServiceClient


class RetrieverClient(ServiceClient[retriever_pb2_grpc.RetrieverServiceStub]):
    """RetrieverService with the default deadline, except ingestion, which gets a longer one."""

    def __init__(self, target: str, rpc_timeout: float, ingest_timeout: float) -> None:
        super().__init__(target, "retriever", rpc_timeout, retriever_pb2_grpc.RetrieverServiceStub)
        self._ingest_timeout = ingest_timeout

    async def add_document(self, request: pb.AddDocumentRequest) -> pb.AddDocumentResponse:
        """Adds or replaces documents; parsing (and with `wait`, embedding) can take a while."""
        response: pb.AddDocumentResponse = await self.call(
            self.stub.AddDocument, request, self._ingest_timeout
        )
        return response
