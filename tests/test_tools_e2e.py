"""Tool calling through the stack with the OpenAI SDK: forced and required calls decoded under the
functions' schemas, `none`, streamed calls through the SDK's stream helper, a tool-result round trip, the
400s, and the adapter and assistant paths (issue 12 §1). `auto` is in test_tools_auto_e2e.py."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any, Literal

import httpx
import jsonschema
import openai
import pytest
from pydantic import BaseModel

from tests.conftest import RunningStack, Tenant
from tests.test_adapters_e2e import _put, _registration, _wait_listed
from tuneway.core.testing.lora import write_random_lora

pytestmark = pytest.mark.e2e
BASE = "tuneway-tiny"
ASK = [{"role": "user", "content": "What is the weather in Paris?"}]
# Bounded values, so that even the random demo model finishes a call well within max_tokens.
WEATHER_PARAMETERS = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "enum": ["Paris", "Berlin", "Rome"]},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "detailed": {"type": "boolean"},
    },
    "required": ["city", "unit", "detailed"],
    "additionalProperties": False,
}
TIME_PARAMETERS = {
    "type": "object",
    "properties": {"zone": {"type": "string", "enum": ["UTC", "CET"]}},
    "required": ["zone"],
    "additionalProperties": False,
}
TOOLS: list[Any] = [
    {
        "type": "function",
        "function": {"name": "get_weather", "description": "Weather now", "parameters": WEATHER_PARAMETERS},
    },
    {
        "type": "function",
        "function": {"name": "get_time", "description": "Time now", "parameters": TIME_PARAMETERS},
    },
]
SCHEMAS = {"get_weather": WEATHER_PARAMETERS, "get_time": TIME_PARAMETERS}
WEATHER = {"type": "function", "function": {"name": "get_weather"}}


class GetWeather(BaseModel):
    """The weather in a city."""

    city: Literal["Paris", "Berlin", "Rome"]
    detailed: bool


def _valid_call(call: Any) -> dict[str, Any]:
    """Checks a message's tool call against OpenAI's shape and its function's schema; its arguments."""
    assert call.type == "function" and call.id.startswith("call_") and len(call.id) == 29
    arguments: dict[str, Any] = json.loads(call.function.arguments)
    jsonschema.validate(arguments, SCHEMAS[call.function.name])
    return arguments


def test_a_named_function_is_called_with_arguments_that_follow_its_schema(
    stack: RunningStack, acme: Tenant
) -> None:
    client = stack.client(acme.key)
    completion = client.chat.completions.create(
        model=BASE,
        messages=ASK,
        tools=TOOLS,
        tool_choice=WEATHER,
        max_tokens=128,  # type: ignore[arg-type]
    )
    choice = completion.choices[0]
    # OpenAI answers a forced function with finish_reason "stop" (auto and required say "tool_calls").
    assert choice.finish_reason == "stop"
    assert choice.message.content is None and choice.message.role == "assistant"
    calls = choice.message.tool_calls or []
    assert [c.function.name for c in calls] == ["get_weather"]  # type: ignore[union-attr]
    _valid_call(calls[0])
    assert completion.usage is not None and completion.usage.completion_tokens > 0


def test_required_calls_a_function_of_the_list(stack: RunningStack, acme: Tenant) -> None:
    client = stack.client(acme.key)
    names = set()
    for seed in range(3):
        completion = client.chat.completions.create(
            model=BASE,
            messages=ASK,  # type: ignore[arg-type]
            tools=TOOLS,
            tool_choice="required",
            parallel_tool_calls=False,
            max_tokens=200,  # the demo tokenizer spends about one token per character of JSON
            seed=seed,
        )
        choice = completion.choices[0]
        assert choice.finish_reason == "tool_calls" and choice.message.content is None
        assert len(choice.message.tool_calls or []) == 1  # parallel_tool_calls=false: one call at most
        call = (choice.message.tool_calls or [])[0]
        _valid_call(call)
        names.add(call.function.name)  # type: ignore[union-attr]
    assert names <= {"get_weather", "get_time"}


def test_required_with_parallel_calls_gives_every_call_its_own_id(stack: RunningStack, acme: Tenant) -> None:
    client = stack.client(acme.key)
    completion = client.chat.completions.create(
        model=BASE,
        messages=ASK,
        tools=TOOLS,
        tool_choice="required",
        max_tokens=200,
        seed=1,  # type: ignore[arg-type]
    )
    choice = completion.choices[0]
    calls = choice.message.tool_calls or []
    assert calls and choice.message.content is None
    # The random model may go on calling until max_tokens; every call but a cut-off last one is whole.
    whole = calls if choice.finish_reason == "tool_calls" else calls[:-1]
    for call in whole:
        _valid_call(call)
    assert len({c.id for c in calls}) == len(calls)


