"""The write step of a chat completion: generated deltas -> OpenAI's `chat.completion`, or its
`chat.completion.chunk` events, and what served an assistant request (the `tuneway` object and headers)."""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from contextlib import aclosing
from dataclasses import dataclass
from typing import (
    Any,
    Literal,
    NotRequired,  # pydantic documents typing.TypedDict only from 3.12
)

import orjson
from typing_extensions import TypedDict

from tuneway.api.inference.v1 import inference_pb2 as pb
from tuneway.api.prompt.v1 import prompt_pb2 as ppb
from tuneway.gateway.chat.logprobs import ChoiceLogprobs, choice_logprobs
from tuneway.gateway.knowledge.responses import Source
from tuneway.gateway.knowledge.retrieval import KnowledgeUsed, RetrievalServed
from tuneway.gateway.streaming import relay_generation


class Served(TypedDict):
    """tuneway's addition to the responses of an assistant: what served the request, and what the
    knowledge bases contributed."""

    assistant: str
    prompt: str
    prompt_version: int
    prompt_label: str | None
    variant: str
    language: str | None
    experiment: str | None
    experiment_variant: str | None
    model: str
    knowledge: NotRequired[KnowledgeUsed]
    sources: NotRequired[list[Source]]


class Usage(TypedDict):
    """Tokens of the prompt and the completion."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class CalledFunction(TypedDict):
    name: str
    arguments: str  # JSON text


class ToolCall(TypedDict):
    id: str
    type: Literal["function"]
    function: CalledFunction


class CompletionMessage(TypedDict):
    """The reply: content, or null when the model only called functions (`tool_calls`)."""

    role: Literal["assistant"]
    content: str | None
    refusal: None
    tool_calls: NotRequired[list[ToolCall]]


class CompletionChoice(TypedDict):
    index: int
    message: CompletionMessage
    # With `logprobs: true`, the log probabilities of the content's tokens; else null.
    logprobs: ChoiceLogprobs | None
    finish_reason: str


class ChatCompletion(TypedDict):
    """OpenAI's `chat.completion`; assistants add `tuneway`."""

    id: str
    object: Literal["chat.completion"]
    created: int
    model: str
    choices: list[CompletionChoice]
    usage: Usage
    system_fingerprint: None
    tuneway: NotRequired[Served]


class ChunkFunction(TypedDict, total=False):
    name: str
    arguments: str


class ChunkToolCall(TypedDict, total=False):
    """A part of the call at `index`: its first part has id, type and function.name (arguments ""),
    the following parts more function.arguments text."""

    index: int
    id: str
    type: Literal["function"]
    function: ChunkFunction


class ChunkDelta(TypedDict, total=False):
    role: Literal["assistant"]
    content: str | None
    refusal: None
    tool_calls: list[ChunkToolCall]


class ChunkChoice(TypedDict):
    """A delta of the choice at `index` (each of the n choices streams its own)."""

    index: int
    delta: ChunkDelta
    logprobs: ChoiceLogprobs | None
    finish_reason: str | None


class ChatCompletionChunk(TypedDict):
    """OpenAI's `chat.completion.chunk`, the data of each server-sent event before `[DONE]`: the role,
    content deltas, the finish reason, and with `stream_options.include_usage` a last chunk without choices
    that carries the usage (`usage` is null before it). An assistant's first chunk adds `tuneway`."""

    id: str
    object: Literal["chat.completion.chunk"]
    created: int
    model: str
    system_fingerprint: None
    choices: list[ChunkChoice]
    usage: NotRequired[Usage | None]
    tuneway: NotRequired[Served]


class ToolCalls:
    """The calls of a reply, assembled from their streamed parts."""

    def __init__(self) -> None:
        self._calls: dict[int, tuple[str, str, list[str]]] = {}

    def __bool__(self) -> bool:
        return bool(self._calls)

    def add(self, response: pb.GenerateResponse) -> None:
        for part in response.tool_calls:
            if part.index not in self._calls:
                self._calls[part.index] = (part.id, part.name, [])
            self._calls[part.index][2].append(part.arguments)

    def whole(self) -> list[ToolCall]:
        return [
            {"id": id_, "type": "function", "function": {"name": name, "arguments": "".join(arguments)}}
            for _, (id_, name, arguments) in sorted(self._calls.items())
        ]


def chunk_tool_call(part: pb.ToolCallDelta) -> ChunkToolCall:
    """A call part as a chunk's `delta.tool_calls` item."""
    if part.id:
        return {
            "index": part.index,
            "id": part.id,
            "type": "function",
            "function": {"name": part.name, "arguments": part.arguments},
        }
    return {"index": part.index, "function": {"arguments": part.arguments}}


@dataclass(frozen=True)
class ServedBy:
    """What served an assistant request: the response's `tuneway` object and its headers."""

    body: Served
    headers: dict[str, str]


def served_by(rendered: ppb.RenderPromptResponse, knowledge: RetrievalServed) -> ServedBy:
    """The assistant, prompt version, variant, experiment and model that served the request, and the
    knowledge it was given (`knowledge` from the retrieval step)."""
    body: Served = {
        "assistant": rendered.assistant,
        "prompt": rendered.prompt_name,
        "prompt_version": rendered.version,
        "prompt_label": rendered.label or None,
        "variant": rendered.variant,
        "language": rendered.language or None,
        "experiment": rendered.experiment_id or None,
        "experiment_variant": rendered.experiment_variant or None,
        "model": rendered.model,
        **knowledge,
    }
    headers = {
        "x-tuneway-prompt": rendered.prompt_name,
        "x-tuneway-prompt-version": str(rendered.version),
        "x-tuneway-variant": rendered.variant,
        "x-tuneway-model": rendered.model,
    }
    if rendered.experiment_id:
        headers["x-tuneway-experiment"] = rendered.experiment_id
        headers["x-tuneway-experiment-variant"] = rendered.experiment_variant
    return ServedBy(body, headers)


