"""Assistants: a base model, an optional adapter, a prompt label, parameters, channels, knowledge."""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Iterable
from dataclasses import asdict, replace

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tuneway.core.errors import AlreadyExistsError, InvalidArgumentError, NotFoundError
from tuneway.prompt_svc import repository as repo
from tuneway.prompt_svc.domain import (
    DEFAULT_LABEL,
    SELECTOR_RE,
    AssistantInfo,
    PromptSpec,
    check_label,
    check_name,
    check_spec_shape,
)
from tuneway.prompt_svc.invalidation import Invalidator
from tuneway.prompt_svc.models import AssistantRow
from tuneway.prompt_svc.prompts import load_prompt

# The fields UpdateAssistant may replace.
UPDATABLE = (
    "description",
    "base_model",
    "adapter",
    "prompt",
    "prompt_label",
    "parameters",
    "channels",
    "knowledge",
)


def _bad(message: str, param: str) -> InvalidArgumentError:
    return InvalidArgumentError(message, param=param, code="invalid_value")


def not_found(name: str, param: str = "name") -> NotFoundError:
    """The error for an assistant that does not exist (or belongs to another tenant)."""
    return NotFoundError(f"No assistant named {name!r}.", param=param, code="assistant_not_found")


def _check(assistant: AssistantInfo) -> AssistantInfo:
    check_name(assistant.name, "name")
    if not assistant.base_model or len(assistant.base_model) > 256:
        raise _bad("Invalid value for 'base_model': a model name of 1 to 256 characters.", "base_model")
    if len(assistant.adapter) > 256:
        raise _bad("Invalid value for 'adapter': at most 256 characters.", "adapter")
    check_label(assistant.prompt_label or DEFAULT_LABEL, "prompt_label", movable=False)
    # Parameters follow a prompt spec's rules; reuse its checks on an otherwise empty spec.
    check_spec_shape(PromptSpec(parameters=assistant.parameters))
    for i, channel in enumerate(assistant.channels):
        if not SELECTOR_RE.match(channel):
            raise _bad(
                f"Invalid value for 'channels[{i}]': use 1-32 of a-z, 0-9, '_', '-'.", f"channels[{i}]"
            )
    k = assistant.knowledge
    if not 0 <= k.top_k <= 100:
        raise _bad("Invalid value for 'knowledge.top_k': must be within [0, 100].", "knowledge.top_k")
    if not (math.isfinite(k.score_threshold) and 0 <= k.score_threshold <= 1):
        raise _bad(
            "Invalid value for 'knowledge.score_threshold': must be within [0, 1].",
            "knowledge.score_threshold",
        )
    return replace(assistant, prompt_label=assistant.prompt_label or DEFAULT_LABEL)


class AssistantDirectory:
    """Creates, reads, updates and deletes assistants; every write invalidates the tenant's caches."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], invalidator: Invalidator) -> None:
        self._sessions = sessions
        self._invalidator = invalidator

    async def create(self, tenant_id: str, assistant: AssistantInfo) -> AssistantInfo:
        """A new assistant; its prompt must exist in the tenant."""
        assistant = _check(assistant)
        now = int(time.time())
        async with self._sessions() as session:
            prompt = await load_prompt(session, tenant_id, assistant.prompt)
            if await repo.get_assistant(session, tenant_id, assistant.name) is not None:
                raise _exists(assistant.name)
            row = AssistantRow(id=f"asst_{uuid.uuid4().hex[:24]}", tenant_id=tenant_id, created_at=now)
            _fill(row, assistant, prompt.id, now)
            session.add(row)
            try:
                await session.commit()
            except IntegrityError as error:
                raise _exists(assistant.name) from error
        await self._invalidator.publish(tenant_id)
        return repo.assistant_info(row, prompt.name)

    async def get(self, tenant_id: str, name: str) -> AssistantInfo:
        """One assistant."""
        async with self._sessions() as session:
            row = await repo.get_assistant(session, tenant_id, name)
            if row is None:
                raise not_found(name)
            names = await repo.prompt_names(session, tenant_id, {row.prompt_id})
        return repo.assistant_info(row, names.get(row.prompt_id, ""))

    async def list(self, tenant_id: str) -> list[AssistantInfo]:
        """The tenant's assistants by name."""
        async with self._sessions() as session:
            rows = await repo.list_assistants(session, tenant_id)
            names = await repo.prompt_names(session, tenant_id, {r.prompt_id for r in rows})
        return [repo.assistant_info(r, names.get(r.prompt_id, "")) for r in rows]

    async def update(
        self, tenant_id: str, name: str, changes: AssistantInfo, fields: Iterable[str]
    ) -> AssistantInfo:
        """Replaces `fields` (all updatable ones when empty) with `changes`' values."""
        fields = list(fields) or list(UPDATABLE)
        for field in fields:
            if field not in UPDATABLE:
                raise _bad(f"Invalid value for 'update_mask': {field!r} cannot be updated.", "update_mask")
        async with self._sessions() as session:
            row = await repo.get_assistant(session, tenant_id, name)
            if row is None:
                raise not_found(name)
            names = await repo.prompt_names(session, tenant_id, {row.prompt_id})
            current = repo.assistant_info(row, names.get(row.prompt_id, ""))
            merged = _check(replace(current, **{f: getattr(changes, f) for f in fields}))
            prompt = await load_prompt(session, tenant_id, merged.prompt)
            now = int(time.time())
            _fill(row, merged, prompt.id, now)
            await session.commit()
        await self._invalidator.publish(tenant_id)
        return repo.assistant_info(row, prompt.name)

    async def delete(self, tenant_id: str, name: str) -> str:
        """Deletes an assistant; returns its id."""
        async with self._sessions() as session:
            row = await repo.get_assistant(session, tenant_id, name)
            if row is None:
                raise not_found(name)
            await session.delete(row)
            await session.commit()
        await self._invalidator.publish(tenant_id)
        return row.id


def _exists(name: str) -> AlreadyExistsError:
    return AlreadyExistsError(
        f"An assistant named {name!r} already exists.", param="name", code="assistant_exists"
    )


def _fill(row: AssistantRow, assistant: AssistantInfo, prompt_id: str, now: int) -> None:
    row.name = assistant.name
    row.description = assistant.description
    row.base_model = assistant.base_model
    row.adapter = assistant.adapter
    row.prompt_id = prompt_id
    row.prompt_label = assistant.prompt_label
    row.parameters = {**asdict(assistant.parameters), "stop": list(assistant.parameters.stop)}
    row.channels = list(assistant.channels)
    row.knowledge = {
        **asdict(assistant.knowledge),
        "knowledge_base_ids": list(assistant.knowledge.knowledge_base_ids),
    }
    row.updated_at = now