def test_none_answers_with_text(stack: RunningStack, acme: Tenant) -> None:
    client = stack.client(acme.key)
    completion = client.chat.completions.create(
        model=BASE,
        messages=ASK,
        tools=TOOLS,
        tool_choice="none",
        max_tokens=8,
        temperature=0,  # type: ignore[arg-type]
    )
    choice = completion.choices[0]
    assert choice.message.tool_calls is None and choice.message.content
    assert choice.finish_reason in ("stop", "length")


def test_the_sdk_stream_helper_assembles_a_streamed_call(stack: RunningStack, acme: Tenant) -> None:
    client = stack.client(acme.key)
    tool = openai.pydantic_function_tool(GetWeather)
    deltas = []
    with client.chat.completions.stream(
        model=BASE,
        messages=ASK,  # type: ignore[arg-type]
        tools=[tool],
        tool_choice={"type": "function", "function": {"name": "GetWeather"}},
        max_tokens=64,
    ) as stream:
        for event in stream:
            if event.type == "tool_calls.function.arguments.delta":
                deltas.append(event.arguments_delta)
        final = stream.get_final_completion()
    call = (final.choices[0].message.tool_calls or [])[0]
    assert call.function.name == "GetWeather" and call.id.startswith("call_")
    # The arguments came in several deltas, and the helper parsed them into the model.
    assert len(deltas) > 1 and "".join(deltas) == call.function.arguments
    assert isinstance(call.function.parsed_arguments, GetWeather)


def test_the_sdk_parse_helper_reads_a_forced_call_into_the_model(stack: RunningStack, acme: Tenant) -> None:
    client = stack.client(acme.key)
    completion = client.chat.completions.parse(
        model=BASE,
        messages=ASK,  # type: ignore[arg-type]
        tools=[openai.pydantic_function_tool(GetWeather)],
        tool_choice={"type": "function", "function": {"name": "GetWeather"}},
        max_tokens=64,
    )
    call = (completion.choices[0].message.tool_calls or [])[0]
    assert isinstance(call.function.parsed_arguments, GetWeather)


def test_streamed_chunks_have_openais_tool_call_shape(stack: RunningStack, acme: Tenant) -> None:
    body = {
        "model": BASE,
        "messages": ASK,
        "tools": TOOLS,
        "tool_choice": "required",
        "parallel_tool_calls": False,
        "max_tokens": 200,
        "stream": True,
    }
    deltas, finish = [], None
    with (
        httpx.Client(base_url=stack.gateway_url, timeout=60) as http,
        http.stream(
            "POST", "/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {acme.key}"}
        ) as response,
    ):
        assert response.status_code == 200
        for line in response.iter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            choice = json.loads(line.removeprefix("data: "))["choices"][0]
            deltas.extend(choice["delta"].get("tool_calls") or [])
            finish = choice["finish_reason"] or finish
    first, rest = deltas[0], deltas[1:]
    assert first["index"] == 0 and first["type"] == "function" and first["id"].startswith("call_")
    assert first["function"]["name"] in SCHEMAS and first["function"]["arguments"] == ""
    assert rest and all(set(d) == {"index", "function"} and set(d["function"]) == {"arguments"} for d in rest)
    arguments = json.loads("".join(d["function"]["arguments"] for d in rest))
    jsonschema.validate(arguments, SCHEMAS[first["function"]["name"]])
    assert finish == "tool_calls"


def _history(arguments: str) -> list[dict[str, Any]]:
    call = {"id": "call_abc", "type": "function", "function": {"name": "get_weather", "arguments": arguments}}
    return [
        *ASK,
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "call_abc", "content": '{"sky": "clear", "celsius": 21}'},
    ]


