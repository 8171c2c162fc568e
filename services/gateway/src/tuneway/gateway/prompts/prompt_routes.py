"""/v1/prompts (versions, labels, diffs, render previews) and /v1/prompt_templates."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from tuneway.api.prompt.v1 import prompt_pb2 as pb
from tuneway.core.errors import NotFoundError
from tuneway.gateway.audit.service import read_before
from tuneway.gateway.deps import AuditTrail, CurrentPrincipal, Prompts
from tuneway.gateway.http import Deleted, ListObject, deleted, json_response, list_object
from tuneway.gateway.openapi import UPSTREAM, documented
from tuneway.gateway.prompts import responses as obj
from tuneway.gateway.prompts.reads import read_prompt
from tuneway.gateway.prompts.rendering import render_request
from tuneway.gateway.prompts.schemas import CreatePromptBody, CreateVersionBody, RenderBody, SetLabelBody
from tuneway.gateway.wire_types import INT32_MAX

# A version number in a query: a positive int32, as on the wire.
VersionQuery = Annotated[int, Query(ge=1, le=INT32_MAX)]

router = APIRouter(prefix="/v1", tags=["prompts"])


@router.get(
    "/prompt_templates",
    responses=documented(ListObject[obj.RoleTemplate], *UPSTREAM),
    summary="List role templates",
)
async def list_templates(_: CurrentPrincipal, prompts: Prompts) -> Response:
    """The built-in role templates a prompt can start from."""
    response = await prompts.call(prompts.stub.ListTemplates, pb.ListTemplatesRequest())
    return json_response(list_object([obj.template(t) for t in response.templates]))


@router.get(
    "/prompt_templates/{template_id}",
    responses=documented(obj.RoleTemplate, 404, *UPSTREAM),
    summary="Retrieve a role template",
)
async def get_template(template_id: str, _: CurrentPrincipal, prompts: Prompts) -> Response:
    """One role template with its messages, variables and variants."""
    response = await prompts.call(prompts.stub.GetTemplate, pb.GetTemplateRequest(id=template_id))
    return json_response(obj.template(response.template))


@router.post(
    "/prompts",
    status_code=201,
    responses=documented(obj.Prompt, 404, 409, *UPSTREAM, status=201),
    summary="Create a prompt",
)
async def create_prompt(
    body: CreatePromptBody, principal: CurrentPrincipal, prompts: Prompts, audit: AuditTrail
) -> Response:
    """201 with the prompt; `template` or `messages` make version 1, labelled production."""
    response = await prompts.call(prompts.stub.CreatePrompt, body.to_proto(principal.tenant_id))
    created = obj.prompt(response.prompt)
    await audit.record(principal, "prompt.created", "prompt", created["name"], None, created)
    return json_response(created, 201)


@router.get("/prompts", responses=documented(ListObject[obj.Prompt], *UPSTREAM), summary="List prompts")
async def list_prompts(principal: CurrentPrincipal, prompts: Prompts) -> Response:
    """The tenant's prompts by name."""
    request = pb.ListPromptsRequest(tenant_id=principal.tenant_id)
    response = await prompts.call(prompts.stub.ListPrompts, request)
    return json_response(list_object([obj.prompt(p) for p in response.prompts]))


@router.get("/prompts/{name}", responses=documented(obj.Prompt, 404, *UPSTREAM), summary="Retrieve a prompt")
async def get_prompt(name: str, principal: CurrentPrincipal, prompts: Prompts) -> Response:
    """One prompt with its labels."""
    return json_response(await read_prompt(prompts, principal.tenant_id, name))


@router.delete(
    "/prompts/{name}", responses=documented(Deleted, 404, 409, *UPSTREAM), summary="Delete a prompt"
)
async def delete_prompt(
    name: str, principal: CurrentPrincipal, prompts: Prompts, audit: AuditTrail
) -> Response:
    """Deletes the prompt with its versions and experiments; 409 while an assistant uses it."""
    before = await read_before(read_prompt(prompts, principal.tenant_id, name))
    request = pb.DeletePromptRequest(tenant_id=principal.tenant_id, name=name)
    response = await prompts.call(prompts.stub.DeletePrompt, request)
    await audit.record(principal, "prompt.deleted", "prompt", name, before, None)
    return json_response(deleted(response.id, "prompt.deleted"))


@router.post(
    "/prompts/{name}/versions",
    status_code=201,
    responses=documented(obj.PromptVersion, 404, 409, *UPSTREAM, status=201),
    summary="Create a prompt version",
)
async def create_version(
    name: str, body: CreateVersionBody, principal: CurrentPrincipal, prompts: Prompts, audit: AuditTrail
) -> Response:
    """201 with the new, immutable version; `labels` move to it at once."""
    request = body.to_proto(principal.tenant_id, name)
    response = await prompts.call(prompts.stub.CreatePromptVersion, request)
    created = obj.version(response.version)
    # Its id is its path under /v1/prompts: the prompt's name and the version's number.
    version_id = f"{name}/versions/{created['version']}"
    await audit.record(principal, "prompt.version.created", "prompt_version", version_id, None, created)
    return json_response(created, 201)


