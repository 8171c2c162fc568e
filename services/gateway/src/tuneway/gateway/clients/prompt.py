"""gRPC client of the prompt service, raising domain errors instead of RpcErrors."""

from __future__ import annotations

from typing import Any

from tuneway.api.prompt.v1 import prompt_pb2 as pb
from tuneway.api.prompt.v1 import prompt_pb2_grpc
from tuneway.gateway.clients.base import ServiceClient


class PromptClient(ServiceClient):
    """Calls PromptService RPCs by name with a deadline; `render` is the chat pipeline's hot path."""

    def __init__(self, target: str, rpc_timeout: float) -> None:
        super().__init__(target, "prompt", rpc_timeout)
        self._stub = prompt_pb2_grpc.PromptServiceStub(self._channel)

    async def call(self, method: str, request: Any) -> Any:
        """The response of `method` (e.g. "CreatePrompt"); errors arrive as DomainErrors."""
        return await self._call(getattr(self._stub, method), request)

    async def render(self, request: pb.RenderPromptRequest) -> pb.RenderPromptResponse:
        """The rendered conversation, model and parameters of an assistant or prompt."""
        response: pb.RenderPromptResponse = await self.call("RenderPrompt", request)
        return response
