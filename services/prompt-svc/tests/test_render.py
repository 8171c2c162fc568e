"""RenderPrompt over gRPC: assistants, variants and language, variables, the sandbox, caches across
replicas; on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from tuneway.api.prompt.v1 import prompt_pb2 as pb
from tuneway.core.errors import FailedPreconditionError, InvalidArgumentError, NotFoundError

pytestmark = pytest.mark.integration

SUPPORT = pb.PromptSpec(
    messages=[
        pb.MessageTemplate(
            role="system", content="You are the assistant of {{ company }} for {{ customer }}."
        ),
        pb.MessageTemplate(role="user", content="Where is my order?"),
        pb.MessageTemplate(role="assistant", content="Let me check the tracking for you."),
    ],
    variables=[pb.Variable(name="company", default="Acme"), pb.Variable(name="customer")],
    parameters=pb.ModelParameters(temperature=0.3, max_tokens=100),
    output_style="Answer briefly.",
    user_template="Customer ({{ channel or 'any' }}): {{ message }}",
    variants=[
        pb.PromptVariant(
            language="de",
            messages=[pb.MessageTemplate(role="system", content="Du bist der Assistent von {{ company }}.")],
            output_style="Antworte kurz.",
        ),
        pb.PromptVariant(language="de", channel="web", output_style="Antworte kurz, mit Links."),
        pb.PromptVariant(channel="voice", output_style="One spoken sentence."),
        pb.PromptVariant(tone="formal", output_style="Answer formally."),
    ],
)


async def _setup(stub: Any, tenant: str) -> None:
    await stub.CreatePrompt(pb.CreatePromptRequest(tenant_id=tenant, name="support", spec=SUPPORT))
    await stub.CreateAssistant(
        pb.CreateAssistantRequest(
            tenant_id=tenant,
            assistant=pb.Assistant(
                name="helpdesk",
                base_model="tuneway-tiny",
                prompt="support",
                parameters=pb.ModelParameters(temperature=0.0),
            ),
        )
    )


def _render(tenant: str, text: str = "Hello", **fields: Any) -> pb.RenderPromptRequest:
    fields.setdefault("variables", {"customer": "Ada"})
    fields.setdefault("assistant", "helpdesk")
    return pb.RenderPromptRequest(
        tenant_id=tenant, messages=[pb.ChatMessage(role="user", content=text)], **fields
    )


async def test_assistant_render_builds_the_conversation(stub: Any, tenant: str) -> None:
    await _setup(stub, tenant)
    request = pb.RenderPromptRequest(
        tenant_id=tenant,
        assistant="helpdesk",
        variables={"customer": "Ada", "unused": "ignored"},
        channel="email",
        messages=[
            pb.ChatMessage(role="system", content="The customer is a VIP."),
            pb.ChatMessage(role="user", content="Hi"),
            pb.ChatMessage(role="assistant", content="Hello!"),
            pb.ChatMessage(role="user", content="My parcel is late."),
        ],
    )
    result = await stub.RenderPrompt(request)
    assert [(m.role, m.content) for m in result.messages] == [
        ("system", "You are the assistant of Acme for Ada.\n\nAnswer briefly.\n\nThe customer is a VIP."),
        ("user", "Where is my order?"),
        ("assistant", "Let me check the tracking for you."),
        ("user", "Customer (email): Hi"),
        ("assistant", "Hello!"),
        ("user", "Customer (email): My parcel is late."),
    ]
    assert (result.model, result.version, result.label, result.variant) == (
        "tuneway-tiny",
        1,
        "production",
        "default",
    )
    assert result.prompt_name == "support" and result.assistant == "helpdesk"
    # The assistant's temperature overrides the version's; the version's max_tokens stays.
    assert result.parameters.temperature == 0.0 and result.parameters.max_tokens == 100
    # Every turn renders through the same version: the next turn repeats the same prefix.
    again = await stub.RenderPrompt(request)
    assert again.messages[:3] == result.messages[:3]


async def test_tool_calls_and_results_pass_through_rendering(stub: Any, tenant: str) -> None:
    await _setup(stub, tenant)
    call = pb.ToolCall(id="call_1", name="track_parcel", arguments='{"order": "A-17"}')
    request = _render(tenant, "Where is A-17?")
    request.messages.extend(
        [
            pb.ChatMessage(role="assistant", tool_calls=[call]),
            pb.ChatMessage(role="tool", tool_call_id="call_1", content='{"status": "shipped"}'),
        ]
    )
    result = await stub.RenderPrompt(request)
    # An agent's history reaches the model's template as the client sent it, after the prompt's turns.
    assert list(result.messages[-2:]) == list(request.messages[-2:])
    assert result.messages[-3] == pb.ChatMessage(role="user", content="Customer (any): Where is A-17?")


async def test_variants_fall_back_from_language_and_channel(stub: Any, tenant: str) -> None:
    await _setup(stub, tenant)

    async def variant(**fields: Any) -> tuple[str, str]:
        result = await stub.RenderPrompt(_render(tenant, **fields))
        return result.variant, result.messages[0].content

    assert await variant(language="de", channel="web") == (
        "de+web",
        "Du bist der Assistent von Acme.\n\nAntworte kurz, mit Links.",
    )
    assert await variant(language="DE", channel="app") == (
        "de",
        "Du bist der Assistent von Acme.\n\nAntworte kurz.",
    )
    assert (await variant(language="fr", channel="voice"))[0] == "voice"
    assert (await variant(language="en", tone="formal"))[0] == "formal"
    assert (await variant(language="en", channel="app"))[0] == "default"


async def test_language_is_detected_from_the_last_user_message(stub: Any, tenant: str) -> None:
    await _setup(stub, tenant)
    german = await stub.RenderPrompt(
        _render(tenant, "Guten Tag, wo ist meine Bestellung? Sie ist noch nicht da.")
    )
    assert (german.language, german.language_detected, german.variant) == ("de", True, "de")
    english = await stub.RenderPrompt(_render(tenant, "Hello, where is my order? It has not arrived yet."))
    assert (english.language, english.variant) == ("en", "default")
    # A language in the request wins over detection.
    told = await stub.RenderPrompt(_render(tenant, "Hello, where is my order?", language="de"))
    assert (told.language, told.language_detected, told.variant) == ("de", False, "de")


async def test_missing_variables_and_sandbox_escapes_are_400s(stub: Any, tenant: str, rpc_error: Any) -> None:
    await _setup(stub, tenant)
    error = await rpc_error(stub.RenderPrompt(_render(tenant, variables={})))
    assert isinstance(error, InvalidArgumentError)
    assert (error.param, error.code) == ("variables.customer", "missing_variable")

    sneaky = pb.PromptSpec(
        messages=[pb.MessageTemplate(role="system", content="{{ ''[field] }}")],
        variables=[pb.Variable(name="field")],
    )
    await stub.CreatePrompt(pb.CreatePromptRequest(tenant_id=tenant, name="sneaky", spec=sneaky))
    request = pb.RenderPromptRequest(tenant_id=tenant, prompt="sneaky", variables={"field": "__class__"})
    error = await rpc_error(stub.RenderPrompt(request))
    assert isinstance(error, InvalidArgumentError) and error.code == "unsafe_template"

    heavy = pb.PromptSpec(
        messages=[
            pb.MessageTemplate(
                role="system",
                content="{% for i in range(60000) %}{% for j in range(60000) %}{% endfor %}{% endfor %}",
            )
        ]
    )
    await stub.CreatePrompt(pb.CreatePromptRequest(tenant_id=tenant, name="heavy", spec=heavy))
    started = time.perf_counter()
    error = await rpc_error(stub.RenderPrompt(pb.RenderPromptRequest(tenant_id=tenant, prompt="heavy")))
    assert error.code == "render_limit_exceeded"
    assert time.perf_counter() - started < 2

    big = pb.PromptSpec(messages=[pb.MessageTemplate(role="system", content="{{ 'x' * 100000000 }}")])
    await stub.CreatePrompt(pb.CreatePromptRequest(tenant_id=tenant, name="big", spec=big))
    error = await rpc_error(stub.RenderPrompt(pb.RenderPromptRequest(tenant_id=tenant, prompt="big")))
    assert error.code == "render_limit_exceeded"


async def test_unknown_assistant_channel_and_label(stub: Any, tenant: str, rpc_error: Any) -> None:
    await _setup(stub, tenant)
    error = await rpc_error(stub.RenderPrompt(_render(tenant, assistant="nobody")))
    assert isinstance(error, NotFoundError) and error.param == "model"

    await stub.UpdateAssistant(
        pb.UpdateAssistantRequest(
            tenant_id=tenant,
            name="helpdesk",
            assistant=pb.Assistant(channels=["web"]),
            update_mask=["channels"],
        )
    )
    error = await rpc_error(stub.RenderPrompt(_render(tenant, channel="voice")))
    assert error.param == "metadata.channel"

    await stub.UpdateAssistant(
        pb.UpdateAssistantRequest(
            tenant_id=tenant,
            name="helpdesk",
            assistant=pb.Assistant(prompt_label="beta"),
            update_mask=["prompt_label"],
        )
    )
    error = await rpc_error(stub.RenderPrompt(_render(tenant)))
    assert isinstance(error, FailedPreconditionError) and error.param == "label"


async def test_preview_renders_a_version_or_label(stub: Any, tenant: str) -> None:
    await _setup(stub, tenant)
    v2 = pb.PromptSpec(messages=[pb.MessageTemplate(role="system", content="Version two for {{ user }}.")])
    await stub.CreatePromptVersion(pb.CreatePromptVersionRequest(tenant_id=tenant, prompt="support", spec=v2))
    preview = await stub.RenderPrompt(
        pb.RenderPromptRequest(tenant_id=tenant, prompt="support", version=2, user="u1")
    )
    assert preview.messages[0].content == "Version two for u1."
    assert (preview.version, preview.label, preview.model) == (2, "", "")
    latest = await stub.RenderPrompt(
        pb.RenderPromptRequest(tenant_id=tenant, prompt="support", label="latest")
    )
    assert latest.version == 2


async def test_label_moves_reach_every_replica(start_replica: Any, tenant: str) -> None:
    writer, reader = await start_replica(), await start_replica()
    await _setup(writer, tenant)
    v2 = pb.PromptSpec(messages=[pb.MessageTemplate(role="system", content="Second version.")])
    await writer.CreatePromptVersion(
        pb.CreatePromptVersionRequest(tenant_id=tenant, prompt="support", spec=v2)
    )
    # The reader caches production -> 1 ...
    for _ in range(3):
        assert (await reader.RenderPrompt(_render(tenant))).version == 1
    # ... until the writer moves the label; the invalidation reaches it over NATS.
    await writer.SetPromptLabel(
        pb.SetPromptLabelRequest(tenant_id=tenant, prompt="support", label="production", version=2)
    )
    assert (await writer.RenderPrompt(_render(tenant))).version == 2
    deadline = time.monotonic() + 5
    while (await reader.RenderPrompt(_render(tenant))).version != 2:
        assert time.monotonic() < deadline, "the reader kept serving the old version"
        await asyncio.sleep(0.01)
    # Rollback is moving the label back.
    await writer.SetPromptLabel(
        pb.SetPromptLabelRequest(tenant_id=tenant, prompt="support", label="production", version=1)
    )
    deadline = time.monotonic() + 5
    while (await reader.RenderPrompt(_render(tenant))).version != 1:
        assert time.monotonic() < deadline, "the reader kept serving the rolled-back version"
        await asyncio.sleep(0.01)
