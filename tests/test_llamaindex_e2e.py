"""LlamaIndex's `OpenAILike` against the stack, as a LlamaIndex application points it at tuneway: chat,
streamed chat, and function calling with a FunctionTool (the call read back by LlamaIndex, the tool run
by `predict_and_call`, a streamed call), and as a completion model on /v1/completions (issue 12 §7)."""

# No `from __future__ import annotations`: FunctionTool builds its schema from the function's evaluated
# annotations, and a string "Literal[...]" would not resolve.
from typing import Any, Literal

import pytest
from llama_index.core.llms import ChatMessage
from llama_index.core.tools import FunctionTool
from llama_index.llms.openai_like import OpenAILike

from tests.conftest import RunningStack, Tenant

pytestmark = pytest.mark.e2e
BASE = "tuneway-tiny"
HELLO = [ChatMessage(role="user", content="Hello")]
QUESTION = "What is the weather in Paris?"
CITIES = ("Paris", "Berlin", "Rome")


def get_weather(city: Literal["Paris", "Berlin", "Rome"], detailed: bool) -> str:
    """The weather in a city."""
    return f"sunny in {city}" + (", 21 degrees" if detailed else "")


WEATHER = FunctionTool.from_defaults(fn=get_weather)


def _llm(stack: RunningStack, tenant: Tenant, **options: Any) -> OpenAILike:
    """OpenAILike on the gateway, by default as a chat model that calls functions (no retries)."""
    chat = {"is_chat_model": True, "is_function_calling_model": True}
    return OpenAILike(
        model=BASE,
        api_base=f"{stack.gateway_url}/v1",
        api_key=tenant.key,
        context_window=2048,
        max_retries=0,
        timeout=60,
        **{**chat, **options},
    )


def _valid(kwargs: dict[str, Any]) -> None:
    """get_weather's arguments, as its signature takes them."""
    assert set(kwargs) == {"city", "detailed"}
    assert kwargs["city"] in CITIES and isinstance(kwargs["detailed"], bool)


def test_chat_and_stream_chat_give_the_same_reply(stack: RunningStack, acme: Tenant) -> None:
    llm = _llm(stack, acme, max_tokens=16, temperature=0, additional_kwargs={"seed": 1})
    whole = llm.chat(HELLO)
    parts = list(llm.stream_chat(HELLO))
    assert whole.message.role == "assistant" and whole.message.content
    assert whole.raw is not None and whole.raw.usage.completion_tokens == 16  # type: ignore[union-attr]
    # Each part carries the text so far and its delta: the deltas add up to the last part's text.
    assert len(parts) > 2
    assert "".join(part.delta or "" for part in parts) == parts[-1].message.content == whole.message.content


def test_chat_with_tools_returns_a_call_that_llamaindex_reads(stack: RunningStack, acme: Tenant) -> None:
    llm = _llm(stack, acme, max_tokens=64)
    response = llm.chat_with_tools([WEATHER], user_msg=QUESTION, tool_required=True)
    [selection] = llm.get_tool_calls_from_response(response)
    assert selection.tool_name == "get_weather" and selection.tool_id.startswith("call_")
    _valid(selection.tool_kwargs)
    # predict_and_call runs the function with the arguments the model gave it.
    answer = llm.predict_and_call([WEATHER], user_msg=QUESTION, tool_required=True)
    [output] = answer.sources
    assert output.tool_name == "get_weather" and not output.is_error
    _valid(output.raw_input["kwargs"])
    assert answer.response == get_weather(**output.raw_input["kwargs"])


def test_a_streamed_call_is_assembled(stack: RunningStack, acme: Tenant) -> None:
    llm = _llm(stack, acme, max_tokens=64)
    parts = list(llm.stream_chat_with_tools([WEATHER], user_msg=QUESTION, tool_required=True))
    assert len(parts) > 2
    [selection] = llm.get_tool_calls_from_response(parts[-1])
    assert selection.tool_name == "get_weather"
    _valid(selection.tool_kwargs)


def test_a_completion_model_goes_through_v1_completions(stack: RunningStack, acme: Tenant) -> None:
    # OpenAILike's default (is_chat_model=False): complete() posts the raw prompt to /v1/completions.
    llm = _llm(
        stack, acme, is_chat_model=False, is_function_calling_model=False, max_tokens=16, temperature=0
    )
    prompt = "Where is my parcel?"
    done = llm.complete(prompt)
    parts = list(llm.stream_complete(prompt))
    assert done.raw is not None and done.raw.object == "text_completion"  # type: ignore[union-attr]
    assert done.raw.usage.completion_tokens == 16  # type: ignore[union-attr]
    assert "".join(part.delta or "" for part in parts) == parts[-1].text == done.text
    # The text the OpenAI SDK gets for the same prompt: no chat template was put around it.
    sdk = stack.client(acme.key).completions.create(model=BASE, prompt=prompt, max_tokens=16, temperature=0)
    assert done.text and done.text == sdk.choices[0].text
