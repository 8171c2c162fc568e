"""/v1/model_aliases (tuneway's): a tenant's names for its models, so that an application keeps sending
`gpt-4o-mini` and is served by an assistant or an adapter."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from tuneway.gateway.audit.service import read_before
from tuneway.gateway.deps import (
    AuditTrail,
    CurrentPrincipal,
    Inference,
    ModelAliasBook,
    Prompts,
    Retriever,
)
from tuneway.gateway.http import Deleted, ListObject, deleted, json_response, list_object
from tuneway.gateway.models.alias_schemas import SetModelAlias
from tuneway.gateway.models.aliases import ModelAliases
from tuneway.gateway.models.catalog import model_objects
from tuneway.gateway.models.responses import ModelAliasObject, model_alias_object
from tuneway.gateway.openapi import UPSTREAM, documented

router = APIRouter(prefix="/v1/model_aliases", tags=["models"])


async def _read_alias(aliases: ModelAliases, tenant_id: str, alias: str) -> ModelAliasObject:
    """The alias as GET /v1/model_aliases/{alias} shows it."""
    return model_alias_object(await aliases.get(tenant_id, alias))


@router.get("", responses=documented(ListObject[ModelAliasObject]), summary="List model aliases")
async def list_model_aliases(principal: CurrentPrincipal, aliases: ModelAliasBook) -> Response:
    """The tenant's aliases, by name."""
    found = await aliases.list(principal.tenant_id)
    return json_response(list_object([model_alias_object(a) for a in found]))


@router.get("/{alias}", responses=documented(ModelAliasObject, 404), summary="Retrieve a model alias")
async def get_model_alias(alias: str, principal: CurrentPrincipal, aliases: ModelAliasBook) -> Response:
    """One alias, or 404."""
    return json_response(await _read_alias(aliases, principal.tenant_id, alias))


@router.put(
    "/{alias}", responses=documented(ModelAliasObject, *UPSTREAM), summary="Point a model alias at a model"
)
async def set_model_alias(
    alias: str,
    body: SetModelAlias,
    principal: CurrentPrincipal,
    aliases: ModelAliasBook,
    inference: Inference,
    prompts: Prompts,
    retriever: Retriever,
    audit: AuditTrail,
) -> Response:
    """Creates the alias or moves it. The target must be a model the tenant may call now (400
    model_not_found otherwise); the alias may not be the name of one (400 invalid_value)."""
    tenant_id = principal.tenant_id
    callable_models = [m["id"] for m in await model_objects(inference, prompts, retriever, tenant_id)]
    before = await read_before(_read_alias(aliases, tenant_id, alias))
    after = model_alias_object(await aliases.set(tenant_id, alias, body.target, callable_models))
    await audit.record(principal, "model_alias.set", "model_alias", alias, before, after)
    return json_response(after)


@router.delete("/{alias}", responses=documented(Deleted, 404), summary="Delete a model alias")
async def delete_model_alias(
    alias: str, principal: CurrentPrincipal, aliases: ModelAliasBook, audit: AuditTrail
) -> Response:
    """Deletes the alias: requests naming it get 404 model_not_found again."""
    before = await read_before(_read_alias(aliases, principal.tenant_id, alias))
    await aliases.delete(principal.tenant_id, alias)
    await audit.record(principal, "model_alias.deleted", "model_alias", alias, before, None)
    return json_response(deleted(alias, "model_alias"))
