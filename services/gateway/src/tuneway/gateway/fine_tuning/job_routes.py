"""/v1/fine_tuning/jobs (OpenAI-compatible): create, list, retrieve, cancel, events (+ SSE), checkpoints."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query
from starlette.responses import Response

from tuneway.api.trainer.v1 import trainer_pb2 as pb
from tuneway.gateway.deps import CurrentPrincipal, Files, Settings, Trainer
from tuneway.gateway.fine_tuning.job_events import event_stream
from tuneway.gateway.fine_tuning.responses import (
    FineTuningJob,
    JobCheckpoint,
    JobEvent,
    checkpoint_object,
    event_object,
    job_object,
)
from tuneway.gateway.fine_tuning.schemas import CreateJob
from tuneway.gateway.http import Page, json_response, page
from tuneway.gateway.openapi import UPSTREAM, documented
from tuneway.gateway.streaming import event_stream_response

router = APIRouter(prefix="/v1/fine_tuning/jobs", tags=["fine-tuning"])

Limit = Annotated[int, Query(ge=1, le=100)]


@router.post("", responses=documented(FineTuningJob, 404, *UPSTREAM), summary="Create a fine-tuning job")
async def create_job(
    body: CreateJob, principal: CurrentPrincipal, files: Files, trainer: Trainer
) -> Response:
    """Validates the files, then queues LoRA supervised fine-tuning of `model` on `training_file`."""
    # Checked here too, so a wrong or foreign file id is a 400 naming the field before any work starts.
    await files.require_fine_tune(principal.tenant_id, body.training_file, "training_file")
    if body.validation_file:
        await files.require_fine_tune(principal.tenant_id, body.validation_file, "validation_file")
    request = body.to_proto(principal.tenant_id)
    return json_response(job_object((await trainer.call(trainer.stub.CreateJob, request)).job))


@router.get("", responses=documented(Page[FineTuningJob], *UPSTREAM), summary="List fine-tuning jobs")
async def list_jobs(
    principal: CurrentPrincipal, trainer: Trainer, after: str = "", limit: Limit = 20
) -> Response:
    """The tenant's jobs, newest first; `after` is the last job id of the previous page."""
    request = pb.ListJobsRequest(tenant_id=principal.tenant_id, after=after, limit=limit)
    response = await trainer.call(trainer.stub.ListJobs, request)
    return json_response(page([job_object(j) for j in response.jobs], response.has_more))


@router.get(
    "/{fine_tuning_job_id}",
    responses=documented(FineTuningJob, 404, *UPSTREAM),
    summary="Retrieve a fine-tuning job",
)
async def retrieve_job(fine_tuning_job_id: str, principal: CurrentPrincipal, trainer: Trainer) -> Response:
    """One job; another tenant's job is 404 like a missing one."""
    request = pb.GetJobRequest(tenant_id=principal.tenant_id, job_id=fine_tuning_job_id)
    return json_response(job_object((await trainer.call(trainer.stub.GetJob, request)).job))


@router.post(
    "/{fine_tuning_job_id}/cancel",
    responses=documented(FineTuningJob, 404, 409, *UPSTREAM),
    summary="Cancel a fine-tuning job",
)
async def cancel_job(fine_tuning_job_id: str, principal: CurrentPrincipal, trainer: Trainer) -> Response:
    """Cancels a job that has not finished; training stops within one step."""
    request = pb.CancelJobRequest(tenant_id=principal.tenant_id, job_id=fine_tuning_job_id)
    return json_response(job_object((await trainer.call(trainer.stub.CancelJob, request)).job))


@router.get(
    "/{fine_tuning_job_id}/events",
    responses=documented(Page[JobEvent], 404, *UPSTREAM, events=JobEvent),
    summary="List fine-tuning events",
    description="Newest first, as OpenAI's list. With `stream=true` or `Accept: text/event-stream` the "
    "events arrive oldest first as server-sent events, live until the job ends (tuneway extension); "
    "`Last-Event-ID` resumes after an event's sequence number.",
)
async def list_events(
    fine_tuning_job_id: str,
    principal: CurrentPrincipal,
    trainer: Trainer,
    settings: Settings,
    after: str = "",
    limit: Limit = 20,
    stream: bool = False,
    accept: Annotated[str, Header()] = "",
    last_event_id: Annotated[str, Header()] = "",
) -> Response:
    """A page of events, or their live SSE stream."""
    if stream or "text/event-stream" in accept:
        # Fails here, before the 200 starts, when the job is unknown or the trainer is down.
        await trainer.call(
            trainer.stub.GetJob, pb.GetJobRequest(tenant_id=principal.tenant_id, job_id=fine_tuning_job_id)
        )
        after_seq = int(last_event_id) if last_event_id.isdigit() else 0
        return event_stream_response(
            event_stream(
                trainer, principal.tenant_id, fine_tuning_job_id, after_seq, settings.sse_keepalive_seconds
            )
        )
    request = pb.ListJobEventsRequest(
        tenant_id=principal.tenant_id, job_id=fine_tuning_job_id, after=after, limit=limit
    )
    response = await trainer.call(trainer.stub.ListJobEvents, request)
    return json_response(page([event_object(e) for e in response.events], response.has_more))


@router.get(
    "/{fine_tuning_job_id}/checkpoints",
    responses=documented(Page[JobCheckpoint], 404, *UPSTREAM),
    summary="List fine-tuning checkpoints",
)
async def list_checkpoints(
    fine_tuning_job_id: str, principal: CurrentPrincipal, trainer: Trainer, after: str = "", limit: Limit = 10
) -> Response:
    """The job's checkpoints with their step and metrics."""
    request = pb.ListJobCheckpointsRequest(
        tenant_id=principal.tenant_id, job_id=fine_tuning_job_id, after=after, limit=limit
    )
    response = await trainer.call(trainer.stub.ListJobCheckpoints, request)
    return json_response(page([checkpoint_object(c) for c in response.checkpoints], response.has_more))
