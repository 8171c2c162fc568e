"""/v1/model_aliases (tuneway's): a tenant's names for its models, so that an application keeps sending
`gpt-4o-mini` and is served by an assistant or an adapter."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from tuneway.gateway.deps import CurrentPrincipal, Inference, ModelAliasBook, Prompts, Retriever
from tuneway.gateway.http import Deleted, ListObject, deleted, json_response, list_object
from tuneway.gateway.models.alias_schemas import SetModelAlias
from tuneway.gateway.models.catalog import model_objects
from tuneway.gateway.models.responses import ModelAliasObject, model_alias_object
from tuneway.gateway.openapi import UPSTREAM, documented

router = APIRouter(prefix="/v1/model_aliases", tags=["models"])


@router.get("", responses=documented(ListObject[ModelAliasObject]), summary="List model aliases")
async def list_model_aliases(principal: CurrentPrincipal, aliases: ModelAliasBook) -> Response:
    """The tenant's aliases, by name."""
    found = await aliases.list(principal.tenant_id)
    return json_response(list_object([model_alias_object(a) for a in found]))


@router.get("/{alias}", responses=documented(ModelAliasObject, 404), summary="Retrieve a model alias")
async def get_model_alias(alias: str, principal: CurrentPrincipal, aliases: ModelAliasBook) -> Response:
    """One alias, or 404."""
    return json_response(model_alias_object(await aliases.get(principal.tenant_id, alias)))


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
) -> Response:
    """Creates the alias or moves it. The target must be a model the tenant may call now (400
    model_not_found otherwise); the alias may not be the name of one (400 invalid_value)."""
    tenant_id = principal.tenant_id
    callable_models = [m["id"] for m in await model_objects(inference, prompts, retriever, tenant_id)]
    row = await aliases.set(tenant_id, alias, body.target, callable_models)
    return json_response(model_alias_object(row))


@router.delete("/{alias}", responses=documented(Deleted, 404), summary="Delete a model alias")
async def delete_model_alias(alias: str, principal: CurrentPrincipal, aliases: ModelAliasBook) -> Response:
    """Deletes the alias: requests naming it get 404 model_not_found again."""
    await aliases.delete(principal.tenant_id, alias)
    return json_response(deleted(alias, "model_alias"))
