"""Feedback on a completion: checked, bound to the caller's tenant by the completion id's tag, and
published as a FeedbackEvent (through the same publisher and outbox as completions). It is accepted
before the completion's own event reaches analytics, so nothing is looked up."""

from __future__ import annotations

import time
import uuid

from tuneway.api.events.v1 import events_pb2 as epb
from tuneway.core.errors import InvalidArgumentError, NotFoundError
from tuneway.gateway.analytics.completion_ids import CompletionIds
from tuneway.gateway.analytics.events import AnalyticsEvents
from tuneway.gateway.analytics.schemas import FeedbackBody
from tuneway.gateway.tenancy.keys import Principal

SCALES = {"0-1": (0.0, 1.0), "1-5": (1.0, 5.0)}


def check_feedback(body: FeedbackBody) -> None:
    """400 naming the field when the rating or score is missing, doubled or out of range."""
    if body.rating is not None and body.score is not None:
        raise InvalidArgumentError(
            "Give either 'rating' or 'score', not both.", param="rating", code="invalid_value"
        )
    if body.rating is None and body.score is None:
        raise InvalidArgumentError(
            "Missing 'rating' or 'score': give a rating of 1 or -1, or a score with its scale.",
            param="rating",
            code="missing_required_parameter",
        )
    if body.rating is not None:
        if body.rating not in (1, -1):
            raise InvalidArgumentError("'rating' must be 1 or -1.", param="rating", code="invalid_value")
        if body.scale is not None:
            raise InvalidArgumentError(
                "'scale' goes with 'score', not with 'rating'.", param="scale", code="invalid_value"
            )
        return
    if body.scale is None:
        raise InvalidArgumentError(
            "Missing 'scale' of 'score': \"0-1\" or \"1-5\".",
            param="scale",
            code="missing_required_parameter",
        )
    low, high = SCALES[body.scale]
    if not low <= (body.score or 0.0) <= high:
        raise InvalidArgumentError(
            f"'score' must be between {low:g} and {high:g} on the scale \"{body.scale}\".",
            param="score",
            code="invalid_value",
        )


def submit_feedback(
    body: FeedbackBody, principal: Principal, completion_ids: CompletionIds, events: AnalyticsEvents
) -> epb.FeedbackEvent:
    """The accepted feedback, queued for analytics; 404 when the completion is not the caller's tenant's."""
    check_feedback(body)
    if not completion_ids.belongs_to(body.completion_id, principal.tenant_id):
        raise NotFoundError(
            f"No chat completion with id '{body.completion_id}'.",
            param="completion_id",
            code="not_found_error",
        )
    event = epb.FeedbackEvent(
        feedback_id=f"fb_{uuid.uuid4().hex}",
        tenant_id=principal.tenant_id,
        completion_id=body.completion_id,
        user=body.user or "",
        created_at_ms=int(time.time() * 1000),
        rating=body.rating or 0,
        score=body.score or 0.0,
        scale=body.scale or "",
        label=body.label or "",
        comment=body.comment or "",
        api_key_id=principal.key_id,
    )
    events.feedback(event)
    return event
