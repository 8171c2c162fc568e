"""Retraining schedules (tuneway extension): cron-driven fine-tuning jobs."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter
from starlette.responses import Response

from tuneway.gateway.deps import CurrentPrincipal, Files, Trainer
from tuneway.gateway.fine_tuning.responses import schedule_object
from tuneway.gateway.fine_tuning.schemas import CreateSchedule

router = APIRouter(prefix="/v1/fine_tuning/schedules", tags=["fine-tuning schedules"])


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status, media_type="application/json")


@router.post("", summary="Create a retraining schedule")
async def create_schedule(
    body: CreateSchedule, principal: CurrentPrincipal, files: Files, trainer: Trainer
) -> Response:
    """Each firing creates a job on `training_file`, or on the newest file named `training_filename`."""
    schedule = body.to_proto(principal.tenant_id)
    if body.training_file:
        await files.require_fine_tune(principal.tenant_id, body.training_file, "training_file")
    return _json(schedule_object(await trainer.create_schedule(schedule)))


@router.get("", summary="List retraining schedules")
async def list_schedules(principal: CurrentPrincipal, trainer: Trainer) -> Response:
    """The tenant's schedules."""
    schedules = await trainer.list_schedules(principal.tenant_id)
    return _json({"object": "list", "data": [schedule_object(s) for s in schedules]})


@router.get("/{schedule_id}", summary="Retrieve a retraining schedule")
async def get_schedule(schedule_id: str, principal: CurrentPrincipal, trainer: Trainer) -> Response:
    """One schedule, or 404."""
    return _json(schedule_object(await trainer.get_schedule(principal.tenant_id, schedule_id)))


@router.post("/{schedule_id}/pause", summary="Pause a retraining schedule")
async def pause_schedule(schedule_id: str, principal: CurrentPrincipal, trainer: Trainer) -> Response:
    """Stops the schedule firing until resumed."""
    return _json(schedule_object(await trainer.pause_schedule(principal.tenant_id, schedule_id)))


@router.post("/{schedule_id}/resume", summary="Resume a retraining schedule")
async def resume_schedule(schedule_id: str, principal: CurrentPrincipal, trainer: Trainer) -> Response:
    """Lets a paused schedule fire again from its next cron time."""
    return _json(schedule_object(await trainer.resume_schedule(principal.tenant_id, schedule_id)))


@router.delete("/{schedule_id}", summary="Delete a retraining schedule")
async def delete_schedule(schedule_id: str, principal: CurrentPrincipal, trainer: Trainer) -> Response:
    """Deletes the schedule; jobs it created stay."""
    await trainer.delete_schedule(principal.tenant_id, schedule_id)
    return _json({"id": schedule_id, "object": "fine_tuning.schedule", "deleted": True})
