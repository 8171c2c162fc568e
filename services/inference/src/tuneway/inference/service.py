"""Chat generation on the engine: model resolution, chat template, sampling, streaming and usage."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass, field, replace
from typing import Any

from tuneway.core.errors import InvalidArgumentError, NotFoundError, UnavailableError
from tuneway.inference.adapters import Adapter, AdapterSet
from tuneway.inference.logprobs import TokenLogprob, token_logprobs
from tuneway.inference.metrics import IN_FLIGHT, LATENCY, REQUESTS, TIME_TO_FIRST_TOKEN, TOKENS
from tuneway.inference.tool_readers import (
    NamedReader,
    OutputReader,
    PlainReader,
    RequiredReader,
    auto_reader,
)
from tuneway.inference.tools import (
    ToolCall,
    ToolCallDelta,
    Tools,
    forced_schema,
    template_arguments,
    template_tools,
)

# Endings of a generation that the engine chose, not the model: it aborted the request (shutting down)
# or failed it in a way vLLM calls retryable. The client should retry, so they are 503s, not replies.
_RETRYABLE_ENDINGS = ("abort", "error")


def engine_unavailable() -> UnavailableError:
    """What a generation ends with when the engine is gone or shutting down."""
    return UnavailableError(
        "The inference engine is unavailable right now; please retry shortly.", code="service_unavailable"
    )


def client_error(error: Exception) -> InvalidArgumentError:
    """A request vLLM refused (its VLLMClientError, a 4xx in vLLM's own server) as a 400 naming the field
    vLLM names, instead of an internal error."""
    return InvalidArgumentError(str(error), param=getattr(error, "parameter", None))


@dataclass(frozen=True)
class ChatTurn:
    role: str
    content: str
    name: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str = ""

    def for_template(self) -> dict[str, Any]:
        """The turn as chat templates (and transformers) expect it, in OpenAI's message shape."""
        turn: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.name:
            turn["name"] = self.name
        if self.tool_calls:
            turn["tool_calls"] = [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": template_arguments(call.arguments)},
                }
                for call in self.tool_calls
            ]
        if self.tool_call_id:
            turn["tool_call_id"] = self.tool_call_id
        return turn


@dataclass(frozen=True)
class Sampling:
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    stop: tuple[str, ...] = ()
    seed: int | None = None
    ignore_eos: bool = False
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    # Choices from the one prompt (OpenAI's n): one engine request, its choices sharing the prompt.
    n: int = 1
    # The generated tokens' log probabilities with this many alternatives; None: none.
    logprobs: int | None = None
    # The prompt tokens' log probabilities (completions' echo), with this many alternatives.
    prompt_logprobs: int | None = None
    # Token id -> bias added to its logit (-100..100).
    logit_bias: tuple[tuple[int, float], ...] = ()


@dataclass(frozen=True)
class RawPrompt:
    """A prompt sent as written, without the chat template (the legacy completions API)."""

    text: str = ""
    token_ids: tuple[int, ...] = ()
    # The first chunk carries the prompt (and its tokens' log probabilities, if asked) to echo.
    echo: bool = False


@dataclass(frozen=True)
class PromptEcho:
    text: str
    tokens: tuple[TokenLogprob, ...] = ()


@dataclass(frozen=True)
class GenerationRequest:
    tenant_id: str
    model: str
    messages: tuple[ChatTurn, ...]
    sampling: Sampling = field(default_factory=Sampling)
    request_id: str = ""
    # "text", "json_object" or "json_schema" (with `json_schema` holding the schema as JSON).
    response_format: str = "text"
    json_schema: str = ""
    tools: Tools = field(default_factory=Tools)
    # The client streams: auto tool calls are parsed as they are generated, else once at the end.
    stream: bool = False
    # vLLM's scheduling priority: 0 interactive; batches' lines larger, so they wait behind it.
    priority: int = 0
    # Set instead of messages: the prompt goes to the engine as is.
    raw_prompt: RawPrompt | None = None


