"""gRPC RetrieverService: converts between protobuf and the domain services; no logic here."""

from __future__ import annotations

import grpc

from tuneway.api.retriever.v1 import retriever_pb2 as pb
from tuneway.api.retriever.v1 import retriever_pb2_grpc
from tuneway.retriever import convert
from tuneway.retriever.ingestion import Upload
from tuneway.retriever.service import RetrieverService


class RetrieverServicer(retriever_pb2_grpc.RetrieverServiceServicer):
    """Serves every RetrieverService RPC."""

    def __init__(self, service: RetrieverService, max_embed_inputs: int) -> None:
        self._s = service
        self._max_embed_inputs = max_embed_inputs

    async def CreateKnowledgeBase(
        self, request: pb.CreateKnowledgeBaseRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateKnowledgeBaseResponse:
        view = await self._s.knowledge_bases.create(
            request.tenant_id,
            request.name,
            request.description,
            request.chunk_size,
            request.chunk_overlap if request.HasField("chunk_overlap") else None,
            request.embedding_model,
            dict(request.metadata),
        )
        return pb.CreateKnowledgeBaseResponse(knowledge_base=convert.knowledge_base_to(view))

    async def GetKnowledgeBase(
        self, request: pb.GetKnowledgeBaseRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetKnowledgeBaseResponse:
        view = await self._s.knowledge_bases.get(request.tenant_id, request.id)
        return pb.GetKnowledgeBaseResponse(knowledge_base=convert.knowledge_base_to(view))

    async def ListKnowledgeBases(
        self, request: pb.ListKnowledgeBasesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListKnowledgeBasesResponse:
        views = await self._s.knowledge_bases.list(request.tenant_id)
        return pb.ListKnowledgeBasesResponse(knowledge_bases=[convert.knowledge_base_to(v) for v in views])

    async def DeleteKnowledgeBase(
        self, request: pb.DeleteKnowledgeBaseRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeleteKnowledgeBaseResponse:
        return pb.DeleteKnowledgeBaseResponse(
            id=await self._s.knowledge_bases.delete(request.tenant_id, request.id)
        )

    async def AddDocument(
        self, request: pb.AddDocumentRequest, context: grpc.aio.ServicerContext
    ) -> pb.AddDocumentResponse:
        upload = Upload(
            data=request.data if request.HasField("data") else None,
            uri=request.uri,
            filename=request.filename,
            format=request.format,
            title=request.title,
            source=request.source,
            metadata=dict(request.metadata),
        )
        rows = await self._s.ingestor.add(
            request.tenant_id, request.knowledge_base_id, request.document_id, upload, request.wait
        )
        return pb.AddDocumentResponse(documents=[convert.document_to(r) for r in rows])

    async def GetDocument(
        self, request: pb.GetDocumentRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetDocumentResponse:
        row = await self._s.documents.get(request.tenant_id, request.knowledge_base_id, request.id)
        return pb.GetDocumentResponse(document=convert.document_to(row))

    async def ListDocuments(
        self, request: pb.ListDocumentsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListDocumentsResponse:
        rows = await self._s.documents.list(request.tenant_id, request.knowledge_base_id)
        return pb.ListDocumentsResponse(documents=[convert.document_to(r) for r in rows])

    async def DeleteDocument(
        self, request: pb.DeleteDocumentRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeleteDocumentResponse:
        deleted = await self._s.documents.delete(request.tenant_id, request.knowledge_base_id, request.id)
        return pb.DeleteDocumentResponse(id=deleted)

    async def Search(self, request: pb.SearchRequest, context: grpc.aio.ServicerContext) -> pb.SearchResponse:
        hits = await self._s.searcher.search(
            request.tenant_id,
            list(request.knowledge_base_ids),
            request.query,
            request.top_k,
            request.score_threshold if request.HasField("score_threshold") else None,
            dict(request.filter),
            list(request.document_ids),
        )
        return pb.SearchResponse(hits=[convert.hit_to(h) for h in hits])

    async def Embed(self, request: pb.EmbedRequest, context: grpc.aio.ServicerContext) -> pb.EmbedResponse:
        model, vectors, tokens = await self._s.searcher.embed(
            request.model, list(request.inputs), self._max_embed_inputs
        )
        return pb.EmbedResponse(
            embeddings=[pb.Embedding(values=v.tolist()) for v in vectors], model=model, prompt_tokens=tokens
        )

    async def ListEmbeddingModels(
        self, request: pb.ListEmbeddingModelsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListEmbeddingModelsResponse:
        embedder = self._s.embedder
        model = pb.EmbeddingModel(
            id=embedder.model_id,
            dimensions=embedder.dimensions,
            max_tokens=embedder.max_tokens,
            backend=embedder.backend,
        )
        return pb.ListEmbeddingModelsResponse(models=[model])
