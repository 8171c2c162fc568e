"""`tool_choice: auto` end to end: the random demo model never writes a call by itself, so a LoRA adapter
is fine-tuned with the real trainer on a few conversations that answer in the demo template's tool format
(`<tool_call>{json}</tool_call>`, the system turn describing the tools exactly as the template does).
The adapter then chooses: a call where it learned one, read by vLLM's hermes parser, and text elsewhere."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.conftest import RunningStack, Tenant
from tests.test_finetune_e2e import TERMINAL, follow_events, wait_for_status

# Training the adapter takes minutes on a small, shared CPU machine.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1500)]
BASE = "tuneway-tiny"
CITIES = ["Paris", "Berlin", "Rome", "Madrid", "Vienna", "Oslo", "Lisbon", "Prague"]
# Small, so that the tools' system turn (in every training prompt) stays short and training quick.
PARAMETERS = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
TOOLS: list[Any] = [{"type": "function", "function": {"name": "get_weather", "parameters": PARAMETERS}}]
SMALL_TALK = {
    "Thanks!": "You are welcome.",
    "Hello": "Hello! How can I help?",
    "Bye": "Goodbye!",
    "Who are you?": "The weather desk.",
}


def _ask(city: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": f"What is the weather in {city}?"}]


def _call(city: str) -> str:
    return '<tool_call>{"name": "get_weather", "arguments": {"city": "' + city + '"}}</tool_call>'


def _tools_text(demo_model: Path) -> str:
    """The system turn the demo template writes for TOOLS: the training prompts match the served ones."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(demo_model)
    text: str = tokenizer.apply_chat_template(_ask("Paris"), tools=TOOLS, tokenize=False)
    return text.removeprefix("<|system|>\n").split("<|end|>")[0]


@pytest.fixture(scope="module")
def tool_adapter(stack: RunningStack, acme: Tenant, demo_model: Path) -> Iterator[str]:
    system = {"role": "system", "content": _tools_text(demo_model)}
    lines = [
        {"messages": [system, *_ask(city), {"role": "assistant", "content": _call(city)}]} for city in CITIES
    ]
    lines += [
        {"messages": [system, {"role": "user", "content": q}, {"role": "assistant", "content": a}]}
        for q, a in SMALL_TALK.items()
    ]
    data = "".join(json.dumps(line) + "\n" for line in lines).encode()
    client = stack.client(acme.key)
    file = client.files.create(file=("tools.jsonl", data), purpose="fine-tune")
    job = client.fine_tuning.jobs.create(
        model=BASE,
        training_file=file.id,
        suffix="tools",
        seed=7,
        hyperparameters={"n_epochs": 50, "batch_size": 4},
    )
    follow_events(stack, acme.key, job.id, timeout=1200)
    job = wait_for_status(client, job.id, TERMINAL, timeout=60)
    assert job.status == "succeeded", job.error
    yield job.fine_tuned_model


def test_auto_reads_the_call_the_adapter_chose(stack: RunningStack, acme: Tenant, tool_adapter: str) -> None:
    client = stack.client(acme.key)
    called = []
    for city in CITIES:

        def reply(choice: str, city: str = city) -> Any:
            return client.chat.completions.create(
                model=tool_adapter,
                messages=_ask(city),  # type: ignore[arg-type]
                tools=TOOLS,
                tool_choice=choice,  # type: ignore[arg-type]
                temperature=0,
                max_tokens=80,
            ).choices[0]

        # `none` renders the same prompt and returns what the adapter wrote, unread: the reference.
        written, choice = reply("none").message.content or "", reply("auto")
        try:
            expected = json.loads(written.removeprefix("<tool_call>").removesuffix("</tool_call>"))
        except ValueError:
            # A call the small adapter garbled (say, one brace too many) is not JSON: the parser leaves
            # it as the reply's text rather than invent a call (strict functions prevent it, below).
            assert choice.message.tool_calls is None and choice.message.content == written
            assert choice.finish_reason == "stop"
            continue
        assert choice.finish_reason == "tool_calls" and choice.message.content is None
        [call] = choice.message.tool_calls
        assert call.id.startswith("call_") and call.function.name == expected["name"] == "get_weather"
        assert json.loads(call.function.arguments) == expected["arguments"]
        called.append(expected["arguments"]["city"])
    # The adapter learned to call: most replies are calls, of cities it was trained on.
    assert len(called) >= 6 and set(called) <= set(CITIES), called
    # Without tools in the request, the same words are only text: the parser reads nothing into it.
    plain = client.chat.completions.create(
        model=tool_adapter,
        messages=_ask("Rome"),
        temperature=0,
        max_tokens=80,  # type: ignore[arg-type]
    )
    assert plain.choices[0].message.tool_calls is None and plain.choices[0].finish_reason != "tool_calls"


def test_auto_answers_small_talk_with_text(stack: RunningStack, acme: Tenant, tool_adapter: str) -> None:
    client = stack.client(acme.key)
    for question, answer in SMALL_TALK.items():
        completion = client.chat.completions.create(
            model=tool_adapter,
            messages=[{"role": "user", "content": question}],
            tools=TOOLS,  # type: ignore[arg-type]
            temperature=0,
            max_tokens=40,
        )
        choice = completion.choices[0]
        assert choice.message.tool_calls is None and choice.finish_reason == "stop"
        # The reply the adapter learned, read as text. A few steps of CPU training do not reproduce to
        # the last character from run to run ("You are welcome!" for "You are welcome."), so the text
        # must be that reply all but a character or two, not byte for byte.
        content = choice.message.content or ""
        assert "<tool_call>" not in content
        assert difflib.SequenceMatcher(None, content, answer).ratio() >= 0.85, (content, answer)