def test_a_tool_result_round_trip_is_rendered_by_the_models_template(
    stack: RunningStack, acme: Tenant, demo_model: Path
) -> None:
    from transformers import AutoTokenizer

    client = stack.client(acme.key)
    arguments = '{"city": "Paris", "unit": "celsius", "detailed": false}'
    completion = client.chat.completions.create(
        model=BASE,
        messages=_history(arguments),
        tools=TOOLS,
        max_tokens=4,
        tool_choice="none",  # type: ignore[arg-type]
    )
    assert completion.choices[0].message.content is not None
    # The engine saw exactly what the demo template makes of the call, its result and the tools.
    tokenizer = AutoTokenizer.from_pretrained(demo_model)
    turns = _history(arguments)
    turns[1] = {**turns[1], "content": "", "tool_calls": [{**turns[1]["tool_calls"][0]}]}
    turns[1]["tool_calls"][0]["function"] = {"name": "get_weather", "arguments": json.loads(arguments)}
    expected = tokenizer.apply_chat_template(
        turns, tools=TOOLS, add_generation_prompt=True, tokenize=True, return_dict=False
    )
    assert completion.usage is not None and completion.usage.prompt_tokens == len(expected)


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"tools": [{"type": "retrieval"}]}, "tools[0].type"),
        ({"tool_choice": {"type": "function", "function": {"name": "get_time_zone"}}}, "tool_choice"),
        ({"tools": None, "tool_choice": "auto"}, "tool_choice"),
        ({"tools": None, "parallel_tool_calls": False}, "parallel_tool_calls"),
        ({"tool_choice": "always"}, "tool_choice"),
        (
            {"tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "nonsense"}}}]},
            "tools[0].function.parameters",
        ),
        ({"tools": [TOOLS[0], TOOLS[0]]}, "tools"),
        ({"tools": [{"type": "function", "function": {"name": "no spaces"}}]}, "tools[0].function.name"),
        ({"messages": [*ASK, {"role": "tool", "content": "21 degrees"}]}, "messages[1].tool_call_id"),
        (
            {"messages": [{"role": "user", "content": "x", "tool_calls": _history("{}")[1]["tool_calls"]}]},
            "messages[0].tool_calls",
        ),
    ],
)
def test_bad_tool_fields_are_400s_naming_the_field(
    stack: RunningStack, acme: Tenant, change: dict[str, Any], param: str
) -> None:
    client = stack.client(acme.key)
    body = {"model": BASE, "messages": ASK, "tools": TOOLS, "max_tokens": 4, **change}
    body = {k: v for k, v in body.items() if v is not None}
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(**body)
    error = caught.value.body
    assert isinstance(error, dict) and error["param"] == param and error["type"] == "invalid_request_error"


def test_an_adapter_calls_tools_too(
    stack: RunningStack, acme: Tenant, demo_model: Path, tmp_path: Path
) -> None:
    model = f"ft:{BASE}:{acme.id}:tools:tl001"
    adapter = write_random_lora(demo_model, tmp_path / "adapter", seed=5)
    asyncio.run(_put(stack.nats_url, "ftjob-tl001", _registration(adapter, model, acme.id)))
    client = stack.client(acme.key)
    _wait_listed(client, model, listed=True, timeout=30)
    for choice in ("required", WEATHER):
        completion = client.chat.completions.create(
            model=model,
            messages=_history('{"city": "Rome", "unit": "celsius", "detailed": true}'),  # type: ignore[arg-type]
            tools=TOOLS,
            tool_choice=choice,  # type: ignore[arg-type]
            parallel_tool_calls=False,
            max_tokens=200,
        )
        calls = completion.choices[0].message.tool_calls or []
        assert len(calls) == 1
        _valid_call(calls[0])


def test_an_assistant_renders_its_prompt_around_the_tool_history(stack: RunningStack, acme: Tenant) -> None:
    headers = {"Authorization": f"Bearer {acme.key}"}
    with httpx.Client(base_url=stack.gateway_url, headers=headers, timeout=60) as http:
        prompt = {
            "name": "weather-desk",
            "messages": [{"role": "system", "content": "You report the weather."}],
        }
        assert http.post("/v1/prompts", json=prompt).status_code == 201
        assistant = {"name": "weather-bot", "base_model": BASE, "prompt": "weather-desk"}
        assert http.post("/v1/assistants", json=assistant).status_code == 201
    client = stack.client(acme.key)

    def prompt_tokens(arguments: str) -> int:
        completion = client.chat.completions.create(
            model="assistant:weather-bot",
            messages=_history(arguments),  # type: ignore[arg-type]
            tools=TOOLS,
            tool_choice=WEATHER,
            max_tokens=128,
        )
        choice = completion.choices[0]
        assert completion.model_extra and completion.model_extra["tuneway"]["assistant"] == "weather-bot"
        assert [c.function.name for c in choice.message.tool_calls or []] == ["get_weather"]  # type: ignore[union-attr]
        _valid_call((choice.message.tool_calls or [])[0])
        assert completion.usage is not None
        return completion.usage.prompt_tokens

    # The past call reached the template through the prompt layer: longer arguments, a longer prompt.
    short = prompt_tokens('{"city": "Rome"}')
    long = prompt_tokens('{"city": "Rome", "unit": "celsius", "detailed": true}')
    assert long > short
