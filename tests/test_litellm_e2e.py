"""LiteLLM as a client of the stack (its `openai/` provider with our base URL): tool calls, streamed text
and a streamed call, and embeddings (issue 12 §7)."""

from __future__ import annotations

import json
import os
from types import ModuleType
from typing import Any

import jsonschema
import pytest

from tests.conftest import RunningStack, Tenant
from tests.test_tools_e2e import ASK, SCHEMAS, TOOLS, WEATHER

pytestmark = pytest.mark.e2e
MODEL = "openai/tuneway-tiny"
HELLO = [{"role": "user", "content": "Hello"}]


def load_litellm() -> ModuleType:
    """LiteLLM with nothing fetched from the internet: the model cost map is its bundled copy (it is read
    at import, so this is set first), and no telemetry."""
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    import litellm

    litellm.telemetry = False
    return litellm


@pytest.fixture(scope="module")
def litellm() -> ModuleType:
    return load_litellm()


def _options(stack: RunningStack, tenant: Tenant) -> dict[str, Any]:
    return {"api_base": f"{stack.gateway_url}/v1", "api_key": tenant.key, "num_retries": 0, "timeout": 60}


def _valid(call: Any) -> dict[str, Any]:
    """A call in OpenAI's shape, its arguments JSON within its function's schema."""
    assert call.type == "function" and call.id.startswith("call_")
    arguments: dict[str, Any] = json.loads(call.function.arguments)
    jsonschema.validate(arguments, SCHEMAS[call.function.name])
    return arguments


def test_completion_returns_tool_calls(stack: RunningStack, acme: Tenant, litellm: ModuleType) -> None:
    options = _options(stack, acme)
    named = litellm.completion(
        model=MODEL, messages=ASK, tools=TOOLS, tool_choice=WEATHER, max_tokens=128, **options
    )
    message = named.choices[0].message
    assert message.content is None and [c.function.name for c in message.tool_calls] == ["get_weather"]
    _valid(message.tool_calls[0])
    required = litellm.completion(
        model=MODEL,
        messages=ASK,
        tools=TOOLS,
        tool_choice="required",
        parallel_tool_calls=False,
        max_tokens=200,
        seed=1,
        **options,
    )
    choice = required.choices[0]
    assert choice.finish_reason == "tool_calls" and len(choice.message.tool_calls) == 1
    _valid(choice.message.tool_calls[0])


def test_a_stream_gives_the_same_text_and_its_usage(
    stack: RunningStack, acme: Tenant, litellm: ModuleType
) -> None:
    options = {**_options(stack, acme), "model": MODEL, "messages": HELLO, "max_tokens": 16, "temperature": 0}
    whole = litellm.completion(**options)
    chunks = list(litellm.completion(stream=True, stream_options={"include_usage": True}, **options))
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    assert len(chunks) > 2 and text and text == whole.choices[0].message.content
    usage = chunks[-1].usage
    assert usage.completion_tokens == whole.usage.completion_tokens == 16
    assert usage.prompt_tokens == whole.usage.prompt_tokens > 0


def test_a_streamed_call_is_rebuilt_by_litellm(
    stack: RunningStack, acme: Tenant, litellm: ModuleType
) -> None:
    chunks = list(
        litellm.completion(
            model=MODEL,
            messages=ASK,
            tools=TOOLS,
            tool_choice="required",
            parallel_tool_calls=False,
            max_tokens=200,
            stream=True,
            **_options(stack, acme),
        )
    )
    assert len(chunks) > 2
    rebuilt = litellm.stream_chunk_builder(chunks, messages=ASK)
    [call] = rebuilt.choices[0].message.tool_calls
    _valid(call)


def test_embedding_returns_the_embedders_vectors(
    stack: RunningStack, acme: Tenant, litellm: ModuleType
) -> None:
    client = stack.client(acme.key)
    [embedder] = [m.id for m in client.models.list().data if (m.model_extra or {}).get("kind") == "embedding"]
    texts = ["where is my parcel?", "how do I reset my password?"]
    response = litellm.embedding(model=f"openai/{embedder}", input=texts, **_options(stack, acme))
    vectors = [item["embedding"] for item in response.data]
    assert [len(vector) for vector in vectors] == [384, 384] and vectors[0] != vectors[1]
    # The same vectors as the OpenAI SDK gets from /v1/embeddings.
    expected = [item.embedding for item in client.embeddings.create(model=embedder, input=texts).data]
    for vector, same in zip(vectors, expected, strict=True):
        assert vector == pytest.approx(same, abs=1e-6)
