"""A/B/n experiments between prompt versions: lifecycle and promotion of the winner."""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tuneway.core.errors import FailedPreconditionError, InvalidArgumentError, NotFoundError
from tuneway.prompt_svc import repository as repo
from tuneway.prompt_svc.domain import (
    DEFAULT_LABEL,
    LABEL_RE,
    ExperimentArm,
    ExperimentInfo,
    PromptInfo,
    check_label,
)
from tuneway.prompt_svc.invalidation import Invalidator
from tuneway.prompt_svc.models import ExperimentRow
from tuneway.prompt_svc.prompts import PromptCatalog, load_prompt

STATUSES = ("draft", "running", "paused", "completed")
# Allowed moves; completed is final.
TRANSITIONS = {
    "draft": {"running", "completed"},
    "running": {"paused", "completed"},
    "paused": {"running", "completed"},
    "completed": set(),
}
MAX_ARMS = 10


def _bad(message: str, param: str) -> InvalidArgumentError:
    return InvalidArgumentError(message, param=param, code="invalid_value")


def _not_found(experiment_id: str) -> NotFoundError:
    return NotFoundError(f"No experiment with id {experiment_id!r}.", param="id", code="experiment_not_found")


def _check_arms(arms: Sequence[ExperimentArm]) -> None:
    if not 2 <= len(arms) <= MAX_ARMS:
        raise _bad(f"An experiment needs 2 to {MAX_ARMS} variants.", "variants")
    names = set()
    for i, arm in enumerate(arms):
        if not LABEL_RE.match(arm.name):
            raise _bad(
                f"Invalid value for 'variants[{i}].name': use 1-32 of a-z, 0-9, '_', '.', '-'.",
                f"variants[{i}].name",
            )
        if arm.name in names:
            raise _bad(f"Variant name {arm.name!r} is used twice.", f"variants[{i}].name")
        names.add(arm.name)
        if not (math.isfinite(arm.weight) and arm.weight > 0):
            raise _bad(
                f"Invalid value for 'variants[{i}].weight': must be a positive number.",
                f"variants[{i}].weight",
            )
        if len(arm.model) > 256:
            raise _bad(
                f"Invalid value for 'variants[{i}].model': at most 256 characters.", f"variants[{i}].model"
            )


