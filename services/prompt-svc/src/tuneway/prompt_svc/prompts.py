"""Prompts, their immutable versions and movable labels."""

from __future__ import annotations

import difflib
import json
import time
import uuid
from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tuneway.core.errors import (
    AlreadyExistsError,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
)
from tuneway.prompt_svc import repository as repo
from tuneway.prompt_svc.compiled_version import compile_version
from tuneway.prompt_svc.domain import (
    DEFAULT_LABEL,
    LATEST,
    PromptInfo,
    PromptSpec,
    VersionInfo,
    check_label,
    check_name,
    check_spec_shape,
    normalise_spec,
)
from tuneway.prompt_svc.invalidation import Invalidator
from tuneway.prompt_svc.models import LabelRow, PromptRow, VersionRow
from tuneway.prompt_svc.role_templates import get_template
from tuneway.prompt_svc.sandbox import PromptSandbox


def prompt_not_found(name: str, param: str = "prompt") -> NotFoundError:
    """The error for a prompt that does not exist (or belongs to another tenant)."""
    return NotFoundError(f"No prompt named {name!r}.", param=param, code="prompt_not_found")


async def load_prompt(session: AsyncSession, tenant_id: str, name: str, param: str = "prompt") -> PromptRow:
    """The tenant's prompt, or NotFoundError."""
    row = await repo.get_prompt(session, tenant_id, name)
    if row is None:
        raise prompt_not_found(name, param)
    return row


async def resolve_version(session: AsyncSession, prompt: PromptRow, version: int, label: str) -> int:
    """A version number from a number, or a label (`latest` included), or NotFoundError."""
    if version:
        return version
    label = label or DEFAULT_LABEL
    if label == LATEST:
        if not prompt.latest_version:
            raise NotFoundError(f"Prompt {prompt.name!r} has no versions yet.", param="version")
        return prompt.latest_version
    row = await repo.get_label(session, prompt.tenant_id, prompt.id, label)
    if row is None:
        raise NotFoundError(
            f"Prompt {prompt.name!r} has no label {label!r}.", param="label", code="label_not_found"
        )
    return row.version