@dataclass(frozen=True)
class GenerationChunk:
    text: str
    # The choice's ending, on its last chunk.
    finish_reason: str | None = None
    tool_calls: tuple[ToolCallDelta, ...] = ()
    prompt_tokens: int = 0
    completion_tokens: int = 0
    # The choice (0..n-1) this chunk continues.
    index: int = 0
    # With Sampling.logprobs: the log probabilities of the tokens of `text`.
    logprobs: tuple[TokenLogprob, ...] = ()
    # On the first chunk of a raw prompt that asked for echo.
    prompt: PromptEcho | None = None
    # The generation's last chunk (every choice finished): it carries the usage.
    last: bool = False


@dataclass(frozen=True)
class ModelEntry:
    id: str
    kind: str
    base_model: str
    tenant_id: str
    created_at: int


class InferenceService:
    """Runs generations for the base model and the tenant's adapters; aborts them when cancelled."""

    def __init__(
        self,
        engine: Any,
        adapters: AdapterSet,
        base_model: str,
        max_model_len: int,
        tool_parser: str = "",
        max_n: int = 8,
    ) -> None:
        self._engine = engine
        self._adapters = adapters
        self._base_model = base_model
        self._max_model_len = max_model_len
        self._max_n = max_n
        self._tokenizer = engine.get_tokenizer()
        self._vocab_size: int = engine.model_config.get_vocab_size()
        self._started_at = int(time.time())
        if tool_parser:
            from vllm.tool_parsers import ToolParserManager

            if tool_parser not in ToolParserManager.list_registered():
                raise ValueError(
                    f"INFERENCE_TOOL_PARSER={tool_parser!r} is not one of vLLM's tool parsers: "
                    + ", ".join(ToolParserManager.list_registered())
                )
        self._tool_parser = tool_parser

    def list_models(self, tenant_id: str) -> list[ModelEntry]:
        """The base model, then the tenant's adapters."""
        models = [ModelEntry(self._base_model, "base", self._base_model, "", self._started_at)]
        for adapter in sorted(self._adapters.all(), key=lambda a: a.created_at):
            if adapter.tenant_id == tenant_id:
                models.append(
                    ModelEntry(adapter.model, "adapter", adapter.base_model, tenant_id, adapter.created_at)
                )
        return models

    def _resolve(self, model: str, tenant_id: str) -> Adapter | None:
        if model == self._base_model:
            return None
        adapter = self._adapters.by_model(model)
        # Another tenant's adapter is reported exactly like one that does not exist.
        if adapter is None or adapter.tenant_id != tenant_id:
            raise NotFoundError(
                f"The model `{model}` does not exist or you do not have access to it.",
                param="model",
                code="model_not_found",
            )
        return adapter

    def _prompt_ids(self, messages: tuple[ChatTurn, ...], tools: list[dict[str, Any]] | None) -> list[int]:
        if not messages:
            raise InvalidArgumentError("messages must hold at least one message", param="messages")
        turns = [m.for_template() for m in messages]
        try:
            # The model's own template renders the functions and past calls in the model's own format.
            ids = self._tokenizer.apply_chat_template(
                turns, tools=tools, add_generation_prompt=True, tokenize=True, return_dict=False
            )
        except Exception as error:  # templates raise on conversations they do not support
            raise InvalidArgumentError(
                f"the model's chat template rejected messages: {error}", param="messages"
            ) from error
        return list(ids)

    def _raw_prompt_ids(self, prompt: RawPrompt) -> list[int]:
        ids = list(prompt.token_ids) if prompt.token_ids else list(self._tokenizer.encode(prompt.text))
        if not ids:
            raise InvalidArgumentError("the prompt must not be empty", param="prompt")
        if any(not 0 <= token < self._vocab_size for token in ids):
            raise InvalidArgumentError(
                f"the prompt's token ids must be within the vocabulary (0 to {self._vocab_size - 1})",
                param="prompt",
            )
        return ids

    def _check_choices(self, s: Sampling) -> None:
        """n within what this server allows, logit_bias within the vocabulary."""
        if not 1 <= s.n <= self._max_n:
            raise InvalidArgumentError(
                f"n must be between 1 and {self._max_n} on this server (INFERENCE_MAX_N)", param="n"
            )
        outside = sorted(token for token, _ in s.logit_bias if not 0 <= token < self._vocab_size)
        if outside:
            raise InvalidArgumentError(
                f"logit_bias names token {outside[0]}, which is not in the model's vocabulary "
                f"(0 to {self._vocab_size - 1})",
                param="logit_bias",
            )

    def _reader(self, request: GenerationRequest) -> OutputReader:
        """How the output is read: plain content, a forced call, or the model's own choice."""
        mode = request.tools.mode
        if mode == "function":
            return NamedReader(request.tools.choice.function_name)
        if mode == "required":
            return RequiredReader()
        if mode == "auto" and request.tools.functions:
            if not self._tool_parser:
                raise InvalidArgumentError(
                    "tool_choice 'auto' needs a tool call parser for this model, and this server has "
                    "none (INFERENCE_TOOL_PARSER); use 'required' or name a function",
                    param="tool_choice",
                )
            return auto_reader(
                self._tool_parser,
                self._tokenizer,
                template_tools(request.tools, strict=True) or [],
                stream=request.stream,
                parallel=request.tools.parallel,
            )
        return PlainReader()

    def _sampling_params(self, request: GenerationRequest, prompt_len: int, reader: OutputReader) -> Any:
        from vllm.exceptions import VLLMClientError
        from vllm.sampling_params import RequestOutputKind, SamplingParams, StructuredOutputsParams

        room = self._max_model_len - prompt_len
        s = request.sampling
        # More than the whole context can never fit, whatever the messages: OpenAI names max_tokens.
        if s.max_tokens is not None and s.max_tokens > self._max_model_len:
            raise InvalidArgumentError(
                f"max_tokens is too large: {s.max_tokens}. This model's maximum context length is "
                f"{self._max_model_len} tokens.",
                param="max_tokens",
                code="invalid_value",
            )
        if room <= 0 or (s.max_tokens is not None and s.max_tokens > room):
            prompt_field = "prompt" if request.raw_prompt is not None else "messages"
            wanted = s.max_tokens or 1
            raise InvalidArgumentError(
                f"This model's maximum context length is {self._max_model_len} tokens. However, you "
                f"requested {prompt_len + wanted} tokens ({prompt_len} in the {prompt_field}, "
                f"{wanted} in the completion).",
                param=prompt_field,
                code="context_length_exceeded",
            )
        structured = None
        # A forced call is decoded under its schema; the text reply's response_format has no say then.
        forced = forced_schema(request.tools)
        strict_calls = getattr(reader, "structural_tag", None)
        if forced is not None:
            structured = StructuredOutputsParams(json=forced)
        elif strict_calls is not None:
            if request.response_format != "text":
                raise InvalidArgumentError(
                    "response_format cannot be combined with strict functions under tool_choice "
                    "'auto': the engine constrains one grammar at a time",
                    param="response_format",
                )
            structured = StructuredOutputsParams(structural_tag=strict_calls)
        elif request.response_format == "json_object":
            structured = StructuredOutputsParams(json_object=True)
        elif request.response_format == "json_schema":
            try:
                structured = StructuredOutputsParams(json=json.loads(request.json_schema))
            except ValueError as error:
                raise InvalidArgumentError(
                    f"response_format.json_schema.schema is not valid JSON: {error}",
                    param="response_format.json_schema.schema",
                ) from error
        try:
            return SamplingParams(
                temperature=1.0 if s.temperature is None else s.temperature,
                top_p=1.0 if s.top_p is None else s.top_p,
                max_tokens=room if s.max_tokens is None else s.max_tokens,
                stop=list(s.stop) or None,
                seed=s.seed,
                ignore_eos=s.ignore_eos,
                presence_penalty=s.presence_penalty or 0.0,
                frequency_penalty=s.frequency_penalty or 0.0,
                n=1 if _greedy(s) else s.n,
                logprobs=s.logprobs,
                prompt_logprobs=s.prompt_logprobs,
                logit_bias=dict(s.logit_bias) or None,
                structured_outputs=structured,
                skip_special_tokens=getattr(reader, "skip_special_tokens", True),
                output_kind=RequestOutputKind.DELTA,
            )
        except VLLMClientError as error:  # vLLM's own checks of the values (e.g. top_p that reached 0.0)
            raise client_error(error) from error

    async def generate(self, request: GenerationRequest) -> AsyncGenerator[GenerationChunk, None]:
        """Streams each choice's text deltas (tagged with its index); a choice's last chunk carries its
        finish_reason, and the generation's last chunk (`last`) the token usage. A generation the engine
        could not finish (it stopped, or aborted the request to shut down) is UnavailableError."""
        from vllm.exceptions import VLLMClientError
        from vllm.v1.engine.exceptions import EngineDeadError

        adapter = self._resolve(request.model, request.tenant_id)
        self._check_choices(request.sampling)
        if request.raw_prompt is not None:
            prompt_ids = self._raw_prompt_ids(request.raw_prompt)
        else:
            prompt_ids = self._prompt_ids(request.messages, template_tools(request.tools))
        # Each choice is read on its own: its own tool calls, its own content.
        choices = [
            _Choice(index, self._reader(request), request, self._tokenizer)
            for index in range(request.sampling.n)
        ]
        params = self._sampling_params(request, len(prompt_ids), choices[0].reader)
        # Greedy choices are all alike, and vLLM refuses n > 1 with greedy sampling: the engine generates
        # one, which every choice reads (and counts) as its own, as OpenAI answers n with temperature 0.
        copies = request.sampling.n if _greedy(request.sampling) else 1
        echo = (
            _Echo(request, prompt_ids, self._tokenizer)
            if request.raw_prompt and request.raw_prompt.echo
            else None
        )
        lora = None
        if adapter is not None:
            from vllm.lora.request import LoRARequest

            lora = LoRARequest(
                lora_name=adapter.model, lora_int_id=adapter.lora_int_id, lora_path=adapter.path
            )
        kind = "adapter" if adapter else "base"
        started = time.perf_counter()
        first_token_at: float | None = None
        completion_tokens, outcome = 0, "cancelled"
        IN_FLIGHT.inc()
        try:
            stream = self._engine.generate(
                {"prompt_token_ids": prompt_ids},
                params,
                request.request_id or uuid.uuid4().hex,
                lora_request=lora,
                priority=request.priority,
            )
            # Closing vLLM's generator is what aborts the request; do it when we are closed.
            async with aclosing(stream):
                async for output in stream:
                    chunks: list[GenerationChunk] = []
                    # With n > 1 one output holds the deltas of every choice that advanced.
                    for completion in output.outputs:
                        completion_tokens += len(completion.token_ids) * copies
                        if first_token_at is None and completion.token_ids:
                            first_token_at = time.perf_counter()
                            TIME_TO_FIRST_TOKEN.observe(first_token_at - started)
                        if completion.finish_reason in _RETRYABLE_ENDINGS:
                            raise engine_unavailable()
                        for copy in range(copies):
                            chunk = choices[completion.index + copy].read(completion)
                            if chunk is not None:
                                chunks.append(chunk)
                    prompt = echo.take(output, finished=output.finished) if echo is not None else None
                    if prompt is not None:
                        first = chunks[0] if chunks else GenerationChunk(text="")
                        chunks[:1] = [replace(first, prompt=prompt)]
                    if output.finished:
                        outcome = "finished"
                        closing = chunks.pop() if chunks else GenerationChunk(text="")
                        chunks.append(
                            replace(
                                closing,
                                last=True,
                                prompt_tokens=len(prompt_ids),
                                completion_tokens=completion_tokens,
                            )
                        )
                    for chunk in chunks:
                        yield chunk
        except EngineDeadError as error:
            outcome = "error"
            raise engine_unavailable() from error
        except VLLMClientError as error:  # the engine's input processor refused the request
            outcome = "error"
            raise client_error(error) from error
        except Exception:
            outcome = "error"
            raise
        finally:
            IN_FLIGHT.dec()
            REQUESTS.labels(outcome, kind).inc()
            LATENCY.observe(time.perf_counter() - started)
            TOKENS.labels("prompt").inc(len(prompt_ids))
            TOKENS.labels("completion").inc(completion_tokens)


