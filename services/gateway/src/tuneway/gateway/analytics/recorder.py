"""The CompletionEvent of one request, filled in from what the chat pipeline (or the embeddings route)
learns as it goes, and handed to the publisher's queue when the reply is done: at the end of a JSON
reply, or when a stream's generator finishes (the client having read it all, or gone away)."""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, AsyncIterator, Mapping

import orjson

from tuneway.api.events.v1 import events_pb2 as epb
from tuneway.api.inference.v1 import inference_pb2 as ipb
from tuneway.api.prompt.v1 import prompt_pb2 as ppb
from tuneway.core.errors import DomainError
from tuneway.gateway.analytics.events import MAX_MESSAGE_CHARS, AnalyticsEvents
from tuneway.gateway.chat.schemas import ChatCompletionRequest
from tuneway.gateway.errors import domain_error_response
from tuneway.gateway.knowledge.retrieval import Retrieved
from tuneway.gateway.prompts.assistant_names import is_assistant
from tuneway.gateway.tenancy.keys import Principal

# nginx's status for a client that closed the connection before the reply was complete.
CLIENT_CLOSED = (499, "client_closed_request")


def _last_user_message(body: ChatCompletionRequest) -> str:
    text = next((m.text() for m in reversed(body.messages) if m.role == "user"), "")
    return text[:MAX_MESSAGE_CHARS]


def _error_status(error: BaseException) -> tuple[int, str]:
    """The HTTP status and OpenAI error code (else type) the error leaves the gateway with."""
    if not isinstance(error, DomainError):
        return 500, "server_error"
    response = domain_error_response(error)
    detail = orjson.loads(response.body)["error"]
    return response.status_code, detail["code"] or detail["type"]


