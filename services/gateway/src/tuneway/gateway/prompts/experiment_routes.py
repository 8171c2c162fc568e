"""/v1/experiments: A/B/n tests between prompt versions (draft -> running <-> paused -> completed)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from starlette.responses import Response

from tuneway.api.prompt.v1 import prompt_pb2 as pb
from tuneway.gateway.deps import CurrentPrincipal, Inference, Prompts
from tuneway.gateway.http import Deleted, ListObject, deleted, json_response, list_object
from tuneway.gateway.models.catalog import require_callable
from tuneway.gateway.openapi import UPSTREAM, documented
from tuneway.gateway.prompts import responses as obj
from tuneway.gateway.prompts.schemas import CreateExperimentBody, PromoteBody

router = APIRouter(prefix="/v1/experiments", tags=["experiments"])
# POST /v1/experiments/{id}/<action> -> the status it moves to.
ACTIONS = {"start": "running", "pause": "paused", "resume": "running", "complete": "completed"}


@router.post(
    "",
    status_code=201,
    responses=documented(obj.Experiment, 404, 409, *UPSTREAM, status=201),
    summary="Create an experiment",
)
async def create_experiment(
    body: CreateExperimentBody, principal: CurrentPrincipal, prompts: Prompts, inference: Inference
) -> Response:
    """201 with a draft experiment; start it to split the label's traffic."""
    # An arm may serve another model or adapter; it must be one the tenant can call now.
    arm_models = {f"variants[{i}].model": v.model or None for i, v in enumerate(body.variants)}
    await require_callable(inference, principal.tenant_id, arm_models)
    response = await prompts.call(prompts.stub.CreateExperiment, body.to_proto(principal.tenant_id))
    return json_response(obj.experiment(response.experiment), 201)


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
    request = pb.GetExperimentRequest(tenant_id=principal.tenant_id, id=experiment_id)
    response = await prompts.call(prompts.stub.GetExperiment, request)
    return json_response(obj.experiment(response.experiment))


@router.post(
    "/{experiment_id}/promote",
    responses=documented(obj.Promoted, 404, 409, *UPSTREAM),
    summary="Promote the winning variant",
)
async def promote(
    experiment_id: str, body: PromoteBody, principal: CurrentPrincipal, prompts: Prompts
) -> Response:
    """Moves the experiment's label to the winner's version and completes the experiment."""
    request = pb.PromoteExperimentVariantRequest(
        tenant_id=principal.tenant_id, id=experiment_id, variant=body.variant
    )
    return json_response(obj.promoted(await prompts.call(prompts.stub.PromoteExperimentVariant, request)))


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
) -> Response:
    """`start`, `pause`, `resume` or `complete`; 409 for a move the status does not allow."""
    request = pb.SetExperimentStatusRequest(
        tenant_id=principal.tenant_id, id=experiment_id, status=ACTIONS[action]
    )
    response = await prompts.call(prompts.stub.SetExperimentStatus, request)
    return json_response(obj.experiment(response.experiment))


@router.delete(
    "/{experiment_id}", responses=documented(Deleted, 404, 409, *UPSTREAM), summary="Delete an experiment"
)
async def delete_experiment(experiment_id: str, principal: CurrentPrincipal, prompts: Prompts) -> Response:
    """Deletes an experiment that is not running."""
    request = pb.DeleteExperimentRequest(tenant_id=principal.tenant_id, id=experiment_id)
    await prompts.call(prompts.stub.DeleteExperiment, request)
    return json_response(deleted(experiment_id, "experiment.deleted"))
