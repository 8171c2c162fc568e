"""The Responses API through the stack with the OpenAI SDK and LangChain (issue 12 §3): text and message
input, instructions, the max_output_tokens cut-off, streamed events (raw and through the SDK's stream
helper), forced function calls valid for their schema, a function_call_output round trip, and the 400s
of what tuneway does not implement."""

from __future__ import annotations

import json
from typing import Any, Literal

import jsonschema
import openai
import pytest
from pydantic import BaseModel

from tests.conftest import RunningStack, Tenant

pytestmark = pytest.mark.e2e
BASE = "tuneway-tiny"
ASK = "Where is my parcel?"
INSTRUCTIONS = "You are terse."
WEATHER_PARAMETERS = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "enum": ["Paris", "Berlin", "Rome"]},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
    },
    "required": ["city", "unit"],
    "additionalProperties": False,
}
WEATHER: Any = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather now",
    "parameters": WEATHER_PARAMETERS,
}


def test_messages_with_instructions_answer_as_the_same_chat_does(stack: RunningStack, acme: Tenant) -> None:
    client = stack.client(acme.key)
    raw = client.responses.with_raw_response.create(
        model=BASE,
        instructions=INSTRUCTIONS,
        input=[{"role": "user", "content": [{"type": "input_text", "text": ASK}]}],
        temperature=0,
        max_output_tokens=16,
        metadata={"conversation_id": "c-1"},
    )
    response = raw.parse()
    assert response.id.startswith("resp_") and raw.headers["x-request-id"] == response.id
    assert (response.object, response.model, response.instructions) == ("response", BASE, INSTRUCTIONS)
    assert response.metadata == {"conversation_id": "c-1"} and response.max_output_tokens == 16
    [message] = response.output
    assert message.type == "message" and message.role == "assistant" and message.id.startswith("msg_")
    assert response.usage is not None and 1 <= response.usage.output_tokens <= 16
    assert response.usage.total_tokens == response.usage.input_tokens + response.usage.output_tokens
    # The instructions are a system message before the input: the same conversation through chat
    # completions gets the same greedy reply and counts the same prompt.
    chat = client.chat.completions.create(
        model=BASE,
        messages=[{"role": "system", "content": INSTRUCTIONS}, {"role": "user", "content": ASK}],
        temperature=0,
        max_tokens=16,
    )
    assert response.output_text == chat.choices[0].message.content
    assert chat.usage is not None and response.usage.input_tokens == chat.usage.prompt_tokens
    cut_off = chat.choices[0].finish_reason == "length"
    assert response.status == ("incomplete" if cut_off else "completed")


def test_max_output_tokens_cuts_a_text_input_off_as_incomplete(stack: RunningStack, acme: Tenant) -> None:
    response = stack.client(acme.key).responses.create(
        model=BASE, input=ASK, max_output_tokens=16, extra_body={"ignore_eos": True}
    )
    assert response.status == "incomplete"
    assert (
        response.incomplete_details is not None and response.incomplete_details.reason == "max_output_tokens"
    )
    assert response.usage is not None and response.usage.output_tokens == 16
    assert response.output[0].status == "incomplete" and response.output_text


def test_streamed_text_deltas_make_the_final_output_text(stack: RunningStack, acme: Tenant) -> None:
    client = stack.client(acme.key)
    events = list(
        client.responses.create(
            model=BASE, input=ASK, instructions=INSTRUCTIONS, temperature=0, max_output_tokens=16, stream=True
        )
    )
    types = [event.type for event in events]
    assert types[:4] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ]
    assert types[-4:-1] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
    ]
    assert types[-1] in ("response.completed", "response.incomplete")
    assert [event.sequence_number for event in events] == list(range(len(events)))
    final = events[-1].response  # type: ignore[union-attr]
    deltas = "".join(event.delta for event in events if event.type == "response.output_text.delta")
    assert deltas == final.output_text and final.id == events[0].response.id  # type: ignore[union-attr]
    assert final.usage is not None and final.usage.output_tokens >= 1
    # Streaming changes nothing in what is generated.
    whole = client.responses.create(
        model=BASE, input=ASK, instructions=INSTRUCTIONS, temperature=0, max_output_tokens=16
    )
    assert whole.output_text == deltas


def test_a_forced_function_call_streams_through_the_sdks_helper(stack: RunningStack, acme: Tenant) -> None:
    client = stack.client(acme.key)
    with client.responses.stream(
        model=BASE,
        input="What is the weather in Paris?",
        tools=[WEATHER],
        tool_choice={"type": "function", "name": "get_weather"},
        max_output_tokens=128,
    ) as stream:
        deltas = [event.delta for event in stream if event.type == "response.function_call_arguments.delta"]
        response = stream.get_final_response()
    [call] = response.output
    assert call.type == "function_call" and call.name == "get_weather" and call.status == "completed"
    assert call.call_id.startswith("call_") and call.id is not None and call.id.startswith("fc_")
    jsonschema.validate(json.loads(call.arguments), WEATHER_PARAMETERS)
    assert "".join(deltas) == call.arguments