@router.get(
    "/prompts/{name}/versions",
    responses=documented(ListObject[obj.PromptVersion], 404, *UPSTREAM),
    summary="List prompt versions",
)
async def list_versions(name: str, principal: CurrentPrincipal, prompts: Prompts) -> Response:
    """Every version, oldest first."""
    request = pb.ListPromptVersionsRequest(tenant_id=principal.tenant_id, prompt=name)
    response = await prompts.call(prompts.stub.ListPromptVersions, request)
    return json_response(list_object([obj.version(v) for v in response.versions]))


@router.get(
    "/prompts/{name}/versions/{version}",
    responses=documented(obj.PromptVersion, 404, *UPSTREAM),
    summary="Retrieve a prompt version",
)
async def get_version(name: str, version: str, principal: CurrentPrincipal, prompts: Prompts) -> Response:
    """A version by number, or by label (`production`, `staging`, `latest`, ...)."""
    request = pb.GetPromptVersionRequest(tenant_id=principal.tenant_id, prompt=name)
    # ASCII digits only: str.isdigit() is true of "¹", which int() refuses (a 500 before).
    if version.isascii() and version.isdigit():
        number = int(version)
        # Version numbers are positive int32s (3000000000 overflowed the protobuf field, a 500 before);
        # 0 would mean "no version" and fall back to the production label.
        if not 1 <= number <= INT32_MAX:
            raise NotFoundError(f"Prompt {name!r} has no version {version}.", param="version")
        request.version = number
    else:
        request.label = version
    response = await prompts.call(prompts.stub.GetPromptVersion, request)
    return json_response(obj.version(response.version))


@router.put(
    "/prompts/{name}/labels/{label}",
    responses=documented(obj.LabelMoved, 404, 409, *UPSTREAM),
    summary="Point a label at a version",
)
async def set_label(
    name: str,
    label: str,
    body: SetLabelBody,
    principal: CurrentPrincipal,
    prompts: Prompts,
    audit: AuditTrail,
) -> Response:
    """Moves (or creates) the label; rollback is moving it back. Every replica serves it at once."""
    before = await read_before(read_prompt(prompts, principal.tenant_id, name))
    request = pb.SetPromptLabelRequest(
        tenant_id=principal.tenant_id, prompt=name, label=label, version=body.version
    )
    response = await prompts.call(prompts.stub.SetPromptLabel, request)
    await audit.record(principal, "prompt.label.moved", "prompt", name, before, obj.prompt(response.prompt))
    return json_response(obj.label_moved(response))


@router.delete(
    "/prompts/{name}/labels/{label}",
    responses=documented(obj.Prompt, 404, 409, *UPSTREAM),
    summary="Delete a label",
)
async def delete_label(
    name: str, label: str, principal: CurrentPrincipal, prompts: Prompts, audit: AuditTrail
) -> Response:
    """Removes the label; 409 while an assistant or a running experiment uses it."""
    before = await read_before(read_prompt(prompts, principal.tenant_id, name))
    request = pb.DeletePromptLabelRequest(tenant_id=principal.tenant_id, prompt=name, label=label)
    after = obj.prompt((await prompts.call(prompts.stub.DeletePromptLabel, request)).prompt)
    await audit.record(principal, "prompt.label.deleted", "prompt", name, before, after)
    return json_response(after)


@router.get(
    "/prompts/{name}/diff", responses=documented(obj.PromptDiff, 404, *UPSTREAM), summary="Diff two versions"
)
async def diff_versions(
    name: str,
    principal: CurrentPrincipal,
    prompts: Prompts,
    from_version: VersionQuery,
    to_version: VersionQuery,
) -> Response:
    """A unified diff of the two versions and the fields that changed."""
    request = pb.DiffPromptVersionsRequest(
        tenant_id=principal.tenant_id, prompt=name, from_version=from_version, to_version=to_version
    )
    response = await prompts.call(prompts.stub.DiffPromptVersions, request)
    return json_response(obj.diff(name, from_version, to_version, response))


@router.post(
    "/prompts/{name}/render",
    # 409: the label to render (production by default) points at no version yet.
    responses=documented(obj.RenderPreview, 404, 409, *UPSTREAM),
    summary="Preview a rendered prompt",
)
async def render(name: str, body: RenderBody, principal: CurrentPrincipal, prompts: Prompts) -> Response:
    """The messages a version (or label) renders for these variables, conversation and metadata."""
    messages = [
        pb.ChatMessage(role="system" if m.role == "developer" else m.role, content=m.content)
        for m in body.messages
    ]
    request = render_request(
        principal.tenant_id,
        messages,
        body.variables,
        body.user,
        body.metadata,
        prompt=name,
        version=body.version or 0,
        label=body.label or "",
    )
    return json_response(obj.rendered(await prompts.call(prompts.stub.RenderPrompt, request)))
