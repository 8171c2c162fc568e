"""/v1/assistants: named bundles of model, adapter, prompt label, parameters, channels and knowledge."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from tuneway.api.prompt.v1 import prompt_pb2 as pb
from tuneway.api.retriever.v1 import retriever_pb2 as rpb
from tuneway.core.errors import InvalidArgumentError, NotFoundError
from tuneway.gateway.audit.service import read_before
from tuneway.gateway.clients.inference import InferenceClient
from tuneway.gateway.clients.retriever import RetrieverClient
from tuneway.gateway.deps import AuditTrail, CurrentPrincipal, Inference, Prompts, Retriever
from tuneway.gateway.http import Deleted, ListObject, deleted, json_response, list_object
from tuneway.gateway.models.catalog import require_callable
from tuneway.gateway.openapi import UPSTREAM, documented
from tuneway.gateway.prompts import responses as obj
from tuneway.gateway.prompts.reads import read_assistant
from tuneway.gateway.prompts.schemas import AssistantFields, CreateAssistantBody

router = APIRouter(prefix="/v1/assistants", tags=["assistants"])


async def _check_models(inference: InferenceClient, tenant_id: str, body: AssistantFields) -> None:
    """The base model and adapter must be ones the tenant can call now."""
    models = {"base_model": body.base_model, "adapter": body.adapter or None}
    await require_callable(inference, tenant_id, models)


async def _check_knowledge(retriever: RetrieverClient, tenant_id: str, body: AssistantFields) -> None:
    """Each knowledge base must be one of the tenant's (another tenant's id is a 404, as everywhere); the
    retriever is asked only when the body names some, so that assistants without knowledge never need it."""
    for kb_id in dict.fromkeys(body.knowledge.knowledge_base_ids if body.knowledge else []):
        try:
            await retriever.call(
                retriever.stub.GetKnowledgeBase, rpb.GetKnowledgeBaseRequest(tenant_id=tenant_id, id=kb_id)
            )
        except NotFoundError:
            raise NotFoundError(
                f"No knowledge base with id '{kb_id}'.",
                param="knowledge.knowledge_base_ids",
                code="knowledge_base_not_found",
            ) from None


@router.post(
    "",
    status_code=201,
    responses=documented(obj.Assistant, 404, 409, *UPSTREAM, status=201),
    summary="Create an assistant",
)
async def create_assistant(
    body: CreateAssistantBody,
    principal: CurrentPrincipal,
    prompts: Prompts,
    inference: Inference,
    retriever: Retriever,
    audit: AuditTrail,
) -> Response:
    """201 with the assistant; chat with it as `model: "assistant:<name>"`."""
    await _check_models(inference, principal.tenant_id, body)
    await _check_knowledge(retriever, principal.tenant_id, body)
    assistant, _ = body.to_proto(body.name)
    request = pb.CreateAssistantRequest(tenant_id=principal.tenant_id, assistant=assistant)
    response = await prompts.call(prompts.stub.CreateAssistant, request)
    created = obj.assistant(response.assistant)
    await audit.record(principal, "assistant.created", "assistant", created["name"], None, created)
    return json_response(created, 201)


@router.get("", responses=documented(ListObject[obj.Assistant], *UPSTREAM), summary="List assistants")
async def list_assistants(principal: CurrentPrincipal, prompts: Prompts) -> Response:
    """The tenant's assistants by name."""
    request = pb.ListAssistantsRequest(tenant_id=principal.tenant_id)
    response = await prompts.call(prompts.stub.ListAssistants, request)
    return json_response(list_object([obj.assistant(a) for a in response.assistants]))


@router.get("/{name}", responses=documented(obj.Assistant, 404, *UPSTREAM), summary="Retrieve an assistant")
async def get_assistant(name: str, principal: CurrentPrincipal, prompts: Prompts) -> Response:
    """One assistant."""
    return json_response(await read_assistant(prompts, principal.tenant_id, name))


@router.post("/{name}", responses=documented(obj.Assistant, 404, *UPSTREAM), summary="Modify an assistant")
@router.patch("/{name}", summary="Modify an assistant", include_in_schema=False)
async def update_assistant(
    name: str,
    body: AssistantFields,
    principal: CurrentPrincipal,
    prompts: Prompts,
    inference: Inference,
    retriever: Retriever,
    audit: AuditTrail,
) -> Response:
    """Changes the fields present in the body; the others keep their values."""
    await _check_models(inference, principal.tenant_id, body)
    await _check_knowledge(retriever, principal.tenant_id, body)
    assistant, fields = body.to_proto()
    if not fields:
        raise InvalidArgumentError("Nothing to update: the body sets no field.", code="invalid_value")
    before = await read_before(read_assistant(prompts, principal.tenant_id, name))
    request = pb.UpdateAssistantRequest(
        tenant_id=principal.tenant_id, name=name, assistant=assistant, update_mask=fields
    )
    response = await prompts.call(prompts.stub.UpdateAssistant, request)
    after = obj.assistant(response.assistant)
    await audit.record(principal, "assistant.updated", "assistant", name, before, after)
    return json_response(after)


@router.delete("/{name}", responses=documented(Deleted, 404, *UPSTREAM), summary="Delete an assistant")
async def delete_assistant(
    name: str, principal: CurrentPrincipal, prompts: Prompts, audit: AuditTrail
) -> Response:
    """Deletes the assistant; its prompt stays."""
    before = await read_before(read_assistant(prompts, principal.tenant_id, name))
    request = pb.DeleteAssistantRequest(tenant_id=principal.tenant_id, name=name)
    response = await prompts.call(prompts.stub.DeleteAssistant, request)
    await audit.record(principal, "assistant.deleted", "assistant", name, before, None)
    return json_response(deleted(response.id, "assistant.deleted"))
