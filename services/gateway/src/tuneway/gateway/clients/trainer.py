"""gRPC client of the trainer: datasets, jobs, events, checkpoints, adapter registry and schedules."""

from __future__ import annotations

from tuneway.api.trainer.v1 import trainer_pb2 as pb
from tuneway.api.trainer.v1 import trainer_pb2_grpc
from tuneway.gateway.clients.base import ServiceClient


class TrainerClient(ServiceClient[trainer_pb2_grpc.TrainerServiceStub]):
    """TrainerService with the default deadline, except dataset validation, which gets a longer one."""

    def __init__(self, target: str, rpc_timeout: float, validation_timeout: float) -> None:
        super().__init__(target, "trainer", rpc_timeout, trainer_pb2_grpc.TrainerServiceStub)
        self._validation_timeout = validation_timeout

    async def validate_dataset(self, request: pb.ValidateDatasetRequest) -> pb.ValidationReport:
        """The cleaning and validation report of a dataset; nothing is trained."""
        response: pb.ValidateDatasetResponse = await self.call(
            self.stub.ValidateDataset, request, self._validation_timeout
        )
        return response.report
