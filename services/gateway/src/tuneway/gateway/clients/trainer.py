"""gRPC client of the trainer: datasets, jobs, events, checkpoints, adapter registry and schedules."""

from __future__ import annotations

from collections.abc import AsyncGenerator

from tuneway.api.trainer.v1 import trainer_pb2 as pb
from tuneway.api.trainer.v1 import trainer_pb2_grpc
from tuneway.gateway.clients.base import ServiceClient


class TrainerClient(ServiceClient):
    """Calls the trainer service with deadlines; failures surface as domain errors."""

    def __init__(self, target: str, rpc_timeout: float, validation_timeout: float) -> None:
        super().__init__(target, "trainer", rpc_timeout)
        self._stub = trainer_pb2_grpc.TrainerServiceStub(self._channel)
        self._validation_timeout = validation_timeout

    # ------------------------------------------------------------------ datasets

    async def register_dataset(self, dataset: pb.Dataset) -> pb.Dataset:
        """Tells the trainer about a stored fine-tune file (idempotent on file_id)."""
        request = pb.RegisterDatasetRequest(dataset=dataset)
        response: pb.RegisterDatasetResponse = await self._call(self._stub.RegisterDataset, request)
        return response.dataset

    async def validate_dataset(self, request: pb.ValidateDatasetRequest) -> pb.ValidationReport:
        """The cleaning and validation report of a dataset; nothing is trained."""
        response: pb.ValidateDatasetResponse = await self._call(
            self._stub.ValidateDataset, request, self._validation_timeout
        )
        return response.report

    async def delete_dataset(self, tenant_id: str, file_id: str) -> None:
        """Makes the trainer forget a dataset whose file was deleted."""
        await self._call(
            self._stub.DeleteDataset, pb.DeleteDatasetRequest(tenant_id=tenant_id, file_id=file_id)
        )

    # ------------------------------------------------------------------ jobs

    async def create_job(self, request: pb.CreateJobRequest) -> pb.Job:
        """Creates a fine-tuning job (validated and queued by the trainer)."""
        response: pb.CreateJobResponse = await self._call(self._stub.CreateJob, request)
        return response.job

    async def get_job(self, tenant_id: str, job_id: str) -> pb.Job:
        """One of the tenant's jobs."""
        response: pb.GetJobResponse = await self._call(
            self._stub.GetJob, pb.GetJobRequest(tenant_id=tenant_id, job_id=job_id)
        )
        return response.job

    async def list_jobs(self, tenant_id: str, after: str, limit: int) -> pb.ListJobsResponse:
        """A page of the tenant's jobs, newest first."""
        request = pb.ListJobsRequest(tenant_id=tenant_id, after=after, limit=limit)
        response: pb.ListJobsResponse = await self._call(self._stub.ListJobs, request)
        return response

    async def cancel_job(self, tenant_id: str, job_id: str) -> pb.Job:
        """Cancels a job; training stops within one step."""
        response: pb.CancelJobResponse = await self._call(
            self._stub.CancelJob, pb.CancelJobRequest(tenant_id=tenant_id, job_id=job_id)
        )
        return response.job

    async def list_job_events(
        self, tenant_id: str, job_id: str, after: str, limit: int
    ) -> pb.ListJobEventsResponse:
        """A page of a job's events, newest first."""
        request = pb.ListJobEventsRequest(tenant_id=tenant_id, job_id=job_id, after=after, limit=limit)
        response: pb.ListJobEventsResponse = await self._call(self._stub.ListJobEvents, request)
        return response

    def watch_job_events(
        self, tenant_id: str, job_id: str, after_seq: int
    ) -> AsyncGenerator[pb.WatchJobEventsResponse, None]:
        """A job's events oldest first from `after_seq`, then live until the job ends; no deadline.
        Closing it early (the HTTP client went away) stops the server-side watch too."""
        request = pb.WatchJobEventsRequest(tenant_id=tenant_id, job_id=job_id, after_seq=after_seq)
        return self._stream(lambda: self._stub.WatchJobEvents(request))

    async def list_job_checkpoints(
        self, tenant_id: str, job_id: str, after: str, limit: int
    ) -> pb.ListJobCheckpointsResponse:
        """A page of a job's checkpoints."""
        request = pb.ListJobCheckpointsRequest(tenant_id=tenant_id, job_id=job_id, after=after, limit=limit)
        response: pb.ListJobCheckpointsResponse = await self._call(self._stub.ListJobCheckpoints, request)
        return response

    # ------------------------------------------------------------------ adapter registry

    async def list_adapter_versions(
        self, tenant_id: str, name: str, include_retired: bool
    ) -> list[pb.AdapterVersion]:
        """The tenant's adapter versions, of one family if `name` is set."""
        request = pb.ListAdapterVersionsRequest(
            tenant_id=tenant_id, name=name, include_retired=include_retired
        )
        response: pb.ListAdapterVersionsResponse = await self._call(self._stub.ListAdapterVersions, request)
        return list(response.versions)

    async def get_adapter_version(self, tenant_id: str, model: str) -> pb.AdapterVersion:
        """One adapter version by its model name."""
        request = pb.GetAdapterVersionRequest(tenant_id=tenant_id, model=model)
        response: pb.GetAdapterVersionResponse = await self._call(self._stub.GetAdapterVersion, request)
        return response.version

    async def retire_adapter_version(self, tenant_id: str, model: str) -> pb.AdapterVersion:
        """Retires a version: every inference replica unloads it."""
        request = pb.RetireAdapterVersionRequest(tenant_id=tenant_id, model=model)
        response: pb.RetireAdapterVersionResponse = await self._call(self._stub.RetireAdapterVersion, request)
        return response.version

    async def set_adapter_alias(self, tenant_id: str, alias: str, target: str) -> pb.AdapterAlias:
        """Points an alias at a version, creating it if needed."""
        request = pb.SetAdapterAliasRequest(tenant_id=tenant_id, alias=alias, target=target)
        response: pb.SetAdapterAliasResponse = await self._call(self._stub.SetAdapterAlias, request)
        return response.alias

    async def rollback_adapter_alias(self, tenant_id: str, alias: str) -> pb.AdapterAlias:
        """Moves an alias back to its previous target."""
        request = pb.RollbackAdapterAliasRequest(tenant_id=tenant_id, alias=alias)
        response: pb.RollbackAdapterAliasResponse = await self._call(self._stub.RollbackAdapterAlias, request)
        return response.alias

    async def list_adapter_aliases(self, tenant_id: str) -> list[pb.AdapterAlias]:
        """The tenant's aliases."""
        request = pb.ListAdapterAliasesRequest(tenant_id=tenant_id)
        response: pb.ListAdapterAliasesResponse = await self._call(self._stub.ListAdapterAliases, request)
        return list(response.aliases)

    async def delete_adapter_alias(self, tenant_id: str, alias: str) -> None:
        """Deletes an alias (its versions stay)."""
        await self._call(
            self._stub.DeleteAdapterAlias, pb.DeleteAdapterAliasRequest(tenant_id=tenant_id, alias=alias)
        )

    # ------------------------------------------------------------------ schedules

    async def create_schedule(self, schedule: pb.Schedule) -> pb.Schedule:
        """Creates a retraining schedule."""
        response: pb.CreateScheduleResponse = await self._call(
            self._stub.CreateSchedule, pb.CreateScheduleRequest(schedule=schedule)
        )
        return response.schedule

    async def get_schedule(self, tenant_id: str, schedule_id: str) -> pb.Schedule:
        """One of the tenant's schedules."""
        request = pb.GetScheduleRequest(tenant_id=tenant_id, schedule_id=schedule_id)
        response: pb.GetScheduleResponse = await self._call(self._stub.GetSchedule, request)
        return response.schedule

    async def list_schedules(self, tenant_id: str) -> list[pb.Schedule]:
        """The tenant's schedules."""
        response: pb.ListSchedulesResponse = await self._call(
            self._stub.ListSchedules, pb.ListSchedulesRequest(tenant_id=tenant_id)
        )
        return list(response.schedules)

    async def pause_schedule(self, tenant_id: str, schedule_id: str) -> pb.Schedule:
        """Stops a schedule firing until resumed."""
        request = pb.PauseScheduleRequest(tenant_id=tenant_id, schedule_id=schedule_id)
        response: pb.PauseScheduleResponse = await self._call(self._stub.PauseSchedule, request)
        return response.schedule

    async def resume_schedule(self, tenant_id: str, schedule_id: str) -> pb.Schedule:
        """Lets a paused schedule fire again."""
        request = pb.ResumeScheduleRequest(tenant_id=tenant_id, schedule_id=schedule_id)
        response: pb.ResumeScheduleResponse = await self._call(self._stub.ResumeSchedule, request)
        return response.schedule

    async def delete_schedule(self, tenant_id: str, schedule_id: str) -> None:
        """Deletes a schedule."""
        request = pb.DeleteScheduleRequest(tenant_id=tenant_id, schedule_id=schedule_id)
        await self._call(self._stub.DeleteSchedule, request)

    # ------------------------------------------------------------------ lifecycle
