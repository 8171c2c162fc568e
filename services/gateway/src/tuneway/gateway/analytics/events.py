"""Analytics events as they leave the gateway: the subjects, the OutgoingEvent of a completion or a
feedback, and the sink handlers put them into (the publisher, or nothing when analytics is off)."""

from __future__ import annotations

from collections.abc import Callable

from tuneway.api.events.v1 import events_pb2 as epb
from tuneway.gateway.analytics.outbox import OutgoingEvent
from tuneway.gateway.models.catalog import BaseModels

COMPLETIONS_SUBJECT = "events.completions"
FEEDBACK_SUBJECT = "events.feedback"
# The last user message travels for classification only, cut to this many characters.
MAX_MESSAGE_CHARS = 2_000


class AnalyticsEvents:
    """Where handlers send events: `submit` is the publisher's (None: analytics is off, nothing is
    sent). `base_models` tells base models from adapters without a call on the request's time (None:
    by the name alone, `ft:` names being adapters). `usage`, when given, learns each completion's
    API key id and tokens whether analytics is on or off (the rate limiter charges them)."""

    def __init__(
        self,
        submit: Callable[[OutgoingEvent], None] | None,
        base_models: BaseModels | None = None,
        usage: Callable[[str, int], None] | None = None,
    ) -> None:
        self._submit = submit
        self._base_models = base_models
        self._usage = usage

    @property
    def enabled(self) -> bool:
        """Whether events are published at all."""
        return self._submit is not None

    def base_model_names(self, tenant_id: str) -> frozenset[str]:
        """The base models as last listed (empty when unknown)."""
        return self._base_models.names(tenant_id) if self._base_models is not None else frozenset()

    def completion(self, event: epb.CompletionEvent) -> None:
        """Queues a completion event (Nats-Msg-Id = its request id); never waits."""
        if self._usage is not None:
            self._usage(event.api_key_id, event.prompt_tokens + event.completion_tokens)
        if self._submit is not None:
            self._submit(OutgoingEvent(COMPLETIONS_SUBJECT, event.request_id, event.SerializeToString()))

    def feedback(self, event: epb.FeedbackEvent) -> None:
        """Queues a feedback event (Nats-Msg-Id = its feedback id); never waits."""
        if self._submit is not None:
            self._submit(OutgoingEvent(FEEDBACK_SUBJECT, event.feedback_id, event.SerializeToString()))
