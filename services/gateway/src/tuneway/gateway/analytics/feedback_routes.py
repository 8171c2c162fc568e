"""POST /v1/feedback: a rating or score of a chat completion, for analytics."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from starlette.responses import Response
from typing_extensions import TypedDict  # pydantic documents typing.TypedDict only from Python 3.12

from tuneway.gateway.analytics.feedback import submit_feedback
from tuneway.gateway.analytics.schemas import FeedbackBody
from tuneway.gateway.deps import AnalyticsEvents, CompletionIdentities, CurrentPrincipal
from tuneway.gateway.http import json_response
from tuneway.gateway.openapi import documented

router = APIRouter(prefix="/v1", tags=["analytics"])


class Feedback(TypedDict):
    """Accepted feedback (analytics keeps the latest per completion and user)."""

    id: str
    object: Literal["feedback"]
    completion_id: str
    rating: int | None
    score: float | None
    scale: str | None
    label: str | None
    comment: str | None
    user: str | None
    created_at: int


@router.post(
    "/feedback", status_code=201, responses=documented(Feedback, 404, status=201), summary="Rate a completion"
)
async def create_feedback(
    body: FeedbackBody, principal: CurrentPrincipal, ids: CompletionIdentities, events: AnalyticsEvents
) -> Response:
    """Accepts `rating` (1 or -1) or `score` on `scale` ("0-1" or "1-5") for one of the caller's chat
    completions (another tenant's id is a 404), at once: it reaches analytics through the event stream,
    even before the completion's own event does. 201 with the feedback object."""
    event = submit_feedback(body, principal, ids, events)
    feedback: Feedback = {
        "id": event.feedback_id,
        "object": "feedback",
        "completion_id": event.completion_id,
        "rating": body.rating,
        "score": body.score,
        "scale": body.scale,
        "label": body.label,
        "comment": body.comment,
        "user": body.user,
        "created_at": event.created_at_ms // 1000,
    }
    return json_response(feedback, 201)
