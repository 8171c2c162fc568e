"""LangChain's `ChatOpenAI` against the stack, as an application would point it at tuneway by base URL:
`bind_tools` with forced and required choices, `with_structured_output` by function calling and by JSON
schema, streaming text and streamed tool calls, a tool result sent back, and generation, streaming and a
call through `use_responses_api` (/v1/responses) (issue 12 §7). `auto` through LangChain is in
test_tools_auto_e2e.py, where an adapter has learned to call."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import jsonschema
import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, ToolMessage
from langchain_core.tools import tool
from langchain_core.utils.function_calling import convert_to_openai_tool
from langchain_openai import ChatOpenAI

from tests.conftest import RunningStack, Tenant
from tests.test_tools_e2e import TIME_PARAMETERS, GetWeather

pytestmark = pytest.mark.e2e
BASE = "tuneway-tiny"
QUESTION = "What is the weather in Paris?"


@tool
def get_time(zone: Literal["UTC", "CET"]) -> str:
    """Time now in a zone."""
    return "12:00"


def _chat(stack: RunningStack, tenant: Tenant, **options: Any) -> ChatOpenAI:
    """ChatOpenAI on the gateway (no retries, so that an error reaches the test)."""
    return ChatOpenAI(
        base_url=f"{stack.gateway_url}/v1",
        api_key=tenant.key,  # type: ignore[arg-type]
        model=BASE,
        max_retries=0,
        timeout=60,
        **options,
    )


def _valid(call: dict[str, Any]) -> None:
    """A parsed LangChain tool call of one of our functions, its arguments within the function's schema."""
    assert call["type"] == "tool_call" and call["id"].startswith("call_")
    if call["name"] == "GetWeather":
        GetWeather.model_validate(call["args"])
    else:
        assert call["name"] == "get_time"
        jsonschema.validate(call["args"], TIME_PARAMETERS)


def test_bind_tools_calls_the_named_function_and_one_of_the_list_when_required(
    stack: RunningStack, acme: Tenant
) -> None:
    llm = _chat(stack, acme, max_tokens=64)
    named = llm.bind_tools([GetWeather, get_time], tool_choice="GetWeather").invoke(QUESTION)
    assert isinstance(named, AIMessage) and named.invalid_tool_calls == []
    assert [call["name"] for call in named.tool_calls] == ["GetWeather"]
    _valid(named.tool_calls[0])
    required = llm.bind_tools([GetWeather, get_time], tool_choice="required", parallel_tool_calls=False)
    message = required.invoke(QUESTION)
    assert message.response_metadata["finish_reason"] == "tool_calls"
    assert len(message.tool_calls) == 1 and message.invalid_tool_calls == []  # type: ignore[attr-defined]
    _valid(message.tool_calls[0])  # type: ignore[attr-defined]


@pytest.mark.parametrize("method", ["function_calling", "json_schema"])
def test_with_structured_output_returns_the_model(stack: RunningStack, acme: Tenant, method: str) -> None:
    llm = _chat(stack, acme, max_tokens=64)
    structured = llm.with_structured_output(GetWeather, method=method, include_raw=True)  # type: ignore[arg-type]
    result = structured.invoke(QUESTION)
    assert result["parsing_error"] is None  # type: ignore[index]
    assert isinstance(result["parsed"], GetWeather)  # type: ignore[index]
    raw: AIMessage = result["raw"]  # type: ignore[index]
    if method == "function_calling":
        # A forced call of the model's function, whose arguments became the instance.
        assert [call["name"] for call in raw.tool_calls] == ["GetWeather"]
        assert raw.tool_calls[0]["args"] == result["parsed"].model_dump()  # type: ignore[index]
    else:
        # response_format json_schema: the reply's text is the JSON, no call.
        assert raw.tool_calls == []
        assert json.loads(str(raw.content)) == result["parsed"].model_dump()  # type: ignore[index]


