"""Chat completion mapping and the OpenAI chunk format, without a network."""

from __future__ import annotations

from collections.abc import AsyncIterator

import orjson

from tuneway.api.inference.v1 import inference_pb2 as pb
from tuneway.core.errors import UnavailableError
from tuneway.gateway.chat.generation import generate_request
from tuneway.gateway.chat.responses import (
    ChunkWriter,
    collect_completion,
    stream_completion,
)
from tuneway.gateway.chat.schemas import ChatCompletionRequest


def _request(**fields: object) -> ChatCompletionRequest:
    return ChatCompletionRequest.model_validate(
        {
            "model": "m",
            "messages": [
                {"role": "developer", "content": [{"type": "text", "text": "Be kind."}]},
                {"role": "user", "content": "hi"},
            ],
            **fields,
        }
    )


def test_request_maps_every_sampling_field() -> None:
    body = _request(
        temperature=0,
        top_p=0.5,
        max_completion_tokens=7,
        stop="END",
        seed=3,
        ignore_eos=True,
        response_format={"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}},
    )
    request = generate_request(body, "acme", "chatcmpl-1")
    assert (request.tenant_id, request.model, request.request_id) == ("acme", "m", "chatcmpl-1")
    assert [(m.role, m.content) for m in request.messages] == [("system", "Be kind."), ("user", "hi")]
    p = request.params
    assert p.HasField("temperature") and p.temperature == 0
    assert (p.top_p, p.max_tokens, list(p.stop), p.seed, p.ignore_eos) == (0.5, 7, ["END"], 3, True)
    assert request.response_format.type == "json_schema"
    assert orjson.loads(request.response_format.json_schema) == {"type": "object"}


def test_unset_fields_stay_unset() -> None:
    p = generate_request(_request(), "acme", "id").params
    assert not p.HasField("temperature") and not p.HasField("max_tokens") and not p.HasField("seed")


async def _responses(*items: pb.GenerateResponse, fail: bool = False) -> AsyncIterator[pb.GenerateResponse]:
    for item in items:
        yield item
    if fail:
        raise UnavailableError("engine went away", code="service_unavailable")


async def test_collect_joins_deltas_and_reports_usage() -> None:
    last = pb.GenerateResponse(
        text_delta="!", finish_reason="length", usage=pb.Usage(prompt_tokens=4, completion_tokens=2)
    )
    body = orjson.loads(
        await collect_completion(pb.GenerateResponse(text_delta="Hi"), _responses(last), "c1", "m")
    )
    assert body["choices"][0]["message"] == {"role": "assistant", "content": "Hi!", "refusal": None}
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["usage"] == {"prompt_tokens": 4, "completion_tokens": 2, "total_tokens": 6}


async def test_stream_events_in_openai_order() -> None:
    last = pb.GenerateResponse(
        text_delta="b", finish_reason="stop", usage=pb.Usage(prompt_tokens=3, completion_tokens=2)
    )
    writer = ChunkWriter("c1", "m", include_usage=True)
    events = [
        e
        async for e in stream_completion(pb.GenerateResponse(text_delta="a"), _responses(last), writer, True)
    ]
    assert events[-1] == b"data: [DONE]\n\n"
    chunks = [orjson.loads(e.removeprefix(b"data: ")) for e in events[:-1]]
    assert [c["choices"][0]["delta"] if c["choices"] else None for c in chunks] == [
        {"role": "assistant", "content": "", "refusal": None},
        {"content": "a"},
        {"content": "b"},
        {},
        None,
    ]
    assert chunks[3]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["usage"] == {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
    assert all(c["usage"] is None for c in chunks[:-1])


async def test_stream_error_midway_becomes_an_error_event() -> None:
    writer = ChunkWriter("c1", "m", include_usage=False)
    events = [
        e
        async for e in stream_completion(
            pb.GenerateResponse(text_delta="a"), _responses(fail=True), writer, False
        )
    ]
    error = orjson.loads(events[-1].removeprefix(b"data: "))
    assert error["error"]["code"] == "service_unavailable"
    assert b"[DONE]" not in b"".join(events)
