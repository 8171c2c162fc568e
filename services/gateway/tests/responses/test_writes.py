"""A generation written as the Responses API answers: the `response` object and the stream of events, in
OpenAI's order and shapes (each checked against the OpenAI SDK's own types). The generation's responses
are written here as inference sends them; the engine's own are in tests/test_responses_e2e.py."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import orjson
import pytest
from openai.types.responses import Response, ResponseStreamEvent
from pydantic import TypeAdapter

from tuneway.api.inference.v1 import inference_pb2 as pb
from tuneway.core.errors import UnavailableError
from tuneway.gateway.responses.events import stream_response
from tuneway.gateway.responses.objects import ResponseShell, collect_response
from tuneway.gateway.responses.schemas import ResponseRequest

EVENTS = TypeAdapter(ResponseStreamEvent)
USAGE = pb.Usage(prompt_tokens=7, completion_tokens=5)
BODY = ResponseRequest.model_validate(
    {
        "model": "tuneway-tiny",
        "input": "Weather?",
        "instructions": "Be brief.",
        "tools": [{"type": "function", "name": "get_weather", "parameters": {"type": "object"}}],
        "metadata": {"conversation_id": "c1"},
        "max_output_tokens": 64,
    }
)
TEXT = [
    pb.GenerateResponse(text_delta="Hel"),
    pb.GenerateResponse(text_delta="lo", finish_reason="stop", usage=USAGE),
]
# Text, then a call whose arguments arrive in parts (the first part carries its id and name).
TEXT_AND_CALL = [
    pb.GenerateResponse(text_delta="Let me see."),
    pb.GenerateResponse(tool_calls=[pb.ToolCallDelta(index=0, id="call_1", name="get_weather")]),
    pb.GenerateResponse(tool_calls=[pb.ToolCallDelta(index=0, arguments='{"city":')]),
    pb.GenerateResponse(tool_calls=[pb.ToolCallDelta(index=0, arguments='"Rome"}')]),
    pb.GenerateResponse(
        tool_calls=[pb.ToolCallDelta(index=1, id="call_2", name="get_weather", arguments="{}")],
        finish_reason="tool_calls",
        usage=USAGE,
    ),
]
CUT_OFF = [
    pb.GenerateResponse(text_delta="abc"),
    pb.GenerateResponse(text_delta="d", finish_reason="length", usage=USAGE),
]


async def _generation(
    responses: list[pb.GenerateResponse], fail: bool = False
) -> AsyncGenerator[pb.GenerateResponse, None]:
    for response in responses:
        yield response
    if fail:
        raise UnavailableError("The inference service is unavailable.")


async def _collect(responses: list[pb.GenerateResponse]) -> Response:
    shell = ResponseShell("resp_1", BODY, None)
    data = await collect_response(responses[0], _generation(responses[1:]), shell)
    return Response.model_validate(orjson.loads(data))


async def _stream(responses: list[pb.GenerateResponse], fail: bool = False) -> list[dict[str, Any]]:
    shell = ResponseShell("resp_1", BODY, None)
    events = []
    async for chunk in stream_response(responses[0], _generation(responses[1:], fail), shell):
        head, data, blank = chunk.decode().split("\n", 2)
        event = orjson.loads(data.removeprefix("data: "))
        assert head == f"event: {event['type']}" and data.startswith("data: ") and blank == "\n"
        EVENTS.validate_python(event)  # OpenAI's shape of that event type
        events.append(event)
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    return events


async def test_a_reply_is_a_completed_response_with_one_message() -> None:
    response = await _collect(TEXT)
    assert (response.object, response.status, response.output_text) == ("response", "completed", "Hello")
    [message] = response.output
    assert message.type == "message" and message.status == "completed" and message.id.startswith("msg_")
    assert response.usage is not None
    assert (response.usage.input_tokens, response.usage.output_tokens, response.usage.total_tokens) == (
        7,
        5,
        12,
    )
    # The request's settings echoed, as OpenAI does.
    assert (response.instructions, response.max_output_tokens, response.metadata) == (
        "Be brief.",
        64,
        {"conversation_id": "c1"},
    )
    assert [t.name for t in response.tools] == ["get_weather"] and response.tool_choice == "auto"  # type: ignore[union-attr]
    assert response.parallel_tool_calls and response.incomplete_details is None


async def test_calls_follow_the_message_as_function_call_items() -> None:
    response = await _collect(TEXT_AND_CALL)
    message, first, second = response.output
    assert message.type == "message" and response.output_text == "Let me see."
    assert first.type == "function_call" and second.type == "function_call"
    assert (first.call_id, first.name, first.arguments, first.status) == (
        "call_1",
        "get_weather",
        '{"city":"Rome"}',
        "completed",
    )
    assert (second.call_id, second.arguments) == ("call_2", "{}")
    assert first.id and first.id.startswith("fc_") and first.id != second.id


async def test_a_reply_of_calls_only_has_no_message() -> None:
    response = await _collect(TEXT_AND_CALL[1:])
    assert [item.type for item in response.output] == ["function_call", "function_call"]
    assert response.output_text == ""


async def test_a_reply_cut_off_by_max_output_tokens_is_incomplete() -> None:
    response = await _collect(CUT_OFF)
    assert response.status == "incomplete" and response.incomplete_details is not None
    assert response.incomplete_details.reason == "max_output_tokens"
    assert response.output[0].status == "incomplete" and response.output_text == "abcd"


async def test_a_streamed_reply_goes_through_openais_events_in_order() -> None:
    events = await _stream(TEXT)
    assert [e["type"] for e in events] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    created, final = events[0]["response"], events[-1]["response"]
    assert (created["status"], created["output"], created["usage"]) == ("in_progress", [], None)
    assert final["id"] == created["id"] == "resp_1" and final["status"] == "completed"
    deltas = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
    assert deltas == events[6]["text"] == Response.model_validate(final).output_text == "Hello"
    item_id = events[2]["item"]["id"]
    assert {e["item_id"] for e in events[3:8]} == {item_id} and events[8]["item"]["id"] == item_id
    assert final["usage"]["output_tokens"] == 5


async def test_streamed_calls_are_items_of_their_own_with_argument_deltas() -> None:
    events = await _stream(TEXT_AND_CALL)
    kinds = [(e["type"], e.get("output_index")) for e in events]
    assert kinds == [
        ("response.created", None),
        ("response.in_progress", None),
        ("response.output_item.added", 0),
        ("response.content_part.added", 0),
        ("response.output_text.delta", 0),
        ("response.output_text.done", 0),
        ("response.content_part.done", 0),
        ("response.output_item.done", 0),
        ("response.output_item.added", 1),
        ("response.function_call_arguments.delta", 1),
        ("response.function_call_arguments.delta", 1),
        ("response.function_call_arguments.done", 1),
        ("response.output_item.done", 1),
        ("response.output_item.added", 2),
        ("response.function_call_arguments.delta", 2),
        ("response.function_call_arguments.done", 2),
        ("response.output_item.done", 2),
        ("response.completed", None),
    ]
    added = events[8]["item"]
    assert (added["type"], added["call_id"], added["name"], added["arguments"], added["status"]) == (
        "function_call",
        "call_1",
        "get_weather",
        "",
        "in_progress",
    )
    assert events[11]["arguments"] == '{"city":"Rome"}' and events[11]["name"] == "get_weather"
    final = Response.model_validate(events[-1]["response"])
    assert [item.type for item in final.output] == ["message", "function_call", "function_call"]
    assert [item.id for item in final.output] == [events[i]["item"]["id"] for i in (2, 8, 13)]


async def test_a_streamed_reply_cut_off_ends_with_response_incomplete() -> None:
    events = await _stream(CUT_OFF)
    assert events[-1]["type"] == "response.incomplete"
    assert events[-2]["item"]["status"] == "incomplete"
    assert events[-1]["response"]["incomplete_details"] == {"reason": "max_output_tokens"}


async def test_an_empty_reply_streams_an_empty_message_as_json_has() -> None:
    empty = [pb.GenerateResponse(finish_reason="stop", usage=USAGE)]
    events = await _stream(empty)
    assert [e["type"] for e in events][2:] == [
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert Response.model_validate(events[-1]["response"]).output_text == ""
    assert (await _collect(empty)).output_text == ""


async def test_a_failure_after_the_stream_began_is_an_error_event_then_response_failed() -> None:
    events = await _stream(TEXT[:1], fail=True)
    assert [e["type"] for e in events][-2:] == ["error", "response.failed"]
    error, failed = events[-2], events[-1]["response"]
    assert (error["code"], error["message"]) == (None, "The inference service is unavailable.")
    assert failed["status"] == "failed" and failed["error"]["code"] == "server_error"


@pytest.mark.parametrize("stream", [False, True])
async def test_an_assistants_response_carries_what_served_it(stream: bool) -> None:
    served: Any = {"assistant": "support", "prompt": "p", "prompt_version": 2, "model": "tuneway-tiny"}
    shell = ResponseShell("resp_1", BODY, served)
    if not stream:
        body = orjson.loads(await collect_response(TEXT[0], _generation(TEXT[1:]), shell))
    else:
        *_, last = [chunk async for chunk in stream_response(TEXT[0], _generation(TEXT[1:]), shell)]
        body = orjson.loads(last.decode().split("\n")[1].removeprefix("data: "))["response"]
    assert body["tuneway"] == served
