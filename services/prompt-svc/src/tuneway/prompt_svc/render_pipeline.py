"""The render pipeline: assistant -> experiment arm or label -> version -> variant -> messages (the
Renderer service behind RenderPrompt; compiled_version.py turns one compiled version into messages)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tuneway.core.errors import DomainError, FailedPreconditionError, InvalidArgumentError, NotFoundError
from tuneway.prompt_svc import repository as repo
from tuneway.prompt_svc.assistants import not_found as assistant_not_found
from tuneway.prompt_svc.cache import MISSING, LruCache, TenantCache
from tuneway.prompt_svc.compiled_version import CompiledVersion, Turn, compile_version, render_conversation
from tuneway.prompt_svc.domain import (
    DEFAULT_LABEL,
    LATEST,
    AssistantInfo,
    ExperimentInfo,
    Knowledge,
    Parameters,
    PromptSpec,
)
from tuneway.prompt_svc.language import LanguageDetector
from tuneway.prompt_svc.metrics import LANGUAGE_DETECTIONS, RENDER_SECONDS, RENDERS
from tuneway.prompt_svc.prompts import prompt_not_found
from tuneway.prompt_svc.sandbox import Limits, PromptSandbox
from tuneway.prompt_svc.selection import assign_arm, variant_chain


@dataclass(frozen=True)
class RenderRequest:
    tenant_id: str
    assistant: str = ""
    prompt: str = ""
    version: int = 0
    label: str = ""
    messages: tuple[Turn, ...] = ()
    variables: dict[str, str] = field(default_factory=dict)
    user: str = ""
    conversation_id: str = ""
    language: str = ""
    channel: str = ""
    tone: str = ""


@dataclass(frozen=True)
class RenderResult:
    messages: list[Turn]
    parameters: Parameters
    model: str
    prompt_id: str
    prompt_name: str
    version: int
    label: str
    variant: str
    language: str
    language_detected: bool
    experiment_id: str = ""
    experiment_variant: str = ""
    assistant: str = ""
    knowledge: Knowledge | None = None


@dataclass(frozen=True)
class _PromptRef:
    id: str
    name: str
    latest_version: int


class Renderer:
    """Serves RenderPrompt; in steady state it reads only caches, never the database."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        cache: TenantCache,
        env: PromptSandbox,
        limits: Limits,
        detector: LanguageDetector,
    ) -> None:
        self._sessions = sessions
        self._cache = cache
        self._env = env
        self._limits = limits
        self._detector = detector
        self._compiled = LruCache(1024)

    async def render(self, request: RenderRequest) -> RenderResult:
        """Resolves, assigns, selects and renders; errors are DomainErrors naming the field."""
        started = time.perf_counter()
        kind = "assistant" if request.assistant else "prompt"
        try:
            result = await self._render(request)
        except DomainError as error:
            outcome = "not_found" if isinstance(error, NotFoundError) else "invalid"
            RENDERS.labels(outcome, kind).inc()
            raise
        except Exception:
            RENDERS.labels("error", kind).inc()
            raise
        RENDERS.labels("ok", kind).inc()
        RENDER_SECONDS.observe(time.perf_counter() - started)
        return result

    async def _render(self, request: RenderRequest) -> RenderResult:
        tenant = request.tenant_id
        assistant: AssistantInfo | None = None
        experiment: ExperimentInfo | None = None
        arm_name, model, label = "", "", ""
        if request.assistant:
            assistant = await self._assistant(tenant, request.assistant)
            if assistant.channels and request.channel and request.channel not in assistant.channels:
                raise InvalidArgumentError(
                    f"The assistant {assistant.name!r} does not serve the channel {request.channel!r} "
                    f"(it serves {', '.join(assistant.channels)}).",
                    param="metadata.channel",
                    code="invalid_value",
                )
            prompt = await self._prompt(tenant, assistant.prompt, "assistant")
            label = assistant.prompt_label
            model = assistant.adapter or assistant.base_model
            experiment = await self._experiment(tenant, prompt.id, label)
        elif request.prompt:
            prompt = await self._prompt(tenant, request.prompt, "prompt")
            label = "" if request.version else (request.label or DEFAULT_LABEL)
        else:
            raise InvalidArgumentError("Name an assistant or a prompt to render.", param="assistant")
        if experiment is not None:
            # The assignment unit: the user, else the conversation; without either every request is
            # a fresh draw, so clients that want stable answers send one of them.
            unit = request.user or request.conversation_id or uuid.uuid4().hex
            arm = assign_arm(experiment.id, unit, experiment.variants)
            number, arm_name, model = arm.version, arm.name, arm.model or model
        elif request.version:
            number = request.version
        else:
            number = await self._label(tenant, prompt, label)
        compiled = await self._version(tenant, prompt, number)
        language, detected = request.language.lower(), False
        if not language and compiled.needs_language:
            last_user = next((t.content for t in reversed(request.messages) if t.role == "user"), "")
            found = self._detector.detect(last_user)
            LANGUAGE_DETECTIONS.labels(found or "unknown").inc()
            language, detected = found or "", found is not None
        channel, tone = request.channel.lower(), request.tone.lower()
        chain = variant_chain(compiled.spec.variants, language, channel, tone)
        builtins = {"language": language, "channel": channel, "tone": tone, "user": request.user}
        messages = render_conversation(
            compiled, chain, request.variables, builtins, request.messages, self._limits
        )
        parameters = compiled.spec.parameters
        if assistant is not None:
            parameters = assistant.parameters.over(parameters)
        return RenderResult(
            messages=messages,
            parameters=parameters,
            model=model,
            prompt_id=prompt.id,
            prompt_name=prompt.name,
            version=number,
            label=label,
            variant=compiled.spec.variants[chain[0]].key() if chain else "default",
            language=language,
            language_detected=detected,
            experiment_id=experiment.id if experiment else "",
            experiment_variant=arm_name,
            assistant=assistant.name if assistant else "",
            knowledge=assistant.knowledge if assistant else None,
        )

    async def _assistant(self, tenant: str, name: str) -> AssistantInfo:
        cached = self._cache.get(tenant, ("assistant", name))
        if cached is not MISSING:
            return cached  # type: ignore[no-any-return]
        generation = self._cache.generation(tenant)
        async with self._sessions() as session:
            row = await repo.get_assistant(session, tenant, name)
            if row is None:
                raise assistant_not_found(name, "model")
            names = await repo.prompt_names(session, tenant, {row.prompt_id})
        info = repo.assistant_info(row, names.get(row.prompt_id, ""))
        self._cache.put(tenant, ("assistant", name), info, generation)
        return info

    async def _prompt(self, tenant: str, name: str, param: str) -> _PromptRef:
        cached = self._cache.get(tenant, ("prompt", name))
        if cached is not MISSING:
            return cached  # type: ignore[no-any-return]
        generation = self._cache.generation(tenant)
        async with self._sessions() as session:
            row = await repo.get_prompt(session, tenant, name)
        if row is None:
            raise prompt_not_found(name, param)
        ref = _PromptRef(row.id, row.name, row.latest_version)
        self._cache.put(tenant, ("prompt", name), ref, generation)
        return ref

    async def _experiment(self, tenant: str, prompt_id: str, label: str) -> ExperimentInfo | None:
        key = ("experiment", prompt_id, label)
        cached = self._cache.get(tenant, key)
        if cached is not MISSING:
            return cached  # type: ignore[no-any-return]
        generation = self._cache.generation(tenant)
        async with self._sessions() as session:
            row = await repo.running_experiment(session, tenant, prompt_id, label)
        info = repo.experiment_info(row, "") if row is not None else None
        self._cache.put(tenant, key, info, generation)
        return info

    async def _label(self, tenant: str, prompt: _PromptRef, label: str) -> int:
        if label == LATEST:
            if not prompt.latest_version:
                raise FailedPreconditionError(f"Prompt {prompt.name!r} has no versions yet.", param="prompt")
            return prompt.latest_version
        key = ("label", prompt.id, label)
        cached = self._cache.get(tenant, key)
        if cached is not MISSING:
            return cached  # type: ignore[no-any-return]
        generation = self._cache.generation(tenant)
        async with self._sessions() as session:
            row = await repo.get_label(session, tenant, prompt.id, label)
        if row is None:
            raise FailedPreconditionError(
                f"Prompt {prompt.name!r} has no label {label!r}; point it at a version first.",
                param="label",
                code="label_not_found",
            )
        self._cache.put(tenant, key, row.version, generation)
        return row.version

    async def _version(self, tenant: str, prompt: _PromptRef, number: int) -> CompiledVersion:
        # Versions never change, so a compiled one stays valid for as long as it is kept.
        key = (prompt.id, number)
        cached = self._compiled.get(key)
        if cached is not MISSING:
            return cached  # type: ignore[no-any-return]
        async with self._sessions() as session:
            row = await repo.get_version(session, tenant, prompt.id, number)
        if row is None:
            raise NotFoundError(f"Prompt {prompt.name!r} has no version {number}.", param="version")
        compiled = compile_version(self._env, PromptSpec.from_json(row.spec))
        self._compiled.put(key, compiled)
        return compiled
