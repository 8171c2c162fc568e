"""One line of a batch, run through the code the HTTP route runs (the chat pipeline with its gRPC
clients, so assistants, adapters and tools work; embeddings through the retriever), answered with the
status and body the route would have sent."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.responses import Response

from tuneway.api.inference.v1 import inference_pb2 as pb
from tuneway.core.errors import DomainError
from tuneway.gateway.analytics.completion_ids import CompletionIds
from tuneway.gateway.analytics.events import AnalyticsEvents
from tuneway.gateway.analytics.recorder import CompletionRecorder
from tuneway.gateway.batches.input_lines import Request
from tuneway.gateway.batches.output_lines import response_line
from tuneway.gateway.chat.pipeline import complete
from tuneway.gateway.chat.schemas import ChatCompletionRequest
from tuneway.gateway.clients.inference import InferenceClient
from tuneway.gateway.clients.prompt import PromptClient
from tuneway.gateway.clients.retriever import RetrieverClient
from tuneway.gateway.errors import domain_error_response, error_response, validation_error_response
from tuneway.gateway.knowledge.embedding import embed
from tuneway.gateway.knowledge.schemas import EmbeddingsBody
from tuneway.gateway.models.aliases import ModelAliases
from tuneway.gateway.tenancy.keys import Principal

log = logging.getLogger(__name__)

# Tries of a line while a service it needs is unavailable (restarting), with doubling pauses.
UNAVAILABLE_TRIES = 6


class LowPriorityInference(InferenceClient):
    """The inference client whose generations carry the batch priority: the engine serves
    interactive requests (priority 0) first."""

    def __init__(self, target: str, rpc_timeout: float, connect_seconds: float, priority: int) -> None:
        super().__init__(target, rpc_timeout, connect_seconds)
        self._priority = priority

    def generate(self, request: pb.GenerateRequest) -> AsyncGenerator[pb.GenerateResponse, None]:
        request.priority = self._priority
        return super().generate(request)


@dataclass(frozen=True)
class LineOutcome:
    """A line's result: its output-file line, whether it goes to the error file, its tokens."""

    output: str
    failed: bool
    input_tokens: int = 0
    output_tokens: int = 0


@dataclass(frozen=True)
class Clients:
    """What lines are run with."""

    inference: InferenceClient
    prompts: PromptClient
    retriever: RetrieverClient
    events: AnalyticsEvents
    completion_ids: CompletionIds
    model_aliases: ModelAliases


class LineRunner:
    """Runs lines of either endpoint for a batch's tenant and key."""

    def __init__(self, clients: Clients) -> None:
        self._clients = clients

    async def run(self, endpoint: str, principal: Principal, request: Request) -> LineOutcome:
        """The line's outcome; never raises for what the request holds."""
        delay = 1.0
        for attempt in range(UNAVAILABLE_TRIES):
            request_id, response = await self._answer(endpoint, principal, request)
            if response.status_code not in (503, 504) or attempt == UNAVAILABLE_TRIES - 1:
                break
            # A service restarting: the line waits for it rather than failing with the outage.
            await asyncio.sleep(delay)
            delay *= 2
        body = orjson.loads(bytes(response.body))
        usage = body.get("usage") if isinstance(body, dict) and response.status_code == 200 else None
        return LineOutcome(
            output=response_line(request.custom_id, response.status_code, request_id, body),
            failed=response.status_code >= 400,
            input_tokens=int((usage or {}).get("prompt_tokens", 0)),
            output_tokens=int((usage or {}).get("completion_tokens", 0)),
        )

    async def _answer(self, endpoint: str, principal: Principal, request: Request) -> tuple[str, Response]:
        request_id = f"req_{secrets.token_hex(12)}"
        try:
            if endpoint == "/v1/embeddings":
                body = _validated(EmbeddingsBody, request.body)
                body.model = await self._clients.model_aliases.resolve(principal.tenant_id, body.model)
                return request_id, await embed(body, principal, self._clients.retriever, self._clients.events)
            chat = _validated(ChatCompletionRequest, request.body)
            if chat.stream:
                raise RequestValidationError(
                    [
                        {
                            "loc": ("body", "stream"),
                            "msg": "a batch's requests cannot stream",
                            "type": "value_error",
                        }
                    ]
                )
            chat.model = await self._clients.model_aliases.resolve(principal.tenant_id, chat.model)
            completion_id = self._clients.completion_ids.new(principal.tenant_id)
            recorder = CompletionRecorder.for_chat(self._clients.events, chat, principal, completion_id)
            response = await complete(
                chat,
                principal.tenant_id,
                completion_id,
                self._clients.inference,
                self._clients.prompts,
                self._clients.retriever,
                recorder,
            )
            return completion_id, response
        except RequestValidationError as error:
            return request_id, validation_error_response(error)
        except DomainError as error:
            return request_id, domain_error_response(error)
        except Exception:
            log.exception("batch line failed", extra={"line": request.line})
            message = "The server had an error while processing your request."
            return request_id, error_response(500, message, "server_error")


def _validated(model: type[Any], body: dict[str, Any]) -> Any:
    """The body as the route's pydantic model; its errors as FastAPI reports a body's."""
    try:
        return model.model_validate(body)
    except ValidationError as error:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in error.errors(include_url=False)]
        raise RequestValidationError(errors) from None