def test_a_stream_adds_up_to_the_same_reply_with_its_usage(stack: RunningStack, acme: Tenant) -> None:
    llm = _chat(stack, acme, max_tokens=16, temperature=0, seed=1, stream_usage=True)
    chunks = list(llm.stream("Hello"))
    whole = llm.invoke("Hello")
    assert len(chunks) > 2 and all(isinstance(chunk, AIMessageChunk) for chunk in chunks)
    total = chunks[0]
    for chunk in chunks[1:]:
        total += chunk  # type: ignore[assignment]
    assert total.content and total.content == whole.content
    assert total.response_metadata["finish_reason"] == whole.response_metadata["finish_reason"]
    assert total.usage_metadata is not None and whole.usage_metadata is not None
    assert total.usage_metadata["output_tokens"] == whole.usage_metadata["output_tokens"] > 0
    assert total.usage_metadata["input_tokens"] == whole.usage_metadata["input_tokens"] > 0


def test_streamed_tool_call_chunks_reassemble_into_a_valid_call(stack: RunningStack, acme: Tenant) -> None:
    llm = _chat(stack, acme, max_tokens=64).bind_tools([GetWeather], tool_choice="GetWeather")
    chunks: list[Any] = list(llm.stream(QUESTION))
    # The name and id come once, on the first chunk of the call; the arguments follow in pieces.
    pieces = [c for chunk in chunks for c in chunk.tool_call_chunks]
    assert pieces[0]["name"] == "GetWeather" and pieces[0]["id"].startswith("call_")
    assert all(piece["index"] == 0 and piece["name"] is None for piece in pieces[1:])
    assert len([piece for piece in pieces if piece["args"]]) > 1
    total = chunks[0]
    for chunk in chunks[1:]:
        total += chunk
    [call] = total.tool_calls
    assert call["id"] == pieces[0]["id"] and call["name"] == "GetWeather"
    _valid(call)


def test_a_tool_result_goes_back_in_the_history(stack: RunningStack, acme: Tenant, demo_model: Path) -> None:
    from transformers import AutoTokenizer

    llm = _chat(stack, acme, max_tokens=64)
    asked = HumanMessage(QUESTION)
    called = llm.bind_tools([GetWeather], tool_choice="GetWeather").invoke([asked])
    [call] = called.tool_calls
    result = ToolMessage(content=json.dumps({"sky": "clear"}), tool_call_id=call["id"])
    reply = llm.bind_tools([GetWeather], tool_choice="none").invoke([asked, called, result], max_tokens=4)
    assert reply.tool_calls == [] and reply.content  # type: ignore[attr-defined]
    # The engine saw the call and its result: the prompt is the demo template's rendering of the history.
    # The function as LangChain sent it (its own conversion of the pydantic model).
    tool = convert_to_openai_tool(GetWeather)
    openai_call = {
        "id": call["id"],
        "type": "function",
        "function": {"name": "GetWeather", "arguments": call["args"]},
    }
    turns = [
        {"role": "user", "content": QUESTION},
        {"role": "assistant", "content": "", "tool_calls": [openai_call]},
        {"role": "tool", "tool_call_id": call["id"], "content": result.content},
    ]
    tokenizer = AutoTokenizer.from_pretrained(demo_model)
    expected = tokenizer.apply_chat_template(
        turns, tools=[tool], add_generation_prompt=True, tokenize=True, return_dict=False
    )
    assert reply.usage_metadata is not None  # type: ignore[attr-defined]
    assert reply.usage_metadata["input_tokens"] == len(expected)  # type: ignore[attr-defined]


def test_use_responses_api_generates_streams_and_calls(stack: RunningStack, acme: Tenant) -> None:
    # LangChain's use_responses_api sends the same requests to /v1/responses.
    llm = _chat(stack, acme, max_tokens=16, temperature=0, use_responses_api=True)
    whole = llm.invoke("Hello")
    metadata = whole.response_metadata
    assert metadata["object"] == "response" and metadata["id"].startswith("resp_")
    chunks: list[Any] = list(llm.stream("Hello"))
    total = chunks[0]
    for chunk in chunks[1:]:
        total += chunk
    assert len(chunks) > 2 and whole.text and total.text == whole.text
    assert whole.usage_metadata is not None and total.usage_metadata is not None
    assert total.usage_metadata["output_tokens"] == whole.usage_metadata["output_tokens"] == 16
    tools = _chat(stack, acme, max_tokens=64, use_responses_api=True).bind_tools(
        [GetWeather], tool_choice="GetWeather"
    )
    called = tools.invoke(QUESTION)
    assert [call["name"] for call in called.tool_calls] == ["GetWeather"]  # type: ignore[attr-defined]
    _valid(called.tool_calls[0])  # type: ignore[attr-defined]
