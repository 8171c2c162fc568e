"""Tool calling in the gateway: the request's tools and history on the wire to inference, and the
generated call parts as OpenAI's `message.tool_calls` or its streamed `delta.tool_calls`."""

from __future__ import annotations

from collections.abc import AsyncIterator

import orjson

from tuneway.api.inference.v1 import inference_pb2 as pb
from tuneway.gateway.chat.generation import generate_request
from tuneway.gateway.chat.responses import ChunkWriter, collect_completion, stream_completion
from tuneway.gateway.chat.schemas import ChatCompletionRequest

PARAMETERS = {"type": "object", "properties": {"city": {"type": "string"}}}
TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters": PARAMETERS}}]
CALL = {
    "id": "call_9",
    "type": "function",
    "function": {"name": "get_weather", "arguments": '{"city":"Rome"}'},
}


def _body(**fields: object) -> ChatCompletionRequest:
    return ChatCompletionRequest.model_validate(
        {"model": "m", "messages": [{"role": "user", "content": "Weather?"}], "tools": TOOLS, **fields}
    )


def test_tools_choice_and_history_reach_inference() -> None:
    body = _body(
        messages=[
            {"role": "user", "content": "Weather?"},
            {"role": "assistant", "content": None, "tool_calls": [CALL]},
            {"role": "tool", "tool_call_id": "call_9", "content": "sunny"},
        ],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
        parallel_tool_calls=False,
        stream=True,
    )
    request = generate_request(body, "acme", "chatcmpl-1")
    assert [(t.name, orjson.loads(t.parameters)) for t in request.tools] == [("get_weather", PARAMETERS)]
    assert (request.tool_choice.mode, request.tool_choice.function_name) == ("function", "get_weather")
    assert request.HasField("parallel_tool_calls") and not request.parallel_tool_calls and request.stream
    assistant, tool = request.messages[1], request.messages[2]
    assert assistant.content == "" and [(c.id, c.name, c.arguments) for c in assistant.tool_calls] == [
        ("call_9", "get_weather", '{"city":"Rome"}')
    ]
    assert (tool.role, tool.tool_call_id, tool.content) == ("tool", "call_9", "sunny")


def test_a_strict_function_stays_strict() -> None:
    strict = [{"type": "function", "function": {**TOOLS[0]["function"], "strict": True}}]  # type: ignore[dict-item]
    assert generate_request(_body(tools=strict), "acme", "id").tools[0].strict
    assert not generate_request(_body(), "acme", "id").tools[0].strict


def test_unset_choice_and_parallel_stay_unset() -> None:
    request = generate_request(_body(), "acme", "id")
    assert request.tool_choice.mode == "" and not request.HasField("parallel_tool_calls")
    assert generate_request(_body(tool_choice="required"), "acme", "id").tool_choice.mode == "required"


def _parts() -> list[pb.GenerateResponse]:
    return [
        pb.GenerateResponse(tool_calls=[pb.ToolCallDelta(index=0, id="call_1", name="get_weather")]),
        pb.GenerateResponse(tool_calls=[pb.ToolCallDelta(index=0, arguments='{"city":')]),
        pb.GenerateResponse(
            tool_calls=[
                pb.ToolCallDelta(index=0, arguments='"Rome"}'),
                pb.ToolCallDelta(index=1, id="call_2", name="get_weather"),
                pb.ToolCallDelta(index=1, arguments="{}"),
            ],
            finish_reason="tool_calls",
            usage=pb.Usage(prompt_tokens=9, completion_tokens=5),
        ),
    ]


async def _rest(items: list[pb.GenerateResponse]) -> AsyncIterator[pb.GenerateResponse]:
    for item in items:
        yield item


async def test_a_reply_of_calls_has_null_content_and_whole_calls() -> None:
    first, *rest = _parts()
    body = orjson.loads(await collect_completion(first, _rest(rest), "c1", "m"))
    choice = body["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"] == {
        "role": "assistant",
        "content": None,
        "refusal": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city":"Rome"}'},
            },
            {"id": "call_2", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}},
        ],
    }


async def test_a_reply_without_calls_has_no_tool_calls_field() -> None:
    last = pb.GenerateResponse(text_delta="Hi", finish_reason="stop")
    body = orjson.loads(await collect_completion(last, _rest([]), "c1", "m"))
    assert body["choices"][0]["message"] == {"role": "assistant", "content": "Hi", "refusal": None}


async def test_streamed_call_parts_are_one_per_chunk_in_openais_shape() -> None:
    first, *rest = _parts()
    writer = ChunkWriter("c1", "m", include_usage=False)
    events = [e async for e in stream_completion(first, _rest(rest), writer, False)]
    deltas = [orjson.loads(e.removeprefix(b"data: "))["choices"][0] for e in events[:-1]]
    assert [d["delta"] for d in deltas[1:-1]] == [
        {
            "tool_calls": [
                {
                    "index": 0,
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": ""},
                }
            ]
        },
        {"tool_calls": [{"index": 0, "function": {"arguments": '{"city":'}}]},
        {"tool_calls": [{"index": 0, "function": {"arguments": '"Rome"}'}}]},
        {
            "tool_calls": [
                {
                    "index": 1,
                    "id": "call_2",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": ""},
                }
            ]
        },
        {"tool_calls": [{"index": 1, "function": {"arguments": "{}"}}]},
    ]
    assert deltas[-1] == {"index": 0, "delta": {}, "logprobs": None, "finish_reason": "tool_calls"}
