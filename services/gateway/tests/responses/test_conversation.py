"""A Responses request becomes the chat request the pipeline serves, and so the inference request: the
instructions first, function calls on their assistant turn, their outputs as tool messages, and the
settings under their chat names."""

from __future__ import annotations

from typing import Any

import orjson

from tuneway.gateway.chat.generation import generate_request
from tuneway.gateway.responses.conversation import chat_request
from tuneway.gateway.responses.schemas import ResponseRequest

PARAMETERS = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
TOOL = {"type": "function", "name": "get_weather", "description": "Weather now", "parameters": PARAMETERS}


def _chat(**fields: Any) -> Any:
    return chat_request(ResponseRequest.model_validate({"model": "tuneway-tiny", "input": "hi", **fields}))


def test_a_string_input_is_one_user_message_after_the_instructions() -> None:
    chat = _chat(
        instructions="Be brief.", max_output_tokens=16, temperature=0.5, top_p=0.5, user="u1", ignore_eos=True
    )
    assert [(m.role, m.text()) for m in chat.messages] == [("system", "Be brief."), ("user", "hi")]
    request = generate_request(chat, "acme", "resp_1")
    assert (request.params.max_tokens, request.params.temperature, request.params.top_p) == (16, 0.5, 0.5)
    assert request.params.ignore_eos and chat.user == "u1"
    assert request.model == "tuneway-tiny" and not request.tools and not request.stream


def test_a_tool_round_trip_becomes_an_assistant_turn_with_calls_and_a_tool_message() -> None:
    chat = _chat(
        input=[
            {"role": "developer", "content": "Use the tools."},
            {
                "role": "user",
                "content": [{"type": "input_text", "text": "Weather "}, {"type": "input_text", "text": "?"}],
            },
            {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "Looking."}],
            },
            {
                "type": "function_call",
                "call_id": "call_1",
                "name": "get_weather",
                "arguments": '{"city":"Rome"}',
            },
            {
                "type": "function_call",
                "call_id": "call_2",
                "name": "get_weather",
                "arguments": '{"city":"Oslo"}',
            },
            {"type": "function_call_output", "call_id": "call_1", "output": "sunny"},
            {
                "type": "function_call_output",
                "call_id": "call_2",
                "output": [{"type": "input_text", "text": "snow"}],
            },
            {
                "type": "function_call",
                "call_id": "call_3",
                "name": "get_weather",
                "arguments": '{"city":"Bern"}',
            },
        ],
        tools=[TOOL],
    )
    request = generate_request(chat, "acme", "resp_1")
    turns = [
        (m.role, m.content, [(c.id, c.arguments) for c in m.tool_calls], m.tool_call_id)
        for m in request.messages
    ]
    assert turns == [
        ("system", "Use the tools.", [], ""),  # developer is the newer name of system
        ("user", "Weather ?", [], ""),
        ("assistant", "Looking.", [("call_1", '{"city":"Rome"}'), ("call_2", '{"city":"Oslo"}')], ""),
        ("tool", "sunny", [], "call_1"),
        ("tool", "snow", [], "call_2"),
        # A call with no message before it is an assistant turn of its own.
        ("assistant", "", [("call_3", '{"city":"Bern"}')], ""),
    ]


def test_function_tools_and_choices_reach_inference() -> None:
    request = generate_request(
        _chat(
            tools=[TOOL], tool_choice={"type": "function", "name": "get_weather"}, parallel_tool_calls=False
        ),
        "acme",
        "resp_1",
    )
    [tool] = request.tools
    assert (tool.name, tool.description, orjson.loads(tool.parameters), tool.strict) == (
        "get_weather",
        "Weather now",
        PARAMETERS,
        True,  # the Responses API's default, unlike chat's
    )
    assert (request.tool_choice.mode, request.tool_choice.function_name) == ("function", "get_weather")
    assert request.HasField("parallel_tool_calls") and not request.parallel_tool_calls
    loose = generate_request(_chat(tools=[{**TOOL, "strict": False}], tool_choice="required"), "acme", "r")
    assert not loose.tools[0].strict and loose.tool_choice.mode == "required"


def test_without_tools_a_choice_that_asks_for_none_is_dropped() -> None:
    request = generate_request(_chat(tool_choice="auto", parallel_tool_calls=True), "acme", "resp_1")
    assert request.tool_choice.mode == "" and not request.HasField("parallel_tool_calls")


def test_text_formats_are_the_chat_response_formats() -> None:
    schema = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}
    text_format = {"type": "json_schema", "name": "answer", "schema": schema, "strict": True}
    request = generate_request(_chat(text={"format": text_format}), "acme", "resp_1")
    assert request.response_format.type == "json_schema"
    assert orjson.loads(request.response_format.json_schema) == schema
    json_mode = generate_request(_chat(text={"format": {"type": "json_object"}}), "acme", "resp_1")
    assert json_mode.response_format.type == "json_object"
    assert (
        generate_request(_chat(text={"format": {"type": "text"}}), "acme", "r").response_format.type == "text"
    )


def test_metadata_user_and_variables_reach_the_assistant_path() -> None:
    chat = _chat(
        model="assistant:support", metadata={"language": "de"}, user="u1", variables={"product": "tuneway"}
    )
    assert (chat.model, chat.metadata, chat.user, chat.variables) == (
        "assistant:support",
        {"language": "de"},
        "u1",
        {"product": "tuneway"},
    )
