"""The migration Jobs' commands migrate a real PostgreSQL database, all five at once into one database
(as the dev overlay runs them), with the configuration the Jobs carry."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import asyncpg
import pytest

from tests.deploy.manifests import manifests
from tests.deploy.services import process_of

pytestmark = pytest.mark.integration


async def run_job(command: list[str], env: dict[str, str]) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable if command[0] == "python" else command[0],
        *command[1:],
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await process.communicate()
    return process.returncode or 0, out.decode(errors="replace")


async def test_every_migration_job_migrates_its_service_into_a_shared_database(
    postgres_url: str, tmp_path: Path
) -> None:
    dev = manifests("dev")
    jobs = [job for job in dev.of_kind("Job") if job["metadata"]["name"].endswith("-migrate")]
    services = set()
    runs = []
    for job in jobs:
        container = job["spec"]["template"]["spec"]["containers"][0]
        process = process_of(container)
        assert process is not None and process.role == "script", job["metadata"]["name"]
        services.add(process.settings.model_config["env_prefix"])
        env = {name: value for name, value in dev.environment(container).items() if value is not None}
        env.update(
            {
                "PATH": os.environ["PATH"],
                "TUNEWAY_DATA_DIR": str(tmp_path / job["metadata"]["name"]),
                f"{process.settings.model_config['env_prefix']}DATABASE_URL": postgres_url,
            }
        )
        runs.append(run_job(container["command"], env))
    assert services == {"GATEWAY_", "PROMPT_SVC_", "RETRIEVER_", "TRAINER_", "ANALYTICS_"}
    results = await asyncio.gather(*runs)
    failed = [out for code, out in results if code != 0]
    assert not failed, "\n\n".join(failed)
    connection = await asyncpg.connect(postgres_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        rows = await connection.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_name LIKE '%alembic_version'"
        )
        versions = {row["table_name"] for row in rows}
        tables = await connection.fetchval(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        )
    finally:
        await connection.close()
    assert len(versions) == 5, versions
    assert tables > 10