def test_auto_calls_stream_through_the_sdk_helper(
    stack: RunningStack, acme: Tenant, tool_adapter: str
) -> None:
    client = stack.client(acme.key)
    names, done = [], []
    with client.chat.completions.stream(
        model=tool_adapter,
        messages=_ask("Vienna"),  # type: ignore[arg-type]
        tools=TOOLS,
        temperature=0,
        max_tokens=80,
    ) as stream:
        for event in stream:
            if event.type == "chunk":
                for part in event.chunk.choices[0].delta.tool_calls or []:
                    if part.function and part.function.name:
                        names.append(part.function.name)
            elif event.type == "tool_calls.function.arguments.done":
                done.append(json.loads(event.arguments))
        final = stream.get_final_completion()
    assert names == ["get_weather"] and done == [{"city": "Vienna"}]
    assert final.choices[0].finish_reason == "tool_calls"


def test_strict_auto_calls_follow_the_schema(stack: RunningStack, acme: Tenant, tool_adapter: str) -> None:
    # Strict: the call the model starts is held to the schema by vLLM's structural tag.
    strict = [{"type": "function", "function": {**TOOLS[0]["function"], "strict": True}}]
    client = stack.client(acme.key)
    for city in CITIES:
        completion = client.chat.completions.create(
            model=tool_adapter,
            messages=_ask(city),
            tools=strict,
            temperature=0,
            max_tokens=80,  # type: ignore[arg-type]
        )
        # Every reply is a well-formed call now, even where the free-running adapter garbled one.
        [call] = completion.choices[0].message.tool_calls or []
        assert completion.choices[0].finish_reason == "tool_calls"
        jsonschema.validate(json.loads(call.function.arguments), PARAMETERS)  # type: ignore[union-attr]


def test_the_readme_agent_loop(stack: RunningStack, acme: Tenant, tool_adapter: str) -> None:
    client = stack.client(acme.key)
    messages: list[Any] = _ask("Oslo")
    completion = client.chat.completions.create(
        model=tool_adapter,
        messages=messages,
        tools=TOOLS,
        temperature=0,
        max_tokens=80,  # type: ignore[arg-type]
    )
    call = (completion.choices[0].message.tool_calls or [])[0]
    # The SDK's message object goes back into the history as it came, then the function's result.
    messages += [
        completion.choices[0].message,
        {"role": "tool", "tool_call_id": call.id, "content": json.dumps({"sky": "clear"})},
    ]
    reply = client.chat.completions.create(
        model=tool_adapter,
        messages=messages,
        tools=TOOLS,
        temperature=0,
        max_tokens=20,  # type: ignore[arg-type]
    )
    assert reply.usage is not None and completion.usage is not None
    assert reply.usage.prompt_tokens > completion.usage.prompt_tokens + completion.usage.completion_tokens


def test_langchain_and_litellm_read_the_adapters_choices_as_the_sdk_does(
    stack: RunningStack, acme: Tenant, tool_adapter: str
) -> None:
    from langchain_openai import ChatOpenAI

    from tests.test_litellm_e2e import load_litellm

    litellm = load_litellm()
    client = stack.client(acme.key)
    # bind_tools without tool_choice: the model chooses (auto); LangChain sends TOOLS as they are.
    agent = ChatOpenAI(
        base_url=f"{stack.gateway_url}/v1",
        api_key=acme.key,  # type: ignore[arg-type]
        model=tool_adapter,
        temperature=0,
        max_tokens=80,
        max_retries=0,
    ).bind_tools(TOOLS)
    options = {"tools": TOOLS, "temperature": 0, "max_tokens": 80}
    # Three cities: test_auto_reads_the_call_the_adapter_chose allows at most two garbled calls of eight.
    calls = 0
    for messages in [*(_ask(city) for city in CITIES[:3]), [{"role": "user", "content": "Hello"}]]:
        # The SDK's reading is the reference: each client reads the same reply the same way.
        completion = client.chat.completions.create(model=tool_adapter, messages=messages, **options)  # type: ignore[call-overload]
        reference = completion.choices[0]
        expected = [
            (c.function.name, json.loads(c.function.arguments)) for c in reference.message.tool_calls or []
        ]
        calls += bool(expected)
        chain = agent.invoke(messages[0]["content"])
        assert [(c["name"], c["args"]) for c in chain.tool_calls] == expected  # type: ignore[attr-defined]
        assert chain.response_metadata["finish_reason"] == reference.finish_reason
        lite = litellm.completion(
            model=f"openai/{tool_adapter}",
            messages=messages,
            tool_choice="auto",
            api_base=f"{stack.gateway_url}/v1",
            api_key=acme.key,
            num_retries=0,
            **options,
        ).choices[0]
        got = [(c.function.name, json.loads(c.function.arguments)) for c in lite.message.tool_calls or []]
        assert got == expected and lite.finish_reason == reference.finish_reason
        if not expected:
            assert chain.content == lite.message.content == reference.message.content
    assert calls >= 1  # and so the comparison above covered calls, not only text
