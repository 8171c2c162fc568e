"""Retraining schedules (tuneway extension): cron-driven fine-tuning jobs."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from tuneway.api.trainer.v1 import trainer_pb2 as pb
from tuneway.gateway.audit.service import read_before
from tuneway.gateway.clients.trainer import TrainerClient
from tuneway.gateway.deps import AuditTrail, CurrentPrincipal, Files, Trainer
from tuneway.gateway.fine_tuning.responses import Schedule, schedule_object
from tuneway.gateway.fine_tuning.schemas import CreateSchedule
from tuneway.gateway.http import Deleted, ListObject, deleted, json_response, list_object
from tuneway.gateway.openapi import UPSTREAM, documented

router = APIRouter(prefix="/v1/fine_tuning/schedules", tags=["fine-tuning schedules"])


async def _read_schedule(trainer: TrainerClient, tenant_id: str, schedule_id: str) -> Schedule:
    """The schedule as GET /v1/fine_tuning/schedules/{id} shows it."""
    request = pb.GetScheduleRequest(tenant_id=tenant_id, schedule_id=schedule_id)
    return schedule_object((await trainer.call(trainer.stub.GetSchedule, request)).schedule)


@router.post("", responses=documented(Schedule, *UPSTREAM), summary="Create a retraining schedule")
async def create_schedule(
    body: CreateSchedule, principal: CurrentPrincipal, files: Files, trainer: Trainer, audit: AuditTrail
) -> Response:
    """Each firing creates a job on `training_file`, or on the newest file named `training_filename`."""
    schedule = body.to_proto(principal.tenant_id)
    if body.training_file:
        await files.require_fine_tune(principal.tenant_id, body.training_file, "training_file")
    request = pb.CreateScheduleRequest(schedule=schedule)
    response = await trainer.call(trainer.stub.CreateSchedule, request)
    created = schedule_object(response.schedule)
    await audit.record(principal, "schedule.created", "schedule", created["id"], None, created)
    return json_response(created)


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
    return json_response(await _read_schedule(trainer, principal.tenant_id, schedule_id))


@router.post(
    "/{schedule_id}/pause",
    responses=documented(Schedule, 404, 409, *UPSTREAM),
    summary="Pause a retraining schedule",
)
async def pause_schedule(
    schedule_id: str, principal: CurrentPrincipal, trainer: Trainer, audit: AuditTrail
) -> Response:
    """Stops the schedule firing until resumed."""
    before = await read_before(_read_schedule(trainer, principal.tenant_id, schedule_id))
    request = pb.PauseScheduleRequest(tenant_id=principal.tenant_id, schedule_id=schedule_id)
    after = schedule_object((await trainer.call(trainer.stub.PauseSchedule, request)).schedule)
    await audit.record(principal, "schedule.paused", "schedule", schedule_id, before, after)
    return json_response(after)


@router.post(
    "/{schedule_id}/resume",
    responses=documented(Schedule, 404, 409, *UPSTREAM),
    summary="Resume a retraining schedule",
)
async def resume_schedule(
    schedule_id: str, principal: CurrentPrincipal, trainer: Trainer, audit: AuditTrail
) -> Response:
    """Lets a paused schedule fire again from its next cron time."""
    before = await read_before(_read_schedule(trainer, principal.tenant_id, schedule_id))
    request = pb.ResumeScheduleRequest(tenant_id=principal.tenant_id, schedule_id=schedule_id)
    after = schedule_object((await trainer.call(trainer.stub.ResumeSchedule, request)).schedule)
    await audit.record(principal, "schedule.resumed", "schedule", schedule_id, before, after)
    return json_response(after)


@router.delete(
    "/{schedule_id}", responses=documented(Deleted, 404, *UPSTREAM), summary="Delete a retraining schedule"
)
async def delete_schedule(
    schedule_id: str, principal: CurrentPrincipal, trainer: Trainer, audit: AuditTrail
) -> Response:
    """Deletes the schedule; jobs it created stay."""
    before = await read_before(_read_schedule(trainer, principal.tenant_id, schedule_id))
    request = pb.DeleteScheduleRequest(tenant_id=principal.tenant_id, schedule_id=schedule_id)
    await trainer.call(trainer.stub.DeleteSchedule, request)
    await audit.record(principal, "schedule.deleted", "schedule", schedule_id, before, None)
    return json_response(deleted(schedule_id, "fine_tuning.schedule"))
