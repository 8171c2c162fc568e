"""Chat completions: request -> GenerateRequest, and generated deltas -> OpenAI responses and SSE chunks."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import orjson

from tuneway.api.inference.v1 import inference_pb2 as pb
from tuneway.core.errors import DomainError
from tuneway.gateway.chat.schemas import ChatCompletionRequest
from tuneway.gateway.errors import domain_error_response

DONE = b"data: [DONE]\n\n"


def new_completion_id() -> str:
    """An OpenAI-style completion id."""
    return f"chatcmpl-{uuid.uuid4().hex}"


def to_generate_request(body: ChatCompletionRequest, tenant_id: str, request_id: str) -> pb.GenerateRequest:
    """The inference request for a validated chat completion body."""
    params = pb.SamplingParams(stop=body.stop or (), ignore_eos=body.ignore_eos)
    if body.temperature is not None:
        params.temperature = body.temperature
    if body.top_p is not None:
        params.top_p = body.top_p
    max_tokens = body.max_completion_tokens or body.max_tokens
    if max_tokens is not None:
        params.max_tokens = max_tokens
    if body.seed is not None:
        params.seed = body.seed
    if body.presence_penalty is not None:
        params.presence_penalty = body.presence_penalty
    if body.frequency_penalty is not None:
        params.frequency_penalty = body.frequency_penalty
    fmt = pb.ResponseFormat(type="text")
    if body.response_format is not None:
        fmt.type = body.response_format.type
        if body.response_format.json_schema is not None:
            fmt.json_schema = orjson.dumps(body.response_format.json_schema.schema_).decode()
    return pb.GenerateRequest(
        tenant_id=tenant_id,
        request_id=request_id,
        model=body.model,
        messages=[
            # OpenAI's `developer` role is the newer name of `system`; templates know only the latter.
            pb.ChatMessage(
                role="system" if m.role == "developer" else m.role, content=m.text(), name=m.name or ""
            )
            for m in body.messages
        ],
        params=params,
        response_format=fmt,
    )


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
