"""gRPC client of the prompt service: prompts, templates, experiments, assistants and rendering."""

from __future__ import annotations

from tuneway.api.prompt.v1 import prompt_pb2_grpc
from tuneway.gateway.clients.base import ServiceClient


class PromptClient(ServiceClient[prompt_pb2_grpc.PromptServiceStub]):
    """PromptService with the default deadline on every call."""

    def __init__(self, target: str, rpc_timeout: float) -> None:
        super().__init__(target, "prompt", rpc_timeout, prompt_pb2_grpc.PromptServiceStub)
