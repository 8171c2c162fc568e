"""Raw events for drill-down: newest first, in pages with a keyset cursor, with their feedback."""

from __future__ import annotations

import base64
import binascii
import json
from collections import defaultdict

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tuneway.analytics.domain import (
    DEFAULT_PAGE,
    MAX_PAGE,
    EventPage,
    FeedbackRecord,
    StoredEvent,
    Window,
    check_dimensions,
)
from tuneway.analytics.repository import events as event_rows
from tuneway.core.errors import InvalidArgumentError

Position = tuple[int, str]  # (created_at_ms, request_id) of the last event of a page


def encode_cursor(position: Position) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(position)).encode()).decode()


def decode_cursor(cursor: str) -> Position | None:
    """The position a cursor names; "" is the first page. Anything else is refused, naming the field."""
    if not cursor:
        return None
    try:
        created, request_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if isinstance(created, int) and isinstance(request_id, str):
            return created, request_id
    except (ValueError, TypeError, binascii.Error):
        pass
    raise InvalidArgumentError("cursor is not a next_cursor this service returned.", param="cursor")


def page_size(limit: int) -> int:
    if limit == 0:
        return DEFAULT_PAGE
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidArgumentError(f"limit must be between 1 and {MAX_PAGE}.", param="limit")
    return limit


class EventBrowser:
    """Pages through one tenant's raw events."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def page(
        self, tenant_id: str, window: Window, filters: dict[str, str], limit: int, cursor: str
    ) -> EventPage:
        check_dimensions(list(filters), "filters")
        size, after = page_size(limit), decode_cursor(cursor)
        async with self._sessions() as session:
            rows = await event_rows.page(
                session, tenant_id, window.from_ms, window.to_ms, filters, size + 1, after
            )
            shown = rows[:size]
            stored = await event_rows.feedback_of(session, tenant_id, [row.request_id for row in shown])
        judged: dict[str, list[FeedbackRecord]] = defaultdict(list)
        for row in stored:
            judged[row.completion_id].append(
                FeedbackRecord(**{name: getattr(row, name) for name in FeedbackRecord.__dataclass_fields__})
            )
        events = [
            StoredEvent(row.payload, row.message_text or "", row.query_type, judged[row.request_id])
            for row in shown
        ]
        has_more = len(rows) > size
        last = shown[-1] if shown and has_more else None
        return EventPage(
            events, has_more, encode_cursor((last.created_at_ms, last.request_id)) if last else ""
        )
