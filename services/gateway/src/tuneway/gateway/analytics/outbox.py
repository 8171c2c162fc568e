"""The on-disk outbox of analytics events: where events wait while NATS cannot take them.

A SQLite file (stdlib sqlite3, WAL) under the data dir, so a restart keeps what was waiting. Events
leave in the order they came (an autoincrement sequence); past `max_events` the oldest are dropped.
Every call runs in a worker thread: the event loop never waits on the disk.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from tuneway.gateway.analytics.metrics import EVENTS_DROPPED, OUTBOX_EVENTS

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    subject TEXT NOT NULL,
    msg_id TEXT NOT NULL,
    data BLOB NOT NULL
)
"""
# One row per message id: a publisher stopped between writing a batch here and forgetting it hands the
# batch over again, and the copy must not be sent (and counted against the bound) twice. Files written
# before the index first lose their extra copies.
_UNIQUE_IDS = (
    "DELETE FROM outbox WHERE seq NOT IN (SELECT MIN(seq) FROM outbox GROUP BY msg_id)",
    "CREATE UNIQUE INDEX IF NOT EXISTS outbox_msg_id ON outbox (msg_id)",
)


@dataclass(frozen=True)
class OutgoingEvent:
    """One message for the EVENTS stream: its subject, Nats-Msg-Id and serialized protobuf."""

    subject: str
    msg_id: str
    data: bytes


@dataclass(frozen=True)
class StoredEvent:
    """An outbox row: the event and its place in line."""

    seq: int
    event: OutgoingEvent


class Outbox:
    """Events waiting for NATS, oldest first, at most `max_events` of them."""

    def __init__(self, path: Path, max_events: int) -> None:
        if max_events < 1:
            raise ValueError("max_events must be at least 1")
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._max = max_events
        # One connection shared by the worker threads, serialized by the lock.
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode survives a process crash; only a power loss may lose the last commits.
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(_SCHEMA)
            for statement in _UNIQUE_IDS:
                self._db.execute(statement)
            self._count = int(self._db.execute("SELECT count(*) FROM outbox").fetchone()[0])
        OUTBOX_EVENTS.set(self._count)

    @property
    def count(self) -> int:
        """Events waiting (kept in memory: no disk read)."""
        return self._count

    def append_now(self, events: list[OutgoingEvent]) -> int:
        """Appends `events` in order (blocking), skipping any already waiting; returns how many of the
        oldest were dropped for room."""
        if not events:
            return 0
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                before = self._db.total_changes
                self._db.executemany(
                    "INSERT OR IGNORE INTO outbox (subject, msg_id, data) VALUES (?, ?, ?)",
                    [(e.subject, e.msg_id, e.data) for e in events],
                )
                added = self._db.total_changes - before
                excess = self._count + added - self._max
                dropped = 0
                if excess > 0:
                    dropped = self._db.execute(
                        "DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox ORDER BY seq LIMIT ?)",
                        (excess,),
                    ).rowcount
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._count += added - dropped
        OUTBOX_EVENTS.set(self._count)
        if dropped:
            EVENTS_DROPPED.labels("outbox_full").inc(dropped)
            log.warning(
                "analytics outbox full: dropped the %d oldest events", dropped, extra={"limit": self._max}
            )
        return dropped

    def oldest_now(self, limit: int) -> list[StoredEvent]:
        """The `limit` oldest events (blocking), oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, subject, msg_id, data FROM outbox ORDER BY seq LIMIT ?", (limit,)
            ).fetchall()
        return [
            StoredEvent(seq, OutgoingEvent(subject, msg_id, bytes(data)))
            for seq, subject, msg_id, data in rows
        ]

    def remove_now(self, seqs: list[int]) -> None:
        """Removes the events with these sequence numbers (blocking)."""
        if not seqs:
            return
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                removed = self._db.executemany(
                    "DELETE FROM outbox WHERE seq = ?", [(s,) for s in seqs]
                ).rowcount
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._count -= removed
        OUTBOX_EVENTS.set(self._count)

    async def append(self, events: list[OutgoingEvent]) -> int:
        """append_now in a worker thread (none for nothing: the publisher appends what NATS did not
        acknowledge after every batch, usually nothing, and a thread hop costs more than a publish)."""
        if not events:
            return 0
        return await asyncio.to_thread(self.append_now, events)

    async def oldest(self, limit: int) -> list[StoredEvent]:
        """oldest_now in a worker thread."""
        return await asyncio.to_thread(self.oldest_now, limit)

    async def remove(self, seqs: list[int]) -> None:
        """remove_now in a worker thread (none for nothing)."""
        if seqs:
            await asyncio.to_thread(self.remove_now, seqs)

    def close(self) -> None:
        """Closes the file (after a checkpoint, so the WAL does not linger)."""
        with self._lock:
            self._db.close()
