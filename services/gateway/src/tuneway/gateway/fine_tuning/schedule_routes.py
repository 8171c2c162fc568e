"""Retraining schedules (tuneway extension): cron-driven fine-tuning jobs."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from tuneway.api.trainer.v1 import trainer_pb2 as pb
from tuneway.gateway.deps import CurrentPrincipal, Files, Trainer
from tuneway.gateway.fine_tuning.responses import Schedule, schedule_object
from tuneway.gateway.fine_tuning.schemas import CreateSchedule
from tuneway.gateway.http import Deleted, ListObject, deleted, json_response, list_object
from tuneway.gateway.openapi import UPSTREAM, documented

router = APIRouter(prefix="/v1/fine_tuning/schedules", tags=["fine-tuning schedules"])


@router.post("", responses=documented(Schedule, *UPSTREAM), summary="Create a retraining schedule")
async def create_schedule(
    body: CreateSchedule, principal: CurrentPrincipal, files: Files, trainer: Trainer
) -> Response:
    """Each firing creates a job on `training_file`, or on the newest file named `training_filename`."""
    schedule = body.to_proto(principal.tenant_id)
    if body.training_file:
        await files.require_fine_tune(principal.tenant_id, body.training_file, "training_file")
    request = pb.CreateScheduleRequest(schedule=schedule)
    response = await trainer.call(trainer.stub.CreateSchedule, request)
    return json_response(schedule_object(response.schedule))


@router.get("", responses=documented(ListObject[Schedule], *UPSTREAM), summary="List retraining schedules")
async def list_schedules(principal: CurrentPrincipal, trainer: Trainer) -> Response:
    """The tenant's schedules."""
    request = pb.ListSchedulesRequest(tenant_id=principal.tenant_id)
    response = await trainer.call(trainer.stub.ListSchedules, request)
    return json_response(list_object([schedule_object(s) for s in response.schedules]))


@router.get(
    "/{schedule_id}", responses=documented(Schedule, 404, *UPSTREAM), summary="Retrieve a retraining schedule"
)
async def get_schedule(schedule_id: str, principal: CurrentPrincipal, trainer: Trainer) -> Response:
    """One schedule, or 404."""
    request = pb.GetScheduleRequest(tenant_id=principal.tenant_id, schedule_id=schedule_id)
    response = await trainer.call(trainer.stub.GetSchedule, request)
    return json_response(schedule_object(response.schedule))


@router.post(
    "/{schedule_id}/pause",
    responses=documented(Schedule, 404, 409, *UPSTREAM),
    summary="Pause a retraining schedule",
)
async def pause_schedule(schedule_id: str, principal: CurrentPrincipal, trainer: Trainer) -> Response:
    """Stops the schedule firing until resumed."""
    request = pb.PauseScheduleRequest(tenant_id=principal.tenant_id, schedule_id=schedule_id)
    response = await trainer.call(trainer.stub.PauseSchedule, request)
    return json_response(schedule_object(response.schedule))


@router.post(
    "/{schedule_id}/resume",
    responses=documented(Schedule, 404, 409, *UPSTREAM),
    summary="Resume a retraining schedule",
)
async def resume_schedule(schedule_id: str, principal: CurrentPrincipal, trainer: Trainer) -> Response:
    """Lets a paused schedule fire again from its next cron time."""
    request = pb.ResumeScheduleRequest(tenant_id=principal.tenant_id, schedule_id=schedule_id)
    response = await trainer.call(trainer.stub.ResumeSchedule, request)
    return json_response(schedule_object(response.schedule))


@router.delete(
    "/{schedule_id}", responses=documented(Deleted, 404, *UPSTREAM), summary="Delete a retraining schedule"
)
async def delete_schedule(schedule_id: str, principal: CurrentPrincipal, trainer: Trainer) -> Response:
    """Deletes the schedule; jobs it created stay."""
    request = pb.DeleteScheduleRequest(tenant_id=principal.tenant_id, schedule_id=schedule_id)
    await trainer.call(trainer.stub.DeleteSchedule, request)
    return json_response(deleted(schedule_id, "fine_tuning.schedule"))