class _Choice:
    """One of a generation's n choices: its reader, and the log probabilities of its content."""

    def __init__(self, index: int, reader: OutputReader, request: GenerationRequest, tokenizer: Any) -> None:
        self.index = index
        self.reader = reader
        self._tools = request.tools
        self._k = request.sampling.logprobs
        self._tokenizer = tokenizer
        # Tool readers hold text back while they decide whether it is a call: the tokens wait with it.
        self._plain = isinstance(reader, PlainReader)
        self._pending: list[TokenLogprob] = []
        self._pending_text = ""

    def read(self, completion: Any) -> GenerationChunk | None:
        """The chunk of this choice's next delta (None when it adds nothing yet)."""
        finished = completion.finish_reason is not None
        parsed = self.reader.feed(completion.text, completion.token_ids)
        if finished:
            parsed.extend(self.reader.finish())
        logprobs = tuple(self._content_logprobs(completion, parsed, finished)) if self._k is not None else ()
        if finished:
            return GenerationChunk(
                text=parsed.content,
                finish_reason=_finish_reason(completion.finish_reason, self.reader, self._tools),
                tool_calls=tuple(parsed.calls),
                index=self.index,
                logprobs=logprobs,
            )
        if parsed.content or parsed.calls or logprobs:
            return GenerationChunk(
                text=parsed.content, tool_calls=tuple(parsed.calls), index=self.index, logprobs=logprobs
            )
        return None

    def _content_logprobs(self, completion: Any, parsed: Any, finished: bool) -> list[TokenLogprob]:
        tokens = token_logprobs(completion.token_ids, completion.logprobs, self._k or 0, self._tokenizer)
        # The end-of-sequence (or a stop token) ends the choice without being part of its text, as
        # OpenAI leaves it out; a stop string's token stays, as vLLM's server keeps it.
        if tokens and completion.finish_reason == "stop" and not isinstance(completion.stop_reason, str):
            tokens.pop()
        if self._plain:
            return tokens
        self._pending.extend(tokens)
        self._pending_text += completion.text
        if parsed.calls:  # the held text was (part of) a call: its tokens are not content
            self._pending, self._pending_text = [], ""
            return []
        if (parsed.content and parsed.content == self._pending_text) or (finished and not self.reader.called):
            ready, self._pending, self._pending_text = self._pending, [], ""
            return ready
        return []