def test_required_calls_a_function_and_its_output_comes_back(stack: RunningStack, acme: Tenant) -> None:
    client = stack.client(acme.key)
    question: Any = [{"role": "user", "content": "What is the weather in Rome?"}]
    first = client.responses.create(
        model=BASE,
        input=question,
        tools=[WEATHER],
        tool_choice="required",
        parallel_tool_calls=False,
        max_output_tokens=128,
    )
    assert first.status == "completed" and first.tool_choice == "required"
    [call] = first.output
    assert call.type == "function_call" and call.name == "get_weather"
    arguments = json.loads(call.arguments)
    jsonschema.validate(arguments, WEATHER_PARAMETERS)
    # The agent loop: the call as it came back, then its output.
    result = {"type": "function_call_output", "call_id": call.call_id, "output": "18 degrees, sunny"}
    second = client.responses.create(
        model=BASE,
        input=[*question, call.model_dump(exclude_none=True), result],
        tools=[WEATHER],
        tool_choice="none",
        max_output_tokens=16,
        temperature=0,
    )
    assert second.output[0].type == "message" and second.status in ("completed", "incomplete")
    # The call and its result are in the prompt now.
    assert first.usage is not None and second.usage is not None
    assert second.usage.input_tokens > first.usage.input_tokens


class City(BaseModel):
    """Where to look the weather up."""

    city: Literal["Paris", "Berlin", "Rome"]
    unit: Literal["celsius", "fahrenheit"]


def test_a_json_schema_text_format_is_followed_and_parsed_by_the_sdk(
    stack: RunningStack, acme: Tenant
) -> None:
    response = stack.client(acme.key).responses.parse(
        model=BASE, input="Pick a city.", text_format=City, max_output_tokens=128
    )
    assert response.status == "completed" and isinstance(response.output_parsed, City)
    assert response.text.format.type == "json_schema"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("fields", "param", "code"),
    [
        ({"previous_response_id": "resp_123"}, "previous_response_id", "unsupported_parameter"),
        ({"tools": [{"type": "web_search"}]}, "tools[0].type", "unsupported_parameter"),
        ({"reasoning": {"effort": "low"}}, "reasoning", "unsupported_parameter"),
        ({"extra_body": {"seed": 1}}, "seed", "unknown_parameter"),
    ],
)
def test_what_tuneway_does_not_implement_is_a_400_naming_it(
    stack: RunningStack, acme: Tenant, fields: dict[str, Any], param: str, code: str
) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        stack.client(acme.key).responses.create(model=BASE, input=ASK, **fields)
    error: Any = raised.value.body
    assert (error["param"], error["code"], error["type"]) == (param, code, "invalid_request_error")


def test_langchain_uses_the_responses_api(stack: RunningStack, acme: Tenant) -> None:
    langchain_openai = pytest.importorskip("langchain_openai")
    from langchain_core.messages import AIMessageChunk, HumanMessage, ToolMessage

    def llm(max_tokens: int) -> Any:
        return langchain_openai.ChatOpenAI(
            model=BASE,
            base_url=f"{stack.gateway_url}/v1",
            api_key=acme.key,
            use_responses_api=True,
            max_retries=0,
            max_tokens=max_tokens,
        )

    # LangChain takes the chat shape of a tool and sends the Responses one.
    tool = {"type": "function", "function": {k: v for k, v in WEATHER.items() if k != "type"}}
    message = llm(128).bind_tools([tool], tool_choice="get_weather").invoke("What is the weather in Berlin?")
    [call] = message.tool_calls
    assert call["name"] == "get_weather" and call["id"] is not None and call["id"].startswith("call_")
    jsonschema.validate(call["args"], WEATHER_PARAMETERS)
    # The tool's result goes back as LangChain sends it: the reply's function_call item, then its output.
    answer = (
        llm(16)
        .bind_tools([tool], tool_choice="none")
        .invoke(
            [
                HumanMessage("What is the weather in Berlin?"),
                message,
                ToolMessage("12 degrees, cloudy", tool_call_id=call["id"]),
            ]
        )
    )
    assert answer.usage_metadata is not None and message.usage_metadata is not None
    assert answer.usage_metadata["input_tokens"] > message.usage_metadata["input_tokens"]
    chunks = list(llm(16).stream(ASK))
    whole: Any = sum(chunks[1:], chunks[0])
    assert isinstance(whole, AIMessageChunk) and whole.text
    assert whole.usage_metadata is not None and 1 <= whole.usage_metadata["output_tokens"] <= 16
