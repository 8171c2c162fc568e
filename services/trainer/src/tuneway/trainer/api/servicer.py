"""gRPC TrainerService: converts between protobuf and the domain services; no logic here."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TypeAlias

import grpc

from tuneway.api.trainer.v1 import trainer_pb2 as pb
from tuneway.api.trainer.v1 import trainer_pb2_grpc
from tuneway.trainer.api import convert
from tuneway.trainer.api.service import TrainerService

Ctx: TypeAlias = grpc.aio.ServicerContext


class TrainerServicer(trainer_pb2_grpc.TrainerServiceServicer):
    """Serves every TrainerService RPC."""

    def __init__(self, service: TrainerService) -> None:
        self._s = service

    # ---------------------------------------------------------------- datasets

    async def RegisterDataset(
        self, request: pb.RegisterDatasetRequest, context: Ctx
    ) -> pb.RegisterDatasetResponse:
        dataset = await self._s.datasets.register(convert.dataset_from(request.dataset))
        return pb.RegisterDatasetResponse(dataset=convert.dataset_to(dataset))

    async def ValidateDataset(
        self, request: pb.ValidateDatasetRequest, context: Ctx
    ) -> pb.ValidateDatasetResponse:
        report = await self._s.datasets.validate(
            request.tenant_id,
            request.file_id,
            request.model,
            convert.cleaning_from(request.cleaning),
            convert.hyperparameters_from(request.hyperparameters),
        )
        return pb.ValidateDatasetResponse(report=convert.report_to(report))

    async def DeleteDataset(self, request: pb.DeleteDatasetRequest, context: Ctx) -> pb.DeleteDatasetResponse:
        await self._s.datasets.delete(request.tenant_id, request.file_id)
        return pb.DeleteDatasetResponse()

    # ---------------------------------------------------------------- jobs

    async def CreateJob(self, request: pb.CreateJobRequest, context: Ctx) -> pb.CreateJobResponse:
        job = await self._s.jobs.create(convert.job_spec_from(request))
        return pb.CreateJobResponse(job=convert.job_to(job))

    async def GetJob(self, request: pb.GetJobRequest, context: Ctx) -> pb.GetJobResponse:
        return pb.GetJobResponse(
            job=convert.job_to(await self._s.jobs.get(request.tenant_id, request.job_id))
        )

    async def ListJobs(self, request: pb.ListJobsRequest, context: Ctx) -> pb.ListJobsResponse:
        jobs, more = await self._s.jobs.list_jobs(request.tenant_id, request.after, request.limit)
        return pb.ListJobsResponse(jobs=[convert.job_to(j) for j in jobs], has_more=more)

    async def CancelJob(self, request: pb.CancelJobRequest, context: Ctx) -> pb.CancelJobResponse:
        return pb.CancelJobResponse(
            job=convert.job_to(await self._s.jobs.cancel(request.tenant_id, request.job_id))
        )

    async def ListJobEvents(self, request: pb.ListJobEventsRequest, context: Ctx) -> pb.ListJobEventsResponse:
        events, more = await self._s.jobs.events(
            request.tenant_id, request.job_id, request.after, request.limit
        )
        return pb.ListJobEventsResponse(events=[convert.event_to(e) for e in events], has_more=more)

    async def WatchJobEvents(
        self, request: pb.WatchJobEventsRequest, context: Ctx
    ) -> AsyncIterator[pb.WatchJobEventsResponse]:
        async for event in self._s.jobs.watch(request.tenant_id, request.job_id, request.after_seq):
            yield pb.WatchJobEventsResponse(event=convert.event_to(event))

    async def ListJobCheckpoints(
        self, request: pb.ListJobCheckpointsRequest, context: Ctx
    ) -> pb.ListJobCheckpointsResponse:
        checkpoints, more = await self._s.jobs.checkpoints(
            request.tenant_id, request.job_id, request.after, request.limit
        )
        return pb.ListJobCheckpointsResponse(
            checkpoints=[convert.checkpoint_to(c) for c in checkpoints], has_more=more
        )

    # ---------------------------------------------------------------- adapter registry

    async def ListAdapterVersions(
        self, request: pb.ListAdapterVersionsRequest, context: Ctx
    ) -> pb.ListAdapterVersionsResponse:
        versions = await self._s.registry.list_versions(
            request.tenant_id, request.name, request.include_retired
        )
        return pb.ListAdapterVersionsResponse(versions=[convert.version_to(v) for v in versions])

    async def GetAdapterVersion(
        self, request: pb.GetAdapterVersionRequest, context: Ctx
    ) -> pb.GetAdapterVersionResponse:
        version = await self._s.registry.get_version(request.tenant_id, request.model)
        return pb.GetAdapterVersionResponse(version=convert.version_to(version))

    async def RetireAdapterVersion(
        self, request: pb.RetireAdapterVersionRequest, context: Ctx
    ) -> pb.RetireAdapterVersionResponse:
        version = await self._s.registry.retire(request.tenant_id, request.model)
        return pb.RetireAdapterVersionResponse(version=convert.version_to(version))

    async def SetAdapterAlias(
        self, request: pb.SetAdapterAliasRequest, context: Ctx
    ) -> pb.SetAdapterAliasResponse:
        alias = await self._s.registry.set_alias(request.tenant_id, request.alias, request.target)
        return pb.SetAdapterAliasResponse(alias=convert.alias_to(alias))

    async def RollbackAdapterAlias(
        self, request: pb.RollbackAdapterAliasRequest, context: Ctx
    ) -> pb.RollbackAdapterAliasResponse:
        alias = await self._s.registry.rollback_alias(request.tenant_id, request.alias)
        return pb.RollbackAdapterAliasResponse(alias=convert.alias_to(alias))

    async def ListAdapterAliases(
        self, request: pb.ListAdapterAliasesRequest, context: Ctx
    ) -> pb.ListAdapterAliasesResponse:
        aliases = await self._s.registry.list_aliases(request.tenant_id)
        return pb.ListAdapterAliasesResponse(aliases=[convert.alias_to(a) for a in aliases])

    async def DeleteAdapterAlias(
        self, request: pb.DeleteAdapterAliasRequest, context: Ctx
    ) -> pb.DeleteAdapterAliasResponse:
        await self._s.registry.delete_alias(request.tenant_id, request.alias)
        return pb.DeleteAdapterAliasResponse()

    # ---------------------------------------------------------------- schedules

    async def CreateSchedule(
        self, request: pb.CreateScheduleRequest, context: Ctx
    ) -> pb.CreateScheduleResponse:
        schedule = await self._s.schedules.create(convert.schedule_from(request.schedule))
        return pb.CreateScheduleResponse(schedule=convert.schedule_to(schedule))

    async def GetSchedule(self, request: pb.GetScheduleRequest, context: Ctx) -> pb.GetScheduleResponse:
        schedule = await self._s.schedules.get(request.tenant_id, request.schedule_id)
        return pb.GetScheduleResponse(schedule=convert.schedule_to(schedule))

    async def ListSchedules(self, request: pb.ListSchedulesRequest, context: Ctx) -> pb.ListSchedulesResponse:
        schedules = await self._s.schedules.list_schedules(request.tenant_id)
        return pb.ListSchedulesResponse(schedules=[convert.schedule_to(x) for x in schedules])

    async def PauseSchedule(self, request: pb.PauseScheduleRequest, context: Ctx) -> pb.PauseScheduleResponse:
        schedule = await self._s.schedules.pause(request.tenant_id, request.schedule_id)
        return pb.PauseScheduleResponse(schedule=convert.schedule_to(schedule))

    async def ResumeSchedule(
        self, request: pb.ResumeScheduleRequest, context: Ctx
    ) -> pb.ResumeScheduleResponse:
        schedule = await self._s.schedules.resume(request.tenant_id, request.schedule_id)
        return pb.ResumeScheduleResponse(schedule=convert.schedule_to(schedule))

    async def DeleteSchedule(
        self, request: pb.DeleteScheduleRequest, context: Ctx
    ) -> pb.DeleteScheduleResponse:
        await self._s.schedules.delete(request.tenant_id, request.schedule_id)
        return pb.DeleteScheduleResponse()
