"""The write step of a text completion: generated deltas -> OpenAI's `text_completion` object, or its
streamed `text_completion` chunks, with the legacy API's logprobs (tokens, token_logprobs, top_logprobs,
text_offset)."""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Iterator
from contextlib import aclosing
from typing import Any, Literal, NotRequired

import orjson
from typing_extensions import TypedDict

from tuneway.api.inference.v1 import inference_pb2 as pb
from tuneway.gateway.chat.responses import Usage
from tuneway.gateway.streaming import relay_generation


class CompletionLogprobs(TypedDict):
    """Per token of the choice's text: the token, its log probability (null for an echoed prompt's first
    token), the most likely tokens at its position with the chosen one (token -> log probability), and
    its offset in the text."""

    tokens: list[str]
    token_logprobs: list[float | None]
    top_logprobs: list[dict[str, float] | None]
    text_offset: list[int]


class CompletionChoice(TypedDict):
    text: str
    index: int
    # With `logprobs` (0 to 5): the log probabilities of the text's tokens; else null.
    logprobs: CompletionLogprobs | None
    # stop | length; null in a stream's chunks until the choice's last.
    finish_reason: str | None


class TextCompletion(TypedDict):
    """OpenAI's `text_completion`; as a stream's chunk it holds the choices' text deltas, and with
    `stream_options.include_usage` a last chunk without choices carries the usage (null before it)."""

    id: str
    object: Literal["text_completion"]
    created: int
    model: str
    system_fingerprint: None
    choices: list[CompletionChoice]
    usage: NotRequired[Usage | None]


def _usage(response: pb.GenerateResponse) -> Usage:
    prompt, completion = response.usage.prompt_tokens, response.usage.completion_tokens
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


class _Logprobs:
    """A choice's logprobs object, built as its tokens arrive; offsets count from `offset`."""

    def __init__(self, offset: int = 0) -> None:
        self.offset = offset
        self.body: CompletionLogprobs = {
            "tokens": [],
            "token_logprobs": [],
            "top_logprobs": [],
            "text_offset": [],
        }

    def add(self, tokens: Iterable[pb.TokenLogprob]) -> CompletionLogprobs:
        """Appends `tokens`; returns the object of just these tokens (a stream chunk's)."""
        part: CompletionLogprobs = {"tokens": [], "token_logprobs": [], "top_logprobs": [], "text_offset": []}
        for token in tokens:
            part["tokens"].append(token.token)
            part["text_offset"].append(self.offset)
            self.offset += len(token.token)
            if token.HasField("logprob"):
                top = {alternative.token: alternative.logprob for alternative in token.top}
                # OpenAI always reports the chosen token among them, so there may be logprobs + 1.
                top.setdefault(token.token, token.logprob)
                part["token_logprobs"].append(token.logprob)
                part["top_logprobs"].append(top)
            else:  # an echoed prompt's first token: nothing precedes it
                part["token_logprobs"].append(None)
                part["top_logprobs"].append(None)
        for key in part:
            self.body[key].extend(part[key])  # type: ignore[literal-required]
        return part


class _Choice:
    def __init__(self) -> None:
        self.text: list[str] = []
        self.logprobs = _Logprobs()
        self.finish_reason = "stop"


def _echo_of(prompts: dict[int, pb.PromptEcho], response: pb.GenerateResponse, n: int) -> None:
    if response.HasField("prompt"):
        prompts[response.index // n] = response.prompt


async def collect_completion(
    first: pb.GenerateResponse,
    rest: AsyncIterator[pb.GenerateResponse],
    completion_id: str,
    model: str,
    *,
    n: int,
    logprobs: bool,
) -> bytes:
    """The whole `text_completion` object, once every choice finished. Choice c is the c % n-th choice
    of prompt c // n; an echoed prompt opens each of its choices' text (and logprobs)."""
    choices: dict[int, _Choice] = {}
    prompts: dict[int, pb.PromptEcho] = {}
    last = first
    responses = [first]
    async for response in rest:
        responses.append(response)
        last = response
    for response in responses:
        _echo_of(prompts, response, n)
    for response in responses:
        if response.index not in choices:
            choice = choices[response.index] = _Choice()
            echo = prompts.get(response.index // n)
            if echo is not None:
                choice.text.append(echo.text)
                choice.logprobs.add(echo.tokens)
                choice.logprobs.offset = len(echo.text)
        choice = choices[response.index]
        choice.text.append(response.text_delta)
        choice.logprobs.add(response.logprobs)
        if response.finish_reason:
            choice.finish_reason = response.finish_reason
    completion: TextCompletion = {
        "id": completion_id,
        "object": "text_completion",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": None,
        "choices": [
            {
                "text": "".join(choice.text),
                "index": index,
                "logprobs": choice.logprobs.body if logprobs else None,
                "finish_reason": choice.finish_reason,
            }
            for index, choice in sorted(choices.items())
        ],
        "usage": _usage(last),
    }
    return orjson.dumps(completion)


class ChunkWriter:
    """Formats the `text_completion` chunks of one stream: one id, model and creation time."""

    def __init__(
        self, completion_id: str, model: str, *, n: int, logprobs: bool, include_usage: bool
    ) -> None:
        self.n = n
        self._logprobs = logprobs
        self._include_usage = include_usage
        self._prefix = {
            "id": completion_id,
            "object": "text_completion",
            "created": int(time.time()),
            "model": model,
            "system_fingerprint": None,
        }
        self._offsets: dict[int, _Logprobs] = {}

    def chunk(
        self, index: int, text: str, tokens: Iterable[pb.TokenLogprob] = (), finish_reason: str | None = None
    ) -> bytes:
        """One SSE event: the choice at `index` continues with `text` (and its tokens)."""
        logprobs = self._offsets.setdefault(index, _Logprobs()).add(tokens) if self._logprobs else None
        choice = {"text": text, "index": index, "logprobs": logprobs, "finish_reason": finish_reason}
        body: dict[str, Any] = {**self._prefix, "choices": [choice]}
        if self._include_usage:
            body["usage"] = None
        return b"data: " + orjson.dumps(body) + b"\n\n"

    def usage(self, last: pb.GenerateResponse) -> bytes:
        """The closing event of stream_options.include_usage: no choices, the usage."""
        body = {**self._prefix, "choices": [], "usage": _usage(last)}
        return b"data: " + orjson.dumps(body) + b"\n\n"


async def stream_completion(
    first: pb.GenerateResponse,
    rest: AsyncGenerator[pb.GenerateResponse, None],
    writer: ChunkWriter,
    include_usage: bool,
) -> AsyncIterator[bytes]:
    """SSE events: each choice's echoed prompt (when asked), text deltas and finish reason, usage if
    asked, then [DONE]."""

    def events_of(response: pb.GenerateResponse) -> Iterator[bytes]:
        if response.HasField("prompt"):
            # Every choice of the prompt opens with it.
            start = (response.index // writer.n) * writer.n
            for index in range(start, start + writer.n):
                yield writer.chunk(index, response.prompt.text, response.prompt.tokens)
        if response.text_delta or response.logprobs or response.finish_reason:
            yield writer.chunk(
                response.index, response.text_delta, response.logprobs, response.finish_reason or None
            )

    # aclosing: a client that goes away closes this generator, and with it the relay's call at once.
    usage_event = writer.usage if include_usage else None
    async with aclosing(relay_generation(first, rest, events_of, usage_event)) as events:
        async for event in events:
            yield event
