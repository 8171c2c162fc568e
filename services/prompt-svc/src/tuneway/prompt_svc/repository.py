"""Queries of the prompt service's tables (every one filtered by tenant) and row -> domain values."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tuneway.prompt_svc.domain import (
    AssistantInfo,
    ExperimentArm,
    ExperimentInfo,
    Knowledge,
    Parameters,
    PromptInfo,
    PromptSpec,
    VersionInfo,
)
from tuneway.prompt_svc.models import AssistantRow, ExperimentRow, LabelRow, PromptRow, VersionRow


async def get_prompt(session: AsyncSession, tenant_id: str, name: str) -> PromptRow | None:
    """The tenant's prompt called `name`."""
    query = select(PromptRow).where(PromptRow.tenant_id == tenant_id, PromptRow.name == name)
    return (await session.execute(query)).scalar_one_or_none()


async def get_prompt_by_id(session: AsyncSession, tenant_id: str, prompt_id: str) -> PromptRow | None:
    """The tenant's prompt with id `prompt_id`."""
    query = select(PromptRow).where(PromptRow.tenant_id == tenant_id, PromptRow.id == prompt_id)
    return (await session.execute(query)).scalar_one_or_none()


async def list_prompts(session: AsyncSession, tenant_id: str) -> list[PromptRow]:
    """The tenant's prompts by name."""
    query = select(PromptRow).where(PromptRow.tenant_id == tenant_id).order_by(PromptRow.name)
    return list((await session.execute(query)).scalars())


async def labels(session: AsyncSession, tenant_id: str, prompt_ids: list[str]) -> dict[str, dict[str, int]]:
    """prompt id -> label -> version, for the given prompts."""
    query = select(LabelRow).where(LabelRow.tenant_id == tenant_id, LabelRow.prompt_id.in_(prompt_ids))
    result: dict[str, dict[str, int]] = {pid: {} for pid in prompt_ids}
    for row in (await session.execute(query)).scalars():
        result[row.prompt_id][row.name] = row.version
    return result


async def get_label(session: AsyncSession, tenant_id: str, prompt_id: str, name: str) -> LabelRow | None:
    """One label of a prompt."""
    query = select(LabelRow).where(
        LabelRow.tenant_id == tenant_id, LabelRow.prompt_id == prompt_id, LabelRow.name == name
    )
    return (await session.execute(query)).scalar_one_or_none()


async def get_version(
    session: AsyncSession, tenant_id: str, prompt_id: str, version: int
) -> VersionRow | None:
    """One version of a prompt."""
    query = select(VersionRow).where(
        VersionRow.tenant_id == tenant_id, VersionRow.prompt_id == prompt_id, VersionRow.version == version
    )
    return (await session.execute(query)).scalar_one_or_none()


async def list_versions(session: AsyncSession, tenant_id: str, prompt_id: str) -> list[VersionRow]:
    """Every version of a prompt, oldest first."""
    query = (
        select(VersionRow)
        .where(VersionRow.tenant_id == tenant_id, VersionRow.prompt_id == prompt_id)
        .order_by(VersionRow.version)
    )
    return list((await session.execute(query)).scalars())


async def get_experiment(session: AsyncSession, tenant_id: str, experiment_id: str) -> ExperimentRow | None:
    """One experiment."""
    query = select(ExperimentRow).where(
        ExperimentRow.tenant_id == tenant_id, ExperimentRow.id == experiment_id
    )
    return (await session.execute(query)).scalar_one_or_none()


async def list_experiments(
    session: AsyncSession, tenant_id: str, prompt_id: str | None = None, status: str | None = None
) -> list[ExperimentRow]:
    """The tenant's experiments, newest first, optionally of one prompt and/or status."""
    query = select(ExperimentRow).where(ExperimentRow.tenant_id == tenant_id)
    if prompt_id is not None:
        query = query.where(ExperimentRow.prompt_id == prompt_id)
    if status is not None:
        query = query.where(ExperimentRow.status == status)
    query = query.order_by(ExperimentRow.created_at.desc(), ExperimentRow.id)
    return list((await session.execute(query)).scalars())


async def running_experiment(
    session: AsyncSession, tenant_id: str, prompt_id: str, label: str
) -> ExperimentRow | None:
    """The experiment splitting this label's traffic now, if any."""
    query = select(ExperimentRow).where(
        ExperimentRow.tenant_id == tenant_id,
        ExperimentRow.prompt_id == prompt_id,
        ExperimentRow.label == label,
        ExperimentRow.status == "running",
    )
    return (await session.execute(query)).scalars().first()


