"""The trainer's database setting: TRAINER_DATABASE_URL, and TRAINER_DB_URL of early releases."""

from __future__ import annotations

from pathlib import Path

import pytest

from tuneway.trainer.settings import TrainerSettings


@pytest.mark.parametrize("variable", ["TRAINER_DATABASE_URL", "TRAINER_DB_URL"])
def test_database_url_by_either_name(monkeypatch: pytest.MonkeyPatch, variable: str) -> None:
    for name in ("TRAINER_DATABASE_URL", "TRAINER_DB_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(variable, "postgresql+asyncpg://db/trainer")
    assert TrainerSettings().db_url() == "postgresql+asyncpg://db/trainer"


def test_sqlite_under_the_data_dir_by_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("TRAINER_DATABASE_URL", "TRAINER_DB_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TUNEWAY_DATA_DIR", str(tmp_path))
    assert TrainerSettings().db_url() == f"sqlite+aiosqlite:///{tmp_path}/trainer.db"