class CompletionRecorder:
    """Builds one request's CompletionEvent; `record` (or the stream wrapper) sends it exactly once."""

    def __init__(
        self, events: AnalyticsEvents, event: epb.CompletionEvent, metadata: Mapping[str, str]
    ) -> None:
        self._events = events
        self._started = time.perf_counter()
        self.event = event
        self._metadata = metadata
        self._rendered_model = ""
        self._first_text_at: float | None = None
        self._generated = True
        self._error: BaseException | None = None
        self._finished = False
        self._recorded = False

    @classmethod
    def for_chat(
        cls,
        events: AnalyticsEvents,
        body: ChatCompletionRequest,
        principal: Principal,
        request_id: str,
        endpoint: str = "chat.completions",
    ) -> CompletionRecorder:
        """The recorder of a chat completion that arrived now (`endpoint` names the API it came through:
        the Responses API generates through the chat pipeline too)."""
        metadata = body.metadata or {}
        event = epb.CompletionEvent(
            request_id=request_id,
            tenant_id=principal.tenant_id,
            api_key_id=principal.key_id,
            created_at_ms=int(time.time() * 1000),
            endpoint=endpoint,
            model=body.model,
            language=metadata.get("language", ""),
            channel=metadata.get("channel", ""),
            tone=metadata.get("tone", ""),
            conversation_id=metadata.get("conversation_id", ""),
            user=body.user or "",
            streamed=body.stream,
            last_user_message=_last_user_message(body),
        )
        return cls(events, event, metadata)

    @classmethod
    def for_text_completion(
        cls,
        events: AnalyticsEvents,
        model: str,
        prompt: str,
        user: str | None,
        streamed: bool,
        principal: Principal,
        request_id: str,
    ) -> CompletionRecorder:
        """The recorder of a legacy text completion (POST /v1/completions) that arrived now; its
        `prompt` (the first, as text) stands where a chat's last user message does."""
        event = epb.CompletionEvent(
            request_id=request_id,
            tenant_id=principal.tenant_id,
            api_key_id=principal.key_id,
            created_at_ms=int(time.time() * 1000),
            endpoint="completions",
            model=model,
            user=user or "",
            streamed=streamed,
            last_user_message=prompt[:MAX_MESSAGE_CHARS],
        )
        return cls(events, event, {})

    @classmethod
    def for_embeddings(
        cls, events: AnalyticsEvents, model: str, user: str | None, principal: Principal, request_id: str
    ) -> CompletionRecorder:
        """The recorder of an embeddings call that arrived now (the embedder is a base model)."""
        event = epb.CompletionEvent(
            request_id=request_id,
            tenant_id=principal.tenant_id,
            api_key_id=principal.key_id,
            created_at_ms=int(time.time() * 1000),
            endpoint="embeddings",
            kind="base",
            model=model,
            base_model=model,
            user=user or "",
        )
        recorder = cls(events, event, {})
        recorder._generated = False
        return recorder

    def retrieved(self, retrieved: Retrieved) -> None:
        """What the knowledge step found (and whether it answered "I don't know" itself)."""
        self.event.knowledge_sources = len(retrieved.sources)
        self.event.knowledge_top_score = max((s["score"] for s in retrieved.sources), default=0.0)
        self.event.knowledge_no_answer = retrieved.answer is not None
        self._generated = retrieved.answer is None

    def rendered(self, rendered: ppb.RenderPromptResponse) -> None:
        """What served an assistant: prompt, version, variant, experiment arm, language, model."""
        e = self.event
        e.assistant = rendered.assistant
        e.prompt_name = rendered.prompt_name
        e.prompt_version = rendered.version
        e.prompt_label = rendered.label
        e.variant = rendered.variant
        e.experiment_id = rendered.experiment_id
        e.experiment_arm = rendered.experiment_variant
        if not self._metadata.get("language"):
            e.language = rendered.language
            e.language_detected = rendered.language_detected
        self._rendered_model = rendered.model

    def tokens(self, prompt_tokens: int, completion_tokens: int = 0) -> None:
        """Tokens counted by the engine or the embedder."""
        self.event.prompt_tokens = prompt_tokens
        self.event.completion_tokens = completion_tokens

    async def observe(
        self, responses: AsyncGenerator[ipb.GenerateResponse, None]
    ) -> AsyncGenerator[ipb.GenerateResponse, None]:
        """`responses`, passed through, noting the first text, the finish reason, usage and a failure."""
        try:
            async for response in responses:
                if response.text_delta and self._first_text_at is None:
                    self._first_text_at = time.perf_counter()
                if response.finish_reason and response.index == 0:
                    self.event.finish_reason = response.finish_reason
                # The generation's last response: the usage of every choice together.
                if response.HasField("usage"):
                    self._finished = True
                    self.tokens(response.usage.prompt_tokens, response.usage.completion_tokens)
                yield response
        except GeneratorExit:
            raise
        except BaseException as error:
            self._error = error
            raise
        finally:
            await responses.aclose()

    async def observe_stream(self, events: AsyncIterator[bytes]) -> AsyncGenerator[bytes, None]:
        """The SSE events, passed through; when they end (or the client goes away), records the event."""
        try:
            async for event in events:
                yield event
        finally:
            close = getattr(events, "aclose", None)
            if close is not None:
                await close()
            if self._error is not None:
                self.failed(self._error)
            elif not self._finished:
                self._fail(*CLIENT_CLOSED)
            else:
                self.succeeded()

    def succeeded(self) -> None:
        """Records a reply that went out whole."""
        self.event.status = "ok"
        self.event.http_status = 200
        self._record()

    def failed(self, error: BaseException) -> None:
        """Records a request that failed with `error` (a cancelled one: the client went away)."""
        if isinstance(error, Exception):
            self._fail(*_error_status(error))
        else:  # CancelledError, GeneratorExit: nobody is waiting for the reply any more
            self._fail(*CLIENT_CLOSED)

    def _fail(self, http_status: int, code: str) -> None:
        self.event.status = "error"
        self.event.error_code = code
        self.event.http_status = http_status
        self._record()

    def _record(self) -> None:
        if self._recorded:
            return
        self._recorded = True
        now = time.perf_counter()
        e = self.event
        e.latency_ms = (now - self._started) * 1000
        if self._generated and self._first_text_at is not None:
            e.time_to_first_token_ms = (self._first_text_at - self._started) * 1000
        if e.endpoint != "embeddings":
            self._classify_model()
        self._events.completion(e)

    def _classify_model(self) -> None:
        """kind, base_model and adapter, from the model that generated (an assistant's rendered one)."""
        e = self.event
        bases = self._events.base_model_names(e.tenant_id)
        generated_by = self._rendered_model or ("" if is_assistant(e.model) else e.model)
        e.kind = (
            "assistant" if is_assistant(e.model) else ("base" if _is_base(generated_by, bases) else "adapter")
        )
        if not generated_by:
            return
        if _is_base(generated_by, bases):
            e.base_model = generated_by
            return
        e.adapter = generated_by
        e.base_model = _base_of_adapter(generated_by, bases)


def _is_base(model: str, bases: frozenset[str]) -> bool:
    # Before the first listing of base models, fine-tuned names (ft:<base>:...) are the adapters.
    return model in bases if bases else not model.startswith("ft:")


def _base_of_adapter(adapter: str, bases: frozenset[str]) -> str:
    """ft:<base>:<tenant>:<suffix>:<job> names their base; an alias is the only base when there is one."""
    if adapter.startswith("ft:"):
        return adapter.split(":")[1]
    return next(iter(bases)) if len(bases) == 1 else ""
