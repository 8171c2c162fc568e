"""The analytics service's decisions: validation, then the reader or store that answers."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tuneway.analytics.classification import TenantClassifier
from tuneway.analytics.domain import EventPage, Slice, Summary, TenantSettings, TimeseriesPoint, Window
from tuneway.analytics.drill_down import EventBrowser
from tuneway.analytics.experiments import ExperimentReader, ExperimentResults
from tuneway.analytics.query_types.classifier import Classification
from tuneway.analytics.query_types.taxonomy import (
    DEFAULT_QUERY_TYPES,
    QueryTypeDefinition,
    validate_query_type,
)
from tuneway.analytics.repository import tenants
from tuneway.analytics.summaries import SummaryReader
from tuneway.core.errors import InvalidArgumentError, NotFoundError

MAX_CLASSIFY_TEXTS = 1000


@dataclass
class AnalyticsService:
    sessions: async_sessionmaker[AsyncSession]
    summaries: SummaryReader
    browser: EventBrowser
    experiments: ExperimentReader
    classifier: TenantClassifier
    threshold: float

    @classmethod
    def build(
        cls,
        sessions: async_sessionmaker[AsyncSession],
        classifier: TenantClassifier,
        *,
        threshold: float,
        min_sample_default: int,
    ) -> AnalyticsService:
        return cls(
            sessions,
            SummaryReader(sessions),
            EventBrowser(sessions),
            ExperimentReader(sessions, min_sample_default),
            classifier,
            threshold,
        )

    async def summary(self, query: Slice) -> Summary:
        return await self.summaries.summary(query)

    async def timeseries(self, query: Slice, interval: str) -> list[TimeseriesPoint]:
        return await self.summaries.timeseries(query, interval)

    async def events(
        self, tenant_id: str, window: Window, filters: dict[str, str], limit: int, cursor: str
    ) -> EventPage:
        return await self.browser.page(tenant_id, window, filters, limit, cursor)

    async def experiment_results(
        self,
        tenant_id: str,
        experiment_id: str,
        arms: Sequence[tuple[str, float]],
        control: str,
        min_sample: int,
    ) -> ExperimentResults:
        return await self.experiments.results(tenant_id, experiment_id, arms, control, min_sample)

    async def query_types(self, tenant_id: str) -> tuple[QueryTypeDefinition, ...]:
        return await self.classifier.types(tenant_id)

    async def put_query_type(self, tenant_id: str, name: str, examples: Sequence[str]) -> QueryTypeDefinition:
        validate_query_type(name, examples)
        async with self.sessions() as session, session.begin():
            await tenants.put_query_type(session, tenant_id, name, list(examples), int(time.time() * 1000))
        return QueryTypeDefinition(name, tuple(examples))

    async def delete_query_type(self, tenant_id: str, name: str) -> None:
        """Deletes the tenant's own type; a default the tenant did not replace cannot be deleted."""
        async with self.sessions() as session, session.begin():
            deleted = await tenants.delete_query_type(session, tenant_id, name)
        if deleted:
            return
        if any(default.name == name for default in DEFAULT_QUERY_TYPES):
            raise InvalidArgumentError(
                f"{name!r} is a default query type; put a type of that name to replace it instead.",
                param="name",
            )
        raise NotFoundError(f"No query type named {name!r}.", param="name")

    async def classify(self, tenant_id: str, texts: Sequence[str]) -> list[Classification]:
        if len(texts) > MAX_CLASSIFY_TEXTS:
            raise InvalidArgumentError(f"texts holds at most {MAX_CLASSIFY_TEXTS} texts.", param="texts")
        return await self.classifier.classify(tenant_id, texts)

    async def settings(self, tenant_id: str) -> TenantSettings:
        async with self.sessions() as session:
            return (await tenants.settings(session, [tenant_id]))[tenant_id]

    async def update_settings(self, tenant_id: str, value: TenantSettings) -> TenantSettings:
        async with self.sessions() as session, session.begin():
            await tenants.put_settings(session, tenant_id, value)
        return value
