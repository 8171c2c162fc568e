"""The prompt layer's domain services, wired together (no gRPC here)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tuneway.prompt_svc.assistants import AssistantDirectory
from tuneway.prompt_svc.cache import TenantCache
from tuneway.prompt_svc.experiments import ExperimentManager
from tuneway.prompt_svc.invalidation import Invalidator
from tuneway.prompt_svc.language import LanguageDetector
from tuneway.prompt_svc.prompts import PromptCatalog
from tuneway.prompt_svc.render_pipeline import Renderer
from tuneway.prompt_svc.sandbox import Limits, PromptSandbox


@dataclass(frozen=True)
class PromptService:
    """Prompts and versions, experiments, assistants and the renderer, sharing one store and cache."""

    prompts: PromptCatalog
    experiments: ExperimentManager
    assistants: AssistantDirectory
    renderer: Renderer

    @classmethod
    def build(
        cls,
        sessions: async_sessionmaker[AsyncSession],
        limits: Limits,
        cache: TenantCache,
        invalidator: Invalidator,
        detector: LanguageDetector,
    ) -> PromptService:
        """Wires the parts over one sandbox and one cache."""
        env = PromptSandbox(limits)
        prompts = PromptCatalog(sessions, env, invalidator)
        return cls(
            prompts=prompts,
            experiments=ExperimentManager(sessions, prompts, invalidator),
            assistants=AssistantDirectory(sessions, invalidator),
            renderer=Renderer(sessions, cache, env, limits, detector),
        )
