"""Prometheus metrics of the gateway's analytics events: published, dropped, waiting in the outbox."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

EVENTS_PUBLISHED = Counter(
    "tuneway_gateway_events_published",
    "Analytics events (completions and feedback) acknowledged by JetStream.",
    ["subject"],
)
# reason: outbox_full (the oldest events made room for newer ones) | queue_full (the in-memory queue
# overflowed faster than the outbox could take it).
EVENTS_DROPPED = Counter(
    "tuneway_gateway_events_dropped",
    "Analytics events lost before reaching NATS.",
    ["reason"],
)
OUTBOX_EVENTS = Gauge(
    "tuneway_gateway_outbox_events",
    "Analytics events waiting in the on-disk outbox for NATS.",
)