class ExperimentManager:
    """Creates experiments and moves them through draft -> running <-> paused -> completed."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], catalog: PromptCatalog, invalidator: Invalidator
    ) -> None:
        self._sessions = sessions
        self._catalog = catalog
        self._invalidator = invalidator

    async def create(
        self,
        tenant_id: str,
        name: str,
        prompt: str,
        arms: Sequence[ExperimentArm],
        label: str = "",
        description: str = "",
    ) -> ExperimentInfo:
        """A draft experiment splitting `label`'s traffic of `prompt` between versions."""
        if not 1 <= len(name) <= 128:
            raise _bad("Invalid value for 'name': 1 to 128 characters.", "name")
        label = check_label(label or DEFAULT_LABEL)
        _check_arms(arms)
        async with self._sessions() as session:
            row = await load_prompt(session, tenant_id, prompt)
            for i, arm in enumerate(arms):
                if await repo.get_version(session, tenant_id, row.id, arm.version) is None:
                    raise NotFoundError(
                        f"Prompt {prompt!r} has no version {arm.version}.", param=f"variants[{i}].version"
                    )
            experiment = ExperimentRow(
                id=f"exp_{uuid.uuid4().hex[:24]}",
                tenant_id=tenant_id,
                prompt_id=row.id,
                name=name,
                description=description,
                label=label,
                variants=[asdict(arm) for arm in arms],
                status="draft",
                winner="",
                created_at=int(time.time()),
                started_at=0,
                ended_at=0,
            )
            session.add(experiment)
            await session.commit()
        return repo.experiment_info(experiment, row.name)

    async def get(self, tenant_id: str, experiment_id: str) -> ExperimentInfo:
        """One experiment."""
        async with self._sessions() as session:
            row = await repo.get_experiment(session, tenant_id, experiment_id)
            if row is None:
                raise _not_found(experiment_id)
            names = await repo.prompt_names(session, tenant_id, {row.prompt_id})
        return repo.experiment_info(row, names.get(row.prompt_id, ""))

    async def list(self, tenant_id: str, prompt: str = "", status: str = "") -> list[ExperimentInfo]:
        """The tenant's experiments, newest first."""
        if status and status not in STATUSES:
            raise _bad(f"Invalid value for 'status': expected one of {', '.join(STATUSES)}.", "status")
        async with self._sessions() as session:
            prompt_id = (await load_prompt(session, tenant_id, prompt)).id if prompt else None
            rows = await repo.list_experiments(session, tenant_id, prompt_id, status or None)
            names = await repo.prompt_names(session, tenant_id, {r.prompt_id for r in rows})
        return [repo.experiment_info(r, names.get(r.prompt_id, "")) for r in rows]

    async def set_status(self, tenant_id: str, experiment_id: str, status: str) -> ExperimentInfo:
        """Starts, pauses, resumes or completes an experiment."""
        if status not in STATUSES:
            raise _bad(f"Invalid value for 'status': expected one of {', '.join(STATUSES)}.", "status")
        async with self._sessions() as session:
            row = await repo.get_experiment(session, tenant_id, experiment_id)
            if row is None:
                raise _not_found(experiment_id)
            _check_transition(row, status)
            if status == "running":
                other = await repo.running_experiment(session, tenant_id, row.prompt_id, row.label)
                if other is not None and other.id != row.id:
                    raise FailedPreconditionError(
                        f"Experiment {other.id!r} already splits the label {row.label!r}; pause or "
                        "complete it.",
                        param="status",
                        code="experiment_conflict",
                    )
            _apply_status(row, status)
            await session.commit()
            names = await repo.prompt_names(session, tenant_id, {row.prompt_id})
        await self._invalidator.publish(tenant_id)
        return repo.experiment_info(row, names.get(row.prompt_id, ""))

    async def promote(
        self, tenant_id: str, experiment_id: str, variant: str
    ) -> tuple[ExperimentInfo, PromptInfo]:
        """Moves the experiment's label to the winner's version and completes the experiment."""
        async with self._sessions() as session:
            row = await repo.get_experiment(session, tenant_id, experiment_id)
            if row is None:
                raise _not_found(experiment_id)
            arm = next((a for a in row.variants if a["name"] == variant), None)
            if arm is None:
                raise NotFoundError(
                    f"Experiment {experiment_id!r} has no variant {variant!r}.", param="variant"
                )
            if row.status == "draft":
                raise FailedPreconditionError(
                    "A draft experiment has no results to promote; start it first.",
                    param="id",
                    code="invalid_status_transition",
                )
            prompt = await repo.get_prompt_by_id(session, tenant_id, row.prompt_id)
            prompt_name = prompt.name if prompt is not None else ""
        prompt_info, _ = await self._catalog.set_label(tenant_id, prompt_name, row.label, arm["version"])
        async with self._sessions() as session:
            row = await repo.get_experiment(session, tenant_id, experiment_id)
            if row is None:
                raise _not_found(experiment_id)
            if row.status != "completed":
                _apply_status(row, "completed")
            row.winner = variant
            await session.commit()
        await self._invalidator.publish(tenant_id)
        return repo.experiment_info(row, prompt_name), prompt_info

    async def delete(self, tenant_id: str, experiment_id: str) -> None:
        """Deletes an experiment that is not running."""
        async with self._sessions() as session:
            row = await repo.get_experiment(session, tenant_id, experiment_id)
            if row is None:
                raise _not_found(experiment_id)
            if row.status == "running":
                raise FailedPreconditionError(
                    "A running experiment cannot be deleted; pause or complete it first.",
                    param="id",
                    code="experiment_running",
                )
            await session.delete(row)
            await session.commit()
        await self._invalidator.publish(tenant_id)


def _check_transition(row: ExperimentRow, status: str) -> None:
    if status == row.status:
        return
    if status not in TRANSITIONS[row.status]:
        raise FailedPreconditionError(
            f"An experiment cannot go from {row.status} to {status}.",
            param="status",
            code="invalid_status_transition",
        )


def _apply_status(row: ExperimentRow, status: str) -> None:
    now = int(time.time())
    if status == "running" and not row.started_at:
        row.started_at = now
    if status == "completed":
        row.ended_at = now
    row.status = status