class PromptCatalog:
    """Creates and reads prompts, versions and labels; every write invalidates the tenant's caches."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], env: PromptSandbox, invalidator: Invalidator
    ) -> None:
        self._sessions = sessions
        self._env = env
        self._invalidator = invalidator

    def validate(self, spec: PromptSpec) -> PromptSpec:
        """The spec, normalised, once its shape and every template pass; else a 400 naming the field."""
        if not spec.messages:
            raise InvalidArgumentError(
                "A prompt version needs at least one message (e.g. the system instruction).",
                param="messages",
                code="missing_required_parameter",
            )
        check_spec_shape(spec)
        spec = normalise_spec(spec)
        compile_version(self._env, spec)
        return spec

    async def create_prompt(
        self,
        tenant_id: str,
        name: str,
        description: str = "",
        template: str = "",
        spec: PromptSpec | None = None,
        version_description: str = "",
    ) -> PromptInfo:
        """A new prompt; from a role template or a spec it gets version 1, labelled production."""
        check_name(name, "name")
        if template and spec is not None:
            raise InvalidArgumentError(
                "Give either 'template' or a first version, not both.", param="template", code="invalid_value"
            )
        if template:
            spec = get_template(template).spec
            version_description = version_description or f"Created from the role template {template!r}."
        if spec is not None:
            spec = self.validate(spec)
        now = int(time.time())
        prompt = PromptRow(
            id=f"prompt_{uuid.uuid4().hex[:24]}",
            tenant_id=tenant_id,
            name=name,
            description=description,
            template=template,
            latest_version=1 if spec is not None else 0,
            created_at=now,
            updated_at=now,
        )
        async with self._sessions() as session:
            if await repo.get_prompt(session, tenant_id, name) is not None:
                raise _exists(name)
            session.add(prompt)
            if spec is not None:
                await session.flush()  # the prompt row first: PostgreSQL checks foreign keys per statement
                session.add(_version_row(prompt, 1, spec, version_description, now))
                session.add(
                    LabelRow(
                        prompt_id=prompt.id,
                        name=DEFAULT_LABEL,
                        tenant_id=tenant_id,
                        version=1,
                        updated_at=now,
                    )
                )
            try:
                await session.commit()
            except IntegrityError as error:
                raise _exists(name) from error
        await self._invalidator.publish(tenant_id)
        return repo.prompt_info(prompt, {DEFAULT_LABEL: 1} if spec is not None else {})

    async def get_prompt(self, tenant_id: str, name: str) -> PromptInfo:
        """One prompt with its labels."""
        async with self._sessions() as session:
            row = await load_prompt(session, tenant_id, name, "name")
            label_map = await repo.labels(session, tenant_id, [row.id])
        return repo.prompt_info(row, label_map[row.id])

    async def list_prompts(self, tenant_id: str) -> list[PromptInfo]:
        """The tenant's prompts by name."""
        async with self._sessions() as session:
            rows = await repo.list_prompts(session, tenant_id)
            label_map = await repo.labels(session, tenant_id, [r.id for r in rows])
        return [repo.prompt_info(r, label_map[r.id]) for r in rows]

    async def delete_prompt(self, tenant_id: str, name: str) -> str:
        """Deletes a prompt and its versions, labels and experiments; refused while assistants use it."""
        async with self._sessions() as session:
            row = await load_prompt(session, tenant_id, name, "name")
            users = await repo.assistants_using(session, tenant_id, row.id)
            if users:
                raise FailedPreconditionError(
                    f"Prompt {name!r} is used by the assistant {users[0]!r}; change or delete it first.",
                    param="name",
                    code="prompt_in_use",
                )
            if await repo.list_experiments(session, tenant_id, row.id, "running"):
                raise FailedPreconditionError(
                    f"Prompt {name!r} has a running experiment; complete it first.",
                    param="name",
                    code="prompt_in_use",
                )
            await repo.delete_prompt(session, tenant_id, row.id)
            await session.commit()
        await self._invalidator.publish(tenant_id)
        return row.id

    async def create_version(
        self, tenant_id: str, prompt: str, spec: PromptSpec, description: str = "", labels: Sequence[str] = ()
    ) -> VersionInfo:
        """Stores the next version (numbers never repeat) and points `labels` at it."""
        spec = self.validate(spec)
        for label in labels:
            check_label(label, "labels")
        for _ in range(5):  # concurrent writers race for the next number; the unique key decides
            now = int(time.time())
            async with self._sessions() as session:
                row = await load_prompt(session, tenant_id, prompt)
                number = await repo.max_version(session, tenant_id, row.id) + 1
                session.add(_version_row(row, number, spec, description, now))
                row.latest_version = number
                row.updated_at = now
                for label in labels:
                    await _move_label(session, row, label, number, now)
                try:
                    await session.commit()
                except IntegrityError:
                    continue
            await self._invalidator.publish(tenant_id)
            return VersionInfo(row.id, row.name, number, spec, description, tuple(sorted(labels)), now)
        raise FailedPreconditionError("Too many concurrent versions; retry.", param="prompt", code="conflict")

    async def get_version(
        self, tenant_id: str, prompt: str, version: int = 0, label: str = ""
    ) -> VersionInfo:
        """A version by number, or the one a label points at."""
        async with self._sessions() as session:
            row = await load_prompt(session, tenant_id, prompt)
            number = await resolve_version(session, row, version, label)
            version_row = await repo.get_version(session, tenant_id, row.id, number)
            if version_row is None:
                raise NotFoundError(f"Prompt {prompt!r} has no version {number}.", param="version")
            label_map = (await repo.labels(session, tenant_id, [row.id]))[row.id]
        return repo.version_info(version_row, row.name, label_map)

    async def list_versions(self, tenant_id: str, prompt: str) -> list[VersionInfo]:
        """Every version, oldest first."""
        async with self._sessions() as session:
            row = await load_prompt(session, tenant_id, prompt)
            rows = await repo.list_versions(session, tenant_id, row.id)
            label_map = (await repo.labels(session, tenant_id, [row.id]))[row.id]
        return [repo.version_info(v, row.name, label_map) for v in rows]

    async def set_label(
        self, tenant_id: str, prompt: str, label: str, version: int
    ) -> tuple[PromptInfo, int]:
        """Points `label` at `version`; returns the prompt and where the label pointed before (0: new)."""
        check_label(label)
        async with self._sessions() as session:
            row = await load_prompt(session, tenant_id, prompt)
            if await repo.get_version(session, tenant_id, row.id, version) is None:
                raise NotFoundError(f"Prompt {prompt!r} has no version {version}.", param="version")
            previous = await _move_label(session, row, label, version, int(time.time()))
            await session.commit()
            label_map = (await repo.labels(session, tenant_id, [row.id]))[row.id]
        await self._invalidator.publish(tenant_id)
        return repo.prompt_info(row, label_map), previous

    async def delete_label(self, tenant_id: str, prompt: str, label: str) -> PromptInfo:
        """Removes a label; refused while an assistant or a running experiment uses it."""
        async with self._sessions() as session:
            row = await load_prompt(session, tenant_id, prompt)
            label_row = await repo.get_label(session, tenant_id, row.id, label)
            if label_row is None:
                raise NotFoundError(f"Prompt {prompt!r} has no label {label!r}.", param="label")
            users = [a for a in await repo.list_assistants(session, tenant_id) if a.prompt_id == row.id]
            if any(a.prompt_label == label for a in users) or any(
                e.label == label for e in await repo.list_experiments(session, tenant_id, row.id, "running")
            ):
                raise FailedPreconditionError(
                    f"Label {label!r} is used by an assistant or a running experiment.",
                    param="label",
                    code="label_in_use",
                )
            await session.delete(label_row)
            await session.commit()
            label_map = (await repo.labels(session, tenant_id, [row.id]))[row.id]
        await self._invalidator.publish(tenant_id)
        return repo.prompt_info(row, label_map)

    async def diff(self, tenant_id: str, prompt: str, old: int, new: int) -> tuple[str, list[str]]:
        """A unified diff of two versions' canonical JSON, and the top-level fields that differ."""
        a = await self.get_version(tenant_id, prompt, old)
        b = await self.get_version(tenant_id, prompt, new)
        left, right = a.spec.to_json(), b.spec.to_json()
        lines = difflib.unified_diff(
            _canonical(left), _canonical(right), f"{prompt}@{old}", f"{prompt}@{new}", lineterm=""
        )
        return "\n".join(lines), [key for key in left if left[key] != right.get(key)]


def _canonical(data: dict[str, object]) -> list[str]:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False).splitlines()


def _exists(name: str) -> AlreadyExistsError:
    return AlreadyExistsError(f"A prompt named {name!r} already exists.", param="name", code="prompt_exists")


def _version_row(prompt: PromptRow, number: int, spec: PromptSpec, description: str, now: int) -> VersionRow:
    return VersionRow(
        tenant_id=prompt.tenant_id,
        prompt_id=prompt.id,
        version=number,
        spec=spec.to_json(),
        description=description,
        created_at=now,
    )


async def _move_label(session: AsyncSession, prompt: PromptRow, label: str, version: int, now: int) -> int:
    row = await repo.get_label(session, prompt.tenant_id, prompt.id, label)
    if row is None:
        session.add(
            LabelRow(
                prompt_id=prompt.id, name=label, tenant_id=prompt.tenant_id, version=version, updated_at=now
            )
        )
        return 0
    previous, row.version, row.updated_at = row.version, version, now
    return previous
