"""/v1/experiments: A/B/n tests between prompt versions (draft -> running <-> paused -> completed)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from starlette.responses import Response

from tuneway.api.prompt.v1 import prompt_pb2 as pb
from tuneway.gateway.audit.service import read_before
from tuneway.gateway.deps import AuditTrail, CurrentPrincipal, Inference, Prompts
from tuneway.gateway.http import Deleted, ListObject, deleted, json_response, list_object
from tuneway.gateway.models.catalog import require_callable
from tuneway.gateway.openapi import UPSTREAM, documented
from tuneway.gateway.prompts import responses as obj
from tuneway.gateway.prompts.reads import read_experiment, read_prompt
from tuneway.gateway.prompts.schemas import CreateExperimentBody, PromoteBody

router = APIRouter(prefix="/v1/experiments", tags=["experiments"])
# POST /v1/experiments/{id}/<action> -> the status it moves to.
ACTIONS = {"start": "running", "pause": "paused", "resume": "running", "complete": "completed"}
# The audit log's word for each action (experiment.started, ...).
_PAST = {"start": "started", "pause": "paused", "resume": "resumed", "complete": "completed"}


@router.post(
    "",
    status_code=201,
    responses=documented(obj.Experiment, 404, 409, *UPSTREAM, status=201),
    summary="Create an experiment",
)
async def create_experiment(
    body: CreateExperimentBody,
    principal: CurrentPrincipal,
    prompts: Prompts,
    inference: Inference,
    audit: AuditTrail,
) -> Response:
    """201 with a draft experiment; start it to split the label's traffic."""
    # An arm may serve another model or adapter; it must be one the tenant can call now.
    arm_models = {f"variants[{i}].model": v.model or None for i, v in enumerate(body.variants)}
    await require_callable(inference, principal.tenant_id, arm_models)
    response = await prompts.call(prompts.stub.CreateExperiment, body.to_proto(principal.tenant_id))
    created = obj.experiment(response.experiment)
    await audit.record(principal, "experiment.created", "experiment", created["id"], None, created)
    return json_response(created, 201)


# 404: `prompt` names no prompt of the tenant.
@router.get("", responses=documented(ListObject[obj.Experiment], 404, *UPSTREAM), summary="List experiments")
async def list_experiments(
    principal: CurrentPrincipal, prompts: Prompts, prompt: str | None = None, status: str | None = None
) -> Response:
    """The tenant's experiments, newest first, optionally of one prompt or status."""
    request = pb.ListExperimentsRequest(
        tenant_id=principal.tenant_id, prompt=prompt or "", status=status or ""
    )
    response = await prompts.call(prompts.stub.ListExperiments, request)
    return json_response(list_object([obj.experiment(e) for e in response.experiments]))


@router.get(
    "/{experiment_id}", responses=documented(obj.Experiment, 404, *UPSTREAM), summary="Retrieve an experiment"
)
async def get_experiment(experiment_id: str, principal: CurrentPrincipal, prompts: Prompts) -> Response:
    """One experiment."""
    return json_response(await read_experiment(prompts, principal.tenant_id, experiment_id))


@router.post(
    "/{experiment_id}/promote",
    responses=documented(obj.Promoted, 404, 409, *UPSTREAM),
    summary="Promote the winning variant",
)
async def promote(
    experiment_id: str, body: PromoteBody, principal: CurrentPrincipal, prompts: Prompts, audit: AuditTrail
) -> Response:
    """Moves the experiment's label to the winner's version and completes the experiment."""
    tenant_id = principal.tenant_id
    before = await read_before(read_experiment(prompts, tenant_id, experiment_id))
    prompt_before = None
    if before is not None:
        prompt_before = await read_before(read_prompt(prompts, tenant_id, before["prompt"]))
    request = pb.PromoteExperimentVariantRequest(tenant_id=tenant_id, id=experiment_id, variant=body.variant)
    response = await prompts.call(prompts.stub.PromoteExperimentVariant, request)
    after = obj.experiment(response.experiment)
    await audit.record(principal, "experiment.promoted", "experiment", experiment_id, before, after)
    # The promotion moved the prompt's label: that prompt's own log shows it too.
    prompt = obj.prompt(response.prompt)
    await audit.record(principal, "prompt.label.moved", "prompt", after["prompt"], prompt_before, prompt)
    return json_response(obj.promoted(response))


@router.post(
    "/{experiment_id}/{action}",
    responses=documented(obj.Experiment, 404, 409, *UPSTREAM),
    summary="Start, pause, resume or complete an experiment",
)
async def set_status(
    experiment_id: str,
    action: Literal["start", "pause", "resume", "complete"],
    principal: CurrentPrincipal,
    prompts: Prompts,
    audit: AuditTrail,
) -> Response:
    """`start`, `pause`, `resume` or `complete`; 409 for a move the status does not allow."""
    before = await read_before(read_experiment(prompts, principal.tenant_id, experiment_id))
    request = pb.SetExperimentStatusRequest(
        tenant_id=principal.tenant_id, id=experiment_id, status=ACTIONS[action]
    )
    response = await prompts.call(prompts.stub.SetExperimentStatus, request)
    after = obj.experiment(response.experiment)
    # experiment.started, .paused, .resumed or .completed.
    await audit.record(principal, f"experiment.{_PAST[action]}", "experiment", experiment_id, before, after)
    return json_response(after)


@router.delete(
    "/{experiment_id}", responses=documented(Deleted, 404, 409, *UPSTREAM), summary="Delete an experiment"
)
async def delete_experiment(
    experiment_id: str, principal: CurrentPrincipal, prompts: Prompts, audit: AuditTrail
) -> Response:
    """Deletes an experiment that is not running."""
    before = await read_before(read_experiment(prompts, principal.tenant_id, experiment_id))
    request = pb.DeleteExperimentRequest(tenant_id=principal.tenant_id, id=experiment_id)
    await prompts.call(prompts.stub.DeleteExperiment, request)
    await audit.record(principal, "experiment.deleted", "experiment", experiment_id, before, None)
    return json_response(deleted(experiment_id, "experiment.deleted"))
