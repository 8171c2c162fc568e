"""The write step of a chat completion: generated deltas -> OpenAI's `chat.completion`, or its
`chat.completion.chunk` events, and what served an assistant request (the `tuneway` object and headers)."""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from typing import Any

import orjson

from tuneway.api.inference.v1 import inference_pb2 as pb
from tuneway.api.prompt.v1 import prompt_pb2 as ppb
from tuneway.core.errors import DomainError
from tuneway.gateway.errors import domain_error_response
from tuneway.gateway.streaming import DONE


@dataclass(frozen=True)
class ServedBy:
    """What served an assistant request: the response's `tuneway` object and its headers."""

    body: dict[str, Any]
    headers: dict[str, str]


def served_by(rendered: ppb.RenderPromptResponse, knowledge: dict[str, Any]) -> ServedBy:
    """The assistant, prompt version, variant, experiment and model that served the request, and the
    knowledge it was given (`knowledge` from the retrieval step)."""
    body = {
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


def _usage(response: pb.GenerateResponse) -> dict[str, int]:
    prompt, completion = response.usage.prompt_tokens, response.usage.completion_tokens
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


async def collect_completion(
    first: pb.GenerateResponse,
    rest: AsyncIterator[pb.GenerateResponse],
    completion_id: str,
    model: str,
    extra: dict[str, Any] | None = None,
) -> bytes:
    """The whole `chat.completion` object, once generation finished; `extra` adds top-level fields."""
    parts, last = [first.text_delta], first
    async for response in rest:
        parts.append(response.text_delta)
        last = response
    return orjson.dumps(
        {
            "id": completion_id,
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "".join(parts), "refusal": None},
                    "logprobs": None,
                    "finish_reason": last.finish_reason or "stop",
                }
            ],
            "usage": _usage(last),
            "system_fingerprint": None,
            **(extra or {}),
        }
    )


class ChunkWriter:
    """Formats `chat.completion.chunk` events that share one id, model and creation time."""

    def __init__(
        self, completion_id: str, model: str, include_usage: bool, extra: dict[str, Any] | None = None
    ) -> None:
        self._prefix = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
        }
        self._include_usage = include_usage
        # Extra top-level fields (which assistant, prompt version and experiment served the request)
        # ride on the first chunk only.
        self._extra = extra

    def chunk(self, delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
        """One SSE event with one choice."""
        body: dict[str, Any] = {
            **self._prefix,
            "system_fingerprint": None,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
        }
        if self._include_usage:
            body["usage"] = None
        if self._extra:
            body.update(self._extra)
            self._extra = None
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
    """SSE events: the role, content deltas, the finish reason, usage if asked, then [DONE]."""
    yield writer.chunk({"role": "assistant", "content": "", "refusal": None})
    last = first
    try:
        response = first
        while True:
            if response.text_delta:
                yield writer.chunk({"content": response.text_delta})
            if response.finish_reason:
                last = response
                yield writer.chunk({}, response.finish_reason)
                break
            response = await anext(rest)
    except DomainError as error:
        # Headers are gone; OpenAI-compatible clients read an `error` event and stop.
        yield b"data: " + bytes(domain_error_response(error).body) + b"\n\n"
        return
    except StopAsyncIteration:
        pass
    finally:
        await rest.aclose()
    if include_usage:
        yield writer.usage(last)
    yield DONE