def _usage(response: pb.GenerateResponse) -> Usage:
    prompt, completion = response.usage.prompt_tokens, response.usage.completion_tokens
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


class _Choice:
    """One choice of a reply, assembled from its responses."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.calls = ToolCalls()
        self.tokens: list[pb.TokenLogprob] = []
        self.finish_reason = "stop"

    def add(self, response: pb.GenerateResponse) -> None:
        self.parts.append(response.text_delta)
        self.calls.add(response)
        self.tokens.extend(response.logprobs)
        if response.finish_reason:
            self.finish_reason = response.finish_reason

    def body(self, index: int, logprobs: bool) -> CompletionChoice:
        message: CompletionMessage = {"role": "assistant", "content": "".join(self.parts), "refusal": None}
        if self.calls:
            message["tool_calls"] = self.calls.whole()
            message["content"] = message["content"] or None  # OpenAI's null when the reply is only calls
        return {
            "index": index,
            "message": message,
            "logprobs": choice_logprobs(self.tokens) if logprobs else None,
            "finish_reason": self.finish_reason,
        }


async def collect_completion(
    first: pb.GenerateResponse,
    rest: AsyncIterator[pb.GenerateResponse],
    completion_id: str,
    model: str,
    served: Served | None = None,
    *,
    logprobs: bool = False,
) -> bytes:
    """The whole `chat.completion` object, once generation finished; `served` is an assistant's.
    Each of the n choices is assembled from the responses with its index; `logprobs` fills their
    `logprobs` objects."""
    choices: dict[int, _Choice] = {}
    last = first
    choices.setdefault(first.index, _Choice()).add(first)
    async for response in rest:
        choices.setdefault(response.index, _Choice()).add(response)
        last = response
    completion: ChatCompletion = {
        "id": completion_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [choice.body(index, logprobs) for index, choice in sorted(choices.items())],
        "usage": _usage(last),
        "system_fingerprint": None,
    }
    if served is not None:
        completion["tuneway"] = served
    return orjson.dumps(completion)


class ChunkWriter:
    """Formats `chat.completion.chunk` events that share one id, model and creation time."""

    def __init__(
        self,
        completion_id: str,
        model: str,
        include_usage: bool,
        served: Served | None = None,
        *,
        n: int = 1,
        logprobs: bool = False,
    ) -> None:
        # The choices streamed (each gets its role chunk first), and whether content chunks carry
        # their tokens' log probabilities.
        self.n = n
        self.logprobs = logprobs
        self._prefix = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
        }
        self._include_usage = include_usage
        # Which assistant, prompt version and experiment served the request rides on the first chunk only.
        self._served = served

    def chunk(
        self,
        delta: dict[str, Any],
        finish_reason: str | None = None,
        *,
        index: int = 0,
        logprobs: ChoiceLogprobs | None = None,
    ) -> bytes:
        """One SSE event with one choice, the choice at `index`."""
        body: dict[str, Any] = {
            **self._prefix,
            "system_fingerprint": None,
            "choices": [
                {"index": index, "delta": delta, "logprobs": logprobs, "finish_reason": finish_reason}
            ],
        }
        if self._include_usage:
            body["usage"] = None
        if self._served is not None:
            body["tuneway"] = self._served
            self._served = None
        return b"data: " + orjson.dumps(body) + b"\n\n"

    def usage(self, last: pb.GenerateResponse) -> bytes:
        """The closing event of stream_options.include_usage: no choices, the usage."""
        body = {**self._prefix, "system_fingerprint": None, "choices": [], "usage": _usage(last)}
        return b"data: " + orjson.dumps(body) + b"\n\n"


async def stream_completion(
    first: pb.GenerateResponse,
    rest: AsyncGenerator[pb.GenerateResponse, None],
    writer: ChunkWriter,
    include_usage: bool,
) -> AsyncIterator[bytes]:
    """SSE events: each choice's role, content deltas and finish reason (tagged with the choice's
    index), usage if asked, then [DONE]."""
    for index in range(writer.n):
        yield writer.chunk({"role": "assistant", "content": "", "refusal": None}, index=index)

    def events_of(response: pb.GenerateResponse) -> Iterator[bytes]:
        index = response.index
        if response.text_delta or (writer.logprobs and response.logprobs):
            yield writer.chunk(
                {"content": response.text_delta},
                index=index,
                logprobs=choice_logprobs(response.logprobs) if writer.logprobs else None,
            )
        # One call part per chunk, as OpenAI streams them.
        for call in response.tool_calls:
            yield writer.chunk({"tool_calls": [chunk_tool_call(call)]}, index=index)
        if response.finish_reason:
            yield writer.chunk({}, response.finish_reason, index=index)

    # aclosing: a client that goes away closes this generator, and with it the relay's call at once.
    usage_event = writer.usage if include_usage else None
    async with aclosing(relay_generation(first, rest, events_of, usage_event)) as events:
        async for event in events:
            yield event
