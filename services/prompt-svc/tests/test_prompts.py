"""Prompts, versions, labels, diffs and role templates over gRPC, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from tuneway.api.prompt.v1 import prompt_pb2 as pb
from tuneway.core.errors import AlreadyExistsError, InvalidArgumentError, NotFoundError

pytestmark = pytest.mark.integration


def spec(*messages: tuple[str, str], **fields: Any) -> pb.PromptSpec:
    return pb.PromptSpec(messages=[pb.MessageTemplate(role=r, content=c) for r, c in messages], **fields)


async def test_role_templates_are_listed_and_copied_as_version_1(stub: Any, tenant: str) -> None:
    templates = (await stub.ListTemplates(pb.ListTemplatesRequest())).templates
    ids = {t.id for t in templates}
    assert {
        "customer_support",
        "tech_support",
        "hr_helpdesk",
        "legal_advisor",
        "retail_fashion",
        "healthcare",
    } <= ids
    legal = (await stub.GetTemplate(pb.GetTemplateRequest(id="legal_advisor"))).template
    assert "not legal advice" in legal.spec.output_style

    created = await stub.CreatePrompt(
        pb.CreatePromptRequest(tenant_id=tenant, name="support", template="customer_support")
    )
    assert created.prompt.latest_version == 1
    assert dict(created.prompt.labels) == {"production": 1}
    assert created.prompt.template == "customer_support"
    v1 = (await stub.GetPromptVersion(pb.GetPromptVersionRequest(tenant_id=tenant, prompt="support"))).version
    support = next(t for t in templates if t.id == "customer_support")
    assert v1.spec == support.spec
    assert list(v1.labels) == ["production"]


async def test_versions_are_numbered_labelled_and_diffed(stub: Any, tenant: str) -> None:
    first = spec(
        ("system", "You help with {{ topic }}."),
        variables=[pb.Variable(name="topic", default="orders")],
        parameters=pb.ModelParameters(),
    )
    await stub.CreatePrompt(pb.CreatePromptRequest(tenant_id=tenant, name="faq", spec=first))
    second = spec(
        ("system", "You help with {{ topic }}. Be brief."),
        variables=[pb.Variable(name="topic", default="orders")],
        parameters=pb.ModelParameters(temperature=0.2),
    )
    v2 = (
        await stub.CreatePromptVersion(
            pb.CreatePromptVersionRequest(
                tenant_id=tenant, prompt="faq", spec=second, description="shorter", labels=["staging"]
            )
        )
    ).version
    assert (v2.version, list(v2.labels), v2.description) == (2, ["staging"], "shorter")

    versions = (
        await stub.ListPromptVersions(pb.ListPromptVersionsRequest(tenant_id=tenant, prompt="faq"))
    ).versions
    assert [v.version for v in versions] == [1, 2]
    assert [list(v.labels) for v in versions] == [["production"], ["staging"]]
    staged = await stub.GetPromptVersion(
        pb.GetPromptVersionRequest(tenant_id=tenant, prompt="faq", label="staging")
    )
    assert staged.version.spec == second
    latest = await stub.GetPromptVersion(
        pb.GetPromptVersionRequest(tenant_id=tenant, prompt="faq", label="latest")
    )
    assert latest.version.version == 2

    diff = await stub.DiffPromptVersions(
        pb.DiffPromptVersionsRequest(tenant_id=tenant, prompt="faq", from_version=1, to_version=2)
    )
    assert set(diff.changed_fields) == {"messages", "parameters"}
    assert '-      "content": "You help with {{ topic }}."' in diff.diff
    assert '+      "content": "You help with {{ topic }}. Be brief."' in diff.diff

    moved = await stub.SetPromptLabel(
        pb.SetPromptLabelRequest(tenant_id=tenant, prompt="faq", label="production", version=2)
    )
    assert (moved.previous_version, moved.prompt.labels["production"]) == (1, 2)
    back = await stub.SetPromptLabel(
        pb.SetPromptLabelRequest(tenant_id=tenant, prompt="faq", label="production", version=1)
    )
    assert (back.previous_version, back.prompt.labels["production"]) == (2, 1)
    # Versions are immutable: v1 still holds what it held.
    again = await stub.GetPromptVersion(pb.GetPromptVersionRequest(tenant_id=tenant, prompt="faq", version=1))
    assert again.version.spec == first

    dropped = await stub.DeletePromptLabel(
        pb.DeletePromptLabelRequest(tenant_id=tenant, prompt="faq", label="staging")
    )
    assert dict(dropped.prompt.labels) == {"production": 1}


async def test_invalid_templates_are_refused_naming_the_field(stub: Any, tenant: str, rpc_error: Any) -> None:
    def create(name: str, s: pb.PromptSpec) -> Any:
        return stub.CreatePrompt(pb.CreatePromptRequest(tenant_id=tenant, name=name, spec=s))

    error = await rpc_error(create("a", spec(("system", "Hi"), ("user", "{% for x in %}"))))
    assert isinstance(error, InvalidArgumentError)
    assert (error.param, error.code) == ("messages[1].content", "template_syntax_error")

    error = await rpc_error(create("b", spec(("system", "Hello {{ customer }}"))))
    assert (error.param, error.code) == ("messages[0].content", "undeclared_variable")
    assert "'customer'" in error.message

    error = await rpc_error(create("c", spec(("system", "{{ ''.__class__.__mro__ }}"))))
    assert (error.param, error.code) == ("messages[0].content", "unsafe_template")

    error = await rpc_error(create("d", spec(("system", "{{ x|center(9999999) }}"))))
    assert error.param == "messages[0].content"

    error = await rpc_error(create("e", spec(("user", "hi"), ("system", "late system"))))
    assert error.param == "messages[1].role"

    error = await rpc_error(create("f", spec(("system", "{% include 'other' %}"))))
    assert error.param == "messages[0].content"

    bad_variant = spec(
        ("system", "x"), variants=[pb.PromptVariant(language="de"), pb.PromptVariant(language="de")]
    )
    error = await rpc_error(create("g", bad_variant))
    assert error.param == "variants[1]"

    error = await rpc_error(create("bad name!", spec(("system", "x"))))
    assert error.param == "name"

    error = await rpc_error(
        stub.CreatePrompt(pb.CreatePromptRequest(tenant_id=tenant, name="h", template="nope"))
    )
    assert isinstance(error, NotFoundError) and error.param == "template"


async def test_names_are_unique_per_tenant_and_tenants_are_isolated(
    stub: Any, tenant: str, rpc_error: Any
) -> None:
    other = tenant + "-other"
    await stub.CreatePrompt(
        pb.CreatePromptRequest(tenant_id=tenant, name="shared", spec=spec(("system", "mine")))
    )
    error = await rpc_error(stub.CreatePrompt(pb.CreatePromptRequest(tenant_id=tenant, name="shared")))
    assert isinstance(error, AlreadyExistsError) and error.param == "name"
    # The same name in another tenant is another prompt.
    await stub.CreatePrompt(
        pb.CreatePromptRequest(tenant_id=other, name="shared", spec=spec(("system", "theirs")))
    )

    assert [p.name for p in (await stub.ListPrompts(pb.ListPromptsRequest(tenant_id=other))).prompts] == [
        "shared"
    ]
    theirs = await stub.GetPromptVersion(
        pb.GetPromptVersionRequest(tenant_id=other, prompt="shared", version=1)
    )
    assert theirs.version.spec.messages[0].content == "theirs"

    third = tenant + "-third"
    for call in (
        stub.GetPrompt(pb.GetPromptRequest(tenant_id=third, name="shared")),
        stub.ListPromptVersions(pb.ListPromptVersionsRequest(tenant_id=third, prompt="shared")),
        stub.SetPromptLabel(pb.SetPromptLabelRequest(tenant_id=third, prompt="shared", label="x", version=1)),
        stub.RenderPrompt(pb.RenderPromptRequest(tenant_id=third, prompt="shared")),
        stub.DeletePrompt(pb.DeletePromptRequest(tenant_id=third, name="shared")),
    ):
        assert isinstance(await rpc_error(call), NotFoundError)
    assert not (await stub.ListPrompts(pb.ListPromptsRequest(tenant_id=third))).prompts

    error = await rpc_error(stub.ListPrompts(pb.ListPromptsRequest()))
    assert error.param == "tenant_id"

    await stub.DeletePrompt(pb.DeletePromptRequest(tenant_id=tenant, name="shared"))
    assert not (await stub.ListPrompts(pb.ListPromptsRequest(tenant_id=tenant))).prompts
    assert len((await stub.ListPrompts(pb.ListPromptsRequest(tenant_id=other))).prompts) == 1
