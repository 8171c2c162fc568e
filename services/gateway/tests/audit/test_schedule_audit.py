"""Retraining schedules in the audit log, over the whole gateway with a real trainer API replica (SQLite, a
NATS of its own, the demo model)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

pytest.importorskip("tuneway.trainer.api.main")
pytestmark = pytest.mark.integration

Gateway = Any
SCHEDULES = "/v1/fine_tuning/schedules"


@pytest.fixture
async def gateway(start_gateway: Callable[..., Any], trainer: Any) -> AsyncIterator[Gateway]:
    """The gateway and a trainer API (no scheduler: nothing fires, nothing trains)."""
    async with start_gateway(trainer_target=f"127.0.0.1:{trainer.settings.grpc_port}") as running:
        yield running


async def test_schedule_changes_are_recorded(gateway: Gateway) -> None:
    client, acme = gateway.app_client, gateway.auth(gateway.acme_key)
    body = {"model": "tuneway-tiny", "cron": "0 0 1 1 *", "training_filename": "train.jsonl"}
    created = await client.post(SCHEDULES, json=body, headers=acme)
    assert created.status_code == 200, created.text
    schedule = created.json()
    path = f"{SCHEDULES}/{schedule['id']}"
    paused = (await client.post(f"{path}/pause", headers=acme)).json()
    # An unknown schedule, and another tenant's attempt: nothing recorded.
    assert (await client.post(f"{SCHEDULES}/ftsched-missing/pause", headers=acme)).status_code == 404
    assert (await client.delete(path, headers=gateway.auth(gateway.globex_key))).status_code == 404
    resumed = (await client.post(f"{path}/resume", headers=acme)).json()
    current = (await client.get(path, headers=acme)).json()
    assert (await client.delete(path, headers=acme)).status_code == 200

    response = await client.get("/v1/audit", params={"resource_id": schedule["id"]}, headers=acme)
    entries = response.json()["data"]
    assert [e["action"] for e in entries] == [
        "schedule.deleted",
        "schedule.resumed",
        "schedule.paused",
        "schedule.created",
    ]
    deleted, resumed_entry, paused_entry, created_entry = entries
    assert all(e["resource_type"] == "schedule" for e in entries)
    assert (created_entry["before"], created_entry["after"]) == (None, schedule)
    assert (paused_entry["before"], paused_entry["after"]) == (schedule, paused)
    assert (resumed_entry["before"], resumed_entry["after"]) == (paused, resumed)
    assert (deleted["before"], deleted["after"]) == (current, None)
    assert (await client.get("/v1/audit", headers=gateway.auth(gateway.globex_key))).json()["data"] == []
