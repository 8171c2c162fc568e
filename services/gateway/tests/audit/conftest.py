"""What the audit tests share: a real trainer API replica for the gateway to call, and a tenant's entries."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from tuneway.core.testing.processes import free_port, start_nats_server, stop_process

Entries = Callable[..., Awaitable[list[dict[str, Any]]]]


@pytest.fixture
async def trainer(tmp_path: Path, demo_model: Path) -> AsyncIterator[Any]:
    """A trainer API on SQLite and a NATS of its own (no scheduler: nothing fires; no worker: nothing
    trains), whose artifact store is the gateway's (`tmp_path/data`)."""
    trainer_main = pytest.importorskip("tuneway.trainer.api.main")
    from tuneway.trainer.settings import TrainerSettings

    nats_port = free_port()
    nats = start_nats_server(nats_port, tmp_path / "nats", tmp_path / "nats.log")
    settings = TrainerSettings(
        db_url=f"sqlite+aiosqlite:///{(tmp_path / 'trainer.db').as_posix()}",
        nats_url=f"nats://127.0.0.1:{nats_port}",
        grpc_port=free_port(),
        host="127.0.0.1",
        data_dir=tmp_path / "data",
        base_model=str(demo_model),
        drain_seconds=0.5,
    )
    api = trainer_main.TrainerApi(settings)
    await api.start(scheduler=False)
    try:
        yield api
    finally:
        await api.stop()
        stop_process(nats)


@pytest.fixture
def audit_entries() -> Entries:
    """`await audit_entries(gateway, key, **query)`: every entry of the key's tenant matching `query`,
    newest first (one page of up to 100)."""

    async def entries(gateway: Any, key: str, **query: Any) -> list[dict[str, Any]]:
        response = await gateway.app_client.get(
            "/v1/audit", params={"limit": 100, **query}, headers=gateway.auth(key)
        )
        assert response.status_code == 200, response.text
        data: list[dict[str, Any]] = response.json()["data"]
        return data

    return entries