async def get_assistant(session: AsyncSession, tenant_id: str, name: str) -> AssistantRow | None:
    """The tenant's assistant called `name`."""
    query = select(AssistantRow).where(AssistantRow.tenant_id == tenant_id, AssistantRow.name == name)
    return (await session.execute(query)).scalar_one_or_none()


async def list_assistants(session: AsyncSession, tenant_id: str) -> list[AssistantRow]:
    """The tenant's assistants by name."""
    query = select(AssistantRow).where(AssistantRow.tenant_id == tenant_id).order_by(AssistantRow.name)
    return list((await session.execute(query)).scalars())


async def assistants_using(session: AsyncSession, tenant_id: str, prompt_id: str) -> list[str]:
    """Names of the assistants that use a prompt."""
    query = select(AssistantRow.name).where(
        AssistantRow.tenant_id == tenant_id, AssistantRow.prompt_id == prompt_id
    )
    return list((await session.execute(query)).scalars())


async def prompt_names(session: AsyncSession, tenant_id: str, prompt_ids: set[str]) -> dict[str, str]:
    """prompt id -> name."""
    query = select(PromptRow.id, PromptRow.name).where(
        PromptRow.tenant_id == tenant_id, PromptRow.id.in_(prompt_ids)
    )
    return {row.id: row.name for row in await session.execute(query)}


async def delete_prompt(session: AsyncSession, tenant_id: str, prompt_id: str) -> None:
    """Deletes a prompt with its versions, labels and experiments (SQLite does not cascade by default)."""
    for table in (ExperimentRow, LabelRow, VersionRow):
        await session.execute(delete(table).where(table.tenant_id == tenant_id, table.prompt_id == prompt_id))
    await session.execute(
        delete(PromptRow).where(PromptRow.tenant_id == tenant_id, PromptRow.id == prompt_id)
    )


async def max_version(session: AsyncSession, tenant_id: str, prompt_id: str) -> int:
    """The highest version number of a prompt (0 without versions)."""
    query = select(func.max(VersionRow.version)).where(
        VersionRow.tenant_id == tenant_id, VersionRow.prompt_id == prompt_id
    )
    return int((await session.execute(query)).scalar() or 0)


def prompt_info(row: PromptRow, label_map: dict[str, int]) -> PromptInfo:
    """The domain value of a prompt row."""
    return PromptInfo(
        id=row.id,
        tenant_id=row.tenant_id,
        name=row.name,
        description=row.description,
        template=row.template,
        latest_version=row.latest_version,
        labels=dict(sorted(label_map.items())),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def version_info(row: VersionRow, prompt_name: str, label_map: dict[str, int]) -> VersionInfo:
    """The domain value of a version row; `label_map` is its prompt's labels."""
    return VersionInfo(
        prompt_id=row.prompt_id,
        prompt_name=prompt_name,
        version=row.version,
        spec=PromptSpec.from_json(row.spec),
        description=row.description,
        labels=tuple(sorted(name for name, version in label_map.items() if version == row.version)),
        created_at=row.created_at,
    )


def experiment_info(row: ExperimentRow, prompt_name: str) -> ExperimentInfo:
    """The domain value of an experiment row."""
    return ExperimentInfo(
        id=row.id,
        tenant_id=row.tenant_id,
        name=row.name,
        description=row.description,
        prompt_id=row.prompt_id,
        prompt_name=prompt_name,
        label=row.label,
        variants=tuple(ExperimentArm(**arm) for arm in row.variants),
        status=row.status,
        winner=row.winner,
        created_at=row.created_at,
        started_at=row.started_at,
        ended_at=row.ended_at,
    )


def assistant_info(row: AssistantRow, prompt_name: str) -> AssistantInfo:
    """The domain value of an assistant row."""
    params = row.parameters
    knowledge = row.knowledge
    return AssistantInfo(
        id=row.id,
        tenant_id=row.tenant_id,
        name=row.name,
        description=row.description,
        base_model=row.base_model,
        adapter=row.adapter,
        prompt=prompt_name,
        prompt_label=row.prompt_label,
        parameters=Parameters(**{**params, "stop": tuple(params.get("stop", ()))}),
        channels=tuple(row.channels),
        knowledge=Knowledge(
            knowledge_base_ids=tuple(knowledge.get("knowledge_base_ids", ())),
            top_k=knowledge.get("top_k", 0),
            score_threshold=knowledge.get("score_threshold", 0.0),
        ),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
