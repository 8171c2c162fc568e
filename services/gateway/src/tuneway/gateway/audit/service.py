"""AuditLog: records a change after it succeeded, and lists a tenant's entries.

A route that changes what users get reads the resource first (the call its GET route makes; `read_before`),
makes the change, then calls `record` in the same request. Recording never fails the request: the change
has happened by then, so a failed write is logged (what changed, never the objects) and the answer goes
out as it would have.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Awaitable, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tuneway.core.errors import InvalidArgumentError, NotFoundError
from tuneway.core.logging import request_id_var
from tuneway.gateway.audit import repository as repo
from tuneway.gateway.audit.tables import AuditEntry
from tuneway.gateway.tenancy.keys import Principal

log = logging.getLogger(__name__)

MAX_LIST_LIMIT = 100
T = TypeVar("T")
# One resource's change: its id, and the resource before and after (None: did not exist / no longer does).
Change = tuple[str, Mapping[str, Any] | None, Mapping[str, Any] | None]


async def read_before(read: Awaitable[T]) -> T | None:
    """The resource as it is before a change, or None where there is none (the change creates it, or will
    answer 404 itself). Other failures propagate: the change is not attempted."""
    try:
        return await read
    except NotFoundError:
        return None


class AuditLog:
    """The audit entries in the gateway database."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def record(
        self,
        principal: Principal,
        action: str,
        resource_type: str,
        resource_id: str,
        before: Mapping[str, Any] | None,
        after: Mapping[str, Any] | None,
        *,
        tenant_id: str | None = None,
    ) -> None:
        """Writes an entry for a change that has succeeded, in `tenant_id` (the principal's tenant unless
        an admin changed another tenant's resource). Logs, never raises, when the write fails."""
        await self.record_each(
            principal, action, resource_type, [(resource_id, before, after)], tenant_id=tenant_id
        )

    async def record_each(
        self,
        principal: Principal,
        action: str,
        resource_type: str,
        changes: Sequence[Change],
        *,
        tenant_id: str | None = None,
    ) -> None:
        """`record` of one action on several resources (a JSONL upload's documents), in one transaction."""
        if not changes:
            return
        try:
            async with self._sessions.begin() as session:
                key_name = await repo.key_name(session, principal.key_id)
                now = int(time.time())
                for resource_id, before, after in changes:
                    session.add(
                        AuditEntry(
                            id=f"audit-{secrets.token_hex(12)}",
                            tenant_id=tenant_id or principal.tenant_id,
                            actor_key_id=principal.key_id,
                            actor_key_name=key_name,
                            action=action,
                            resource_type=resource_type,
                            resource_id=resource_id,
                            before=dict(before) if before is not None else None,
                            after=dict(after) if after is not None else None,
                            request_id=request_id_var.get() or "",
                            created_at=now,
                        )
                    )
        except Exception as error:
            # The objects may hold a tenant's content: the log names the change, not what it held.
            log.error(
                "audit entries not written: %s of %d %s (%r, ...) by key %s: %s",
                action,
                len(changes),
                resource_type,
                changes[0][0],
                principal.key_id,
                type(error).__name__,
            )

    async def list(
        self,
        tenant_id: str,
        *,
        after: str | None,
        limit: int,
        resource_type: str | None = None,
        resource_id: str | None = None,
        action: str | None = None,
    ) -> tuple[Sequence[AuditEntry], bool]:
        """A page of the tenant's entries, newest first, past the entry `after`, and whether more follow.
        `after` must be one of the tenant's entries (400 otherwise: another tenant's is unknown here)."""
        async with self._sessions() as session:
            before_seq = None
            if after:
                cursor = await repo.get_entry(session, tenant_id, after)
                if cursor is None:
                    raise InvalidArgumentError(
                        f"Invalid value for 'after': no audit entry '{after}'.",
                        param="after",
                        code="invalid_value",
                    )
                before_seq = cursor.seq
            rows = await repo.list_entries(
                session,
                tenant_id,
                before_seq=before_seq,
                limit=limit + 1,
                resource_type=resource_type,
                resource_id=resource_id,
                action=action,
            )
        return rows[:limit], len(rows) > limit
