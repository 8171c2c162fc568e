"""Adapter registry (tuneway extension): versions by model name, and aliases that move between them."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from tuneway.api.trainer.v1 import trainer_pb2 as pb
from tuneway.core.errors import NotFoundError
from tuneway.gateway.audit.service import read_before
from tuneway.gateway.clients.trainer import TrainerClient
from tuneway.gateway.deps import AuditTrail, CurrentPrincipal, Trainer
from tuneway.gateway.fine_tuning.responses import (
    AdapterAlias,
    AdapterVersion,
    adapter_version_object,
    alias_object,
)
from tuneway.gateway.fine_tuning.schemas import SetAlias
from tuneway.gateway.http import Deleted, ListObject, deleted, json_response, list_object
from tuneway.gateway.openapi import UPSTREAM, documented

router = APIRouter(prefix="/v1/fine_tuning", tags=["fine-tuning registry"])


async def _aliases(trainer: TrainerClient, tenant_id: str) -> list[pb.AdapterAlias]:
    request = pb.ListAdapterAliasesRequest(tenant_id=tenant_id)
    return list((await trainer.call(trainer.stub.ListAdapterAliases, request)).aliases)


async def _read_adapter(trainer: TrainerClient, tenant_id: str, model: str) -> AdapterVersion:
    """The version as GET /v1/fine_tuning/adapters/{model} shows it."""
    request = pb.GetAdapterVersionRequest(tenant_id=tenant_id, model=model)
    return adapter_version_object((await trainer.call(trainer.stub.GetAdapterVersion, request)).version)


async def _read_alias(trainer: TrainerClient, tenant_id: str, alias: str) -> AdapterAlias:
    """The alias as GET /v1/fine_tuning/aliases/{alias} shows it."""
    for found in await _aliases(trainer, tenant_id):
        if found.alias == alias:
            return alias_object(found)
    raise NotFoundError(f"No adapter alias '{alias}'.", param="alias", code="alias_not_found")


@router.get(
    "/adapters", responses=documented(ListObject[AdapterVersion], *UPSTREAM), summary="List adapter versions"
)
async def list_adapters(
    principal: CurrentPrincipal, trainer: Trainer, name: str = "", include_retired: bool = False
) -> Response:
    """The tenant's adapter versions (of one family with `name`), with lineage and metrics."""
    request = pb.ListAdapterVersionsRequest(
        tenant_id=principal.tenant_id, name=name, include_retired=include_retired
    )
    response = await trainer.call(trainer.stub.ListAdapterVersions, request)
    return json_response(list_object([adapter_version_object(v) for v in response.versions]))


# `:path` because model names hold ':' and, with hub base models, '/' (ft:org/base:tenant:suffix:id).
@router.post(
    "/adapters/{model:path}/retire",
    responses=documented(AdapterVersion, 404, 409, *UPSTREAM),
    summary="Retire an adapter version",
)
async def retire_adapter(
    model: str, principal: CurrentPrincipal, trainer: Trainer, audit: AuditTrail
) -> Response:
    """Unregisters the version: every inference replica unloads it; its record stays as retired."""
    before = await read_before(_read_adapter(trainer, principal.tenant_id, model))
    request = pb.RetireAdapterVersionRequest(tenant_id=principal.tenant_id, model=model)
    response = await trainer.call(trainer.stub.RetireAdapterVersion, request)
    after = adapter_version_object(response.version)
    await audit.record(principal, "adapter.retired", "adapter", model, before, after)
    return json_response(after)


@router.get(
    "/adapters/{model:path}",
    responses=documented(AdapterVersion, 404, *UPSTREAM),
    summary="Retrieve an adapter version",
)
async def get_adapter(model: str, principal: CurrentPrincipal, trainer: Trainer) -> Response:
    """One version by its model name."""
    return json_response(await _read_adapter(trainer, principal.tenant_id, model))


@router.get(
    "/aliases", responses=documented(ListObject[AdapterAlias], *UPSTREAM), summary="List adapter aliases"
)
async def list_aliases(principal: CurrentPrincipal, trainer: Trainer) -> Response:
    """The tenant's aliases with their targets and history."""
    return json_response(list_object([alias_object(a) for a in await _aliases(trainer, principal.tenant_id)]))


@router.get(
    "/aliases/{alias}",
    responses=documented(AdapterAlias, 404, *UPSTREAM),
    summary="Retrieve an adapter alias",
)
async def get_alias(alias: str, principal: CurrentPrincipal, trainer: Trainer) -> Response:
    """One alias, or 404."""
    return json_response(await _read_alias(trainer, principal.tenant_id, alias))


@router.put(
    "/aliases/{alias}",
    responses=documented(AdapterAlias, 404, 409, *UPSTREAM),
    summary="Point an alias at an adapter version",
)
async def set_alias(
    alias: str, body: SetAlias, principal: CurrentPrincipal, trainer: Trainer, audit: AuditTrail
) -> Response:
    """Creates or moves the alias; it is served as model ft:<base>:<tenant>:<alias>."""
    before = await read_before(_read_alias(trainer, principal.tenant_id, alias))
    request = pb.SetAdapterAliasRequest(tenant_id=principal.tenant_id, alias=alias, target=body.target)
    response = await trainer.call(trainer.stub.SetAdapterAlias, request)
    after = alias_object(response.alias)
    await audit.record(principal, "adapter_alias.set", "adapter_alias", alias, before, after)
    return json_response(after)


@router.post(
    "/aliases/{alias}/rollback",
    responses=documented(AdapterAlias, 404, 409, *UPSTREAM),
    summary="Roll an alias back",
)
async def rollback_alias(
    alias: str, principal: CurrentPrincipal, trainer: Trainer, audit: AuditTrail
) -> Response:
    """Moves the alias back to the version it pointed at before its last move."""
    before = await read_before(_read_alias(trainer, principal.tenant_id, alias))
    request = pb.RollbackAdapterAliasRequest(tenant_id=principal.tenant_id, alias=alias)
    response = await trainer.call(trainer.stub.RollbackAdapterAlias, request)
    after = alias_object(response.alias)
    await audit.record(principal, "adapter_alias.rolled_back", "adapter_alias", alias, before, after)
    return json_response(after)


@router.delete(
    "/aliases/{alias}", responses=documented(Deleted, 404, *UPSTREAM), summary="Delete an adapter alias"
)
async def delete_alias(
    alias: str, principal: CurrentPrincipal, trainer: Trainer, audit: AuditTrail
) -> Response:
    """Deletes the alias (its model name stops being served); the versions stay."""
    before = await read_before(_read_alias(trainer, principal.tenant_id, alias))
    request = pb.DeleteAdapterAliasRequest(tenant_id=principal.tenant_id, alias=alias)
    await trainer.call(trainer.stub.DeleteAdapterAlias, request)
    await audit.record(principal, "adapter_alias.deleted", "adapter_alias", alias, before, None)
    return json_response(deleted(alias, "fine_tuning.alias"))
