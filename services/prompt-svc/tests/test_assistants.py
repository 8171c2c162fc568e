"""Assistants over gRPC: create, read, update by mask, delete, validation and tenant isolation."""

from __future__ import annotations

from typing import Any

import pytest

from tuneway.api.prompt.v1 import prompt_pb2 as pb
from tuneway.core.errors import AlreadyExistsError, FailedPreconditionError, NotFoundError

pytestmark = pytest.mark.integration


async def _prompt(stub: Any, tenant: str, name: str = "support") -> None:
    await stub.CreatePrompt(pb.CreatePromptRequest(tenant_id=tenant, name=name, template="customer_support"))


def _assistant(**fields: Any) -> pb.Assistant:
    fields.setdefault("name", "helpdesk")
    fields.setdefault("base_model", "tuneway-tiny")
    fields.setdefault("prompt", "support")
    return pb.Assistant(**fields)


async def test_crud(stub: Any, tenant: str, rpc_error: Any) -> None:
    await _prompt(stub, tenant)
    await _prompt(stub, tenant, "sales")
    created = (
        await stub.CreateAssistant(
            pb.CreateAssistantRequest(
                tenant_id=tenant,
                assistant=_assistant(
                    adapter="ft:tuneway-tiny:acme:support:abc",
                    parameters=pb.ModelParameters(temperature=0.1, stop=["END"]),
                    channels=["Web", "email"],
                    knowledge=pb.KnowledgeSettings(knowledge_base_ids=["kb_1"], top_k=4, score_threshold=0.3),
                ),
            )
        )
    ).assistant
    assert created.id.startswith("asst_") and created.prompt_label == "production"
    assert list(created.channels) == ["web", "email"]
    assert created.knowledge.top_k == 4 and list(created.knowledge.knowledge_base_ids) == ["kb_1"]
    assert created.parameters.temperature == pytest.approx(0.1) and list(created.parameters.stop) == ["END"]

    error = await rpc_error(
        stub.CreateAssistant(pb.CreateAssistantRequest(tenant_id=tenant, assistant=_assistant()))
    )
    assert isinstance(error, AlreadyExistsError) and error.param == "name"
    # The pipeline gets the knowledge-base slots with the rendered messages.
    rendered = await stub.RenderPrompt(pb.RenderPromptRequest(tenant_id=tenant, assistant="helpdesk"))
    assert list(rendered.knowledge.knowledge_base_ids) == ["kb_1"] and rendered.knowledge.top_k == 4
    assert rendered.model == "ft:tuneway-tiny:acme:support:abc"

    updated = (
        await stub.UpdateAssistant(
            pb.UpdateAssistantRequest(
                tenant_id=tenant,
                name="helpdesk",
                assistant=pb.Assistant(prompt="sales", adapter=""),
                update_mask=["prompt", "adapter"],
            )
        )
    ).assistant
    assert (updated.prompt, updated.adapter, updated.knowledge.top_k) == ("sales", "", 4)
    got = (await stub.GetAssistant(pb.GetAssistantRequest(tenant_id=tenant, name="helpdesk"))).assistant
    assert got == updated
    listed = (await stub.ListAssistants(pb.ListAssistantsRequest(tenant_id=tenant))).assistants
    assert [a.name for a in listed] == ["helpdesk"]

    # A prompt in use cannot be deleted.
    error = await rpc_error(stub.DeletePrompt(pb.DeletePromptRequest(tenant_id=tenant, name="sales")))
    assert isinstance(error, FailedPreconditionError) and error.code == "prompt_in_use"

    deleted = await stub.DeleteAssistant(pb.DeleteAssistantRequest(tenant_id=tenant, name="helpdesk"))
    assert deleted.id == created.id
    error = await rpc_error(stub.GetAssistant(pb.GetAssistantRequest(tenant_id=tenant, name="helpdesk")))
    assert isinstance(error, NotFoundError)
    await stub.DeletePrompt(pb.DeletePromptRequest(tenant_id=tenant, name="sales"))


async def test_validation_names_the_field(stub: Any, tenant: str, rpc_error: Any) -> None:
    await _prompt(stub, tenant)

    async def param(assistant: pb.Assistant) -> str | None:
        request = pb.CreateAssistantRequest(tenant_id=tenant, assistant=assistant)
        return (await rpc_error(stub.CreateAssistant(request))).param

    assert await param(_assistant(name="no spaces")) == "name"
    assert await param(_assistant(base_model="")) == "base_model"
    assert await param(_assistant(prompt="missing")) == "prompt"
    assert await param(_assistant(parameters=pb.ModelParameters(temperature=5))) == "parameters.temperature"
    assert await param(_assistant(channels=["web chat"])) == "channels[0]"
    assert await param(_assistant(knowledge=pb.KnowledgeSettings(top_k=1000))) == "knowledge.top_k"
    assert await param(_assistant(prompt_label="Not A Label")) == "prompt_label"
    error = await rpc_error(
        stub.UpdateAssistant(pb.UpdateAssistantRequest(tenant_id=tenant, name="x", update_mask=["id"]))
    )
    assert error.param == "update_mask"


async def test_other_tenants_see_nothing(stub: Any, tenant: str, rpc_error: Any) -> None:
    await _prompt(stub, tenant)
    await stub.CreateAssistant(pb.CreateAssistantRequest(tenant_id=tenant, assistant=_assistant()))
    other = tenant + "-other"
    assert not (await stub.ListAssistants(pb.ListAssistantsRequest(tenant_id=other))).assistants
    for call in (
        stub.GetAssistant(pb.GetAssistantRequest(tenant_id=other, name="helpdesk")),
        stub.DeleteAssistant(pb.DeleteAssistantRequest(tenant_id=other, name="helpdesk")),
        stub.RenderPrompt(pb.RenderPromptRequest(tenant_id=other, assistant="helpdesk")),
    ):
        assert isinstance(await rpc_error(call), NotFoundError)
    # Another tenant cannot point an assistant at this tenant's prompt either.
    error = await rpc_error(
        stub.CreateAssistant(pb.CreateAssistantRequest(tenant_id=other, assistant=_assistant()))
    )
    assert isinstance(error, NotFoundError) and error.param == "prompt"