class _Echo:
    """The prompt of a raw generation, with its tokens' log probabilities once the engine computed
    them all (they may arrive over several outputs when the prompt is prefilled in parts)."""

    def __init__(self, request: GenerationRequest, prompt_ids: list[int], tokenizer: Any) -> None:
        raw = request.raw_prompt
        assert raw is not None
        self._text = raw.text if not raw.token_ids else tokenizer.decode(prompt_ids)
        self._ids = prompt_ids
        self._k = request.sampling.prompt_logprobs
        self._tokenizer = tokenizer
        self._positions: list[Any] = []
        self._sent = False

    def take(self, output: Any, *, finished: bool) -> PromptEcho | None:
        """The echo, the first time it is complete (or the generation finished); else None."""
        if self._sent:
            return None
        if self._k is None:
            self._sent = True
            return PromptEcho(self._text)
        self._positions.extend(output.prompt_logprobs or ())
        if len(self._positions) < len(self._ids) and not finished:
            return None
        self._sent = True
        positions = self._positions[: len(self._ids)]
        tokens = token_logprobs(self._ids[: len(positions)], positions, self._k, self._tokenizer)
        return PromptEcho(self._text, tuple(tokens))


def _greedy(s: Sampling) -> bool:
    # vLLM samples greedily below this temperature (its _SAMPLING_EPS).
    return s.temperature is not None and s.temperature < 1e-5


def _finish_reason(engine_reason: str | None, reader: OutputReader, tools: Tools) -> str:
    """OpenAI's: `tool_calls` when the model stopped after calling (auto or required), `stop` after a
    named function's call (as OpenAI answers a forced function), `length` when cut off."""
    if engine_reason == "length":
        return "length"
    if reader.called and tools.mode in ("auto", "required"):
        return "tool_calls"
    return "stop"
