"""A batch's statuses, as OpenAI names them, and the ones it never leaves."""

from __future__ import annotations

VALIDATING = "validating"
FAILED = "failed"
IN_PROGRESS = "in_progress"
FINALIZING = "finalizing"
COMPLETED = "completed"
EXPIRED = "expired"
CANCELLING = "cancelling"
CANCELLED = "cancelled"

FINISHED = frozenset({FAILED, COMPLETED, EXPIRED, CANCELLED})
# What POST /v1/batches/{id}/cancel may still stop.
CANCELLABLE = frozenset({VALIDATING, IN_PROGRESS})
# The completion window OpenAI offers (the only one), in seconds.
WINDOW_SECONDS = {"24h": 24 * 3600}
