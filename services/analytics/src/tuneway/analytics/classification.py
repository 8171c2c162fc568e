"""Query types of completion events: each tenant's effective types, the classifier, one call per tenant."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tuneway.analytics.query_types.classifier import Classification, QueryClassifier
from tuneway.analytics.query_types.taxonomy import QueryTypeDefinition, effective_types
from tuneway.analytics.repository import tenants
from tuneway.api.events.v1 import events_pb2


class TenantClassifier:
    """Classifies texts with the tenant's types as the store holds them now."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], classifier: QueryClassifier) -> None:
        self._sessions = sessions
        self._classifier = classifier

    async def types(self, tenant_id: str) -> tuple[QueryTypeDefinition, ...]:
        async with self._sessions() as session:
            own = await tenants.query_types(session, tenant_id)
        return effective_types([QueryTypeDefinition(name, tuple(examples)) for name, examples in own])

    async def classify(self, tenant_id: str, texts: Sequence[str]) -> list[Classification]:
        return list(await self._classifier.classify(tenant_id, await self.types(tenant_id), texts))

    async def classify_events(self, events: Sequence[events_pb2.CompletionEvent]) -> list[str]:
        """The query type of each event's last user message, in order ("" when it has none)."""
        positions: dict[str, list[int]] = defaultdict(list)
        for position, event in enumerate(events):
            positions[event.tenant_id].append(position)
        query_types = [""] * len(events)
        for tenant_id, indexes in positions.items():
            results = await self.classify(tenant_id, [events[i].last_user_message for i in indexes])
            for index, result in zip(indexes, results, strict=True):
                query_types[index] = result.query_type
        return query_types
