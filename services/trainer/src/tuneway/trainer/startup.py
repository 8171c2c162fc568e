"""What both trainer processes wait for before they start: a migrated database and a NATS connection."""

from __future__ import annotations

import asyncio
from pathlib import Path

from nats.aio.client import Client

from tuneway.core import nats as tnats
from tuneway.core.db import upgrade_database
from tuneway.core.lifecycle import retry_forever
from tuneway.trainer.settings import TrainerSettings

MIGRATIONS = Path(__file__).parent / "migrations"


async def migrate_and_connect(settings: TrainerSettings, name: str, stop: asyncio.Event | None) -> Client:
    """Migrates the database and connects to NATS, waiting for both (start order does not matter)."""
    url = settings.db_url()
    await retry_forever("trainer database", lambda: upgrade_database(url, MIGRATIONS), stop=stop)
    return await retry_forever("NATS", lambda: tnats.connect(settings.nats_url, name), stop=stop)
