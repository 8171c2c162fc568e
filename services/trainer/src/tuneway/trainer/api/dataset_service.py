"""Datasets as the trainer knows them: registered by the gateway, validated on request, forgotten."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tuneway.core.errors import InvalidArgumentError, NotFoundError
from tuneway.trainer import domain as d
from tuneway.trainer.dataset_preparation import prepare, report_dict
from tuneway.trainer.foundation_model import FoundationModel
from tuneway.trainer.hyperparams import check_hyperparameters, resolve
from tuneway.trainer.models import DatasetRow
from tuneway.trainer.repository import datasets as dataset_repo


class DatasetService:
    """RegisterDataset, ValidateDataset and DeleteDataset."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], base: FoundationModel, max_seq_length: int
    ) -> None:
        self._sessions = sessions
        self._base = base
        self._max_seq_length = max_seq_length

    async def register(self, dataset: d.Dataset) -> d.Dataset:
        """Records a stored file (idempotent on its id: a repeat returns the first record)."""
        tenant = d.check_tenant(dataset.tenant_id)
        if not dataset.file_id or not dataset.uri:
            raise InvalidArgumentError("dataset.file_id and dataset.uri are required.", param="dataset")
        async with self._sessions() as s, s.begin():
            row = await dataset_repo.get_dataset(s, tenant, dataset.file_id)
            if row is None:
                row = DatasetRow(
                    tenant_id=tenant,
                    file_id=dataset.file_id,
                    filename=dataset.filename,
                    uri=dataset.uri,
                    sha256=dataset.sha256,
                    bytes=dataset.bytes,
                    created_at=dataset.created_at,
                )
                s.add(row)
            return dataset_repo.dataset_of(row)

    async def validate(
        self, tenant_id: str, file_id: str, model: str, cleaning: d.Cleaning, hyper: d.Hyperparameters
    ) -> dict[str, Any]:
        """The cleaning and validation report (a dict mirroring the proto message); trains nothing."""
        base = self._base.check(model)
        check_hyperparameters(hyper)
        dataset = await self._get(tenant_id, file_id)
        prepared = await prepare(self._base, dataset, cleaning, self._max_seq_length, 0, split=True)
        steps = resolve(hyper, len(prepared.train)).total_steps if prepared.report.ok else 0
        return report_dict(prepared, base, self._max_seq_length, steps)

    async def delete(self, tenant_id: str, file_id: str) -> None:
        """Forgets a dataset; deleting one the trainer does not know is not an error (idempotent)."""
        async with self._sessions() as s, s.begin():
            await dataset_repo.delete_dataset(s, d.check_tenant(tenant_id), file_id)

    async def _get(self, tenant_id: str, file_id: str) -> d.Dataset:
        async with self._sessions() as s:
            row = await dataset_repo.get_dataset(s, d.check_tenant(tenant_id), file_id)
        if row is None:
            raise NotFoundError(f"No such File object: {file_id}", param="file_id")
        return dataset_repo.dataset_of(row)
