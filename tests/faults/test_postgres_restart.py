"""PostgreSQL restarted under traffic (issue 14 §1): the gateway, prompt-svc and the trainer API, started
by the launcher as `make run` starts them, keep their tables on a PostgreSQL cluster of this test's own
(initdb and pg_ctl from the machine's binaries, on a free port; the machine's own server is never
touched). The cluster is stopped and started again while requests that read and write every service's
database keep coming. Requests may fail only while it is down, and only as 503 with Retry-After; once it
is back every request succeeds, with no service restarted, and what was written before is still there."""

from __future__ import annotations

import asyncio
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.faults.stack_helpers import member_client, private_stack
from tuneway.core.testing.processes import free_port
from tuneway.devstack.launcher import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.faults]
ADMIN_KEY = "sk-tw-pgrestart-admin-0123456789abcdef0123456789abcdef"
DATABASES = {
    "GATEWAY_DATABASE_URL": "gateway",
    "PROMPT_SVC_DATABASE_URL": "prompts",
    "TRAINER_DATABASE_URL": "trainer",
}
DOWN_SECONDS = 8


@dataclass
class Outcome:
    operation: str
    started: float
    ended: float
    status: int
    body: str
    retry_after: str | None


class PostgresCluster:
    """A private PostgreSQL cluster: initdb into a directory of its own, pg_ctl start and stop."""

    def __init__(self) -> None:
        binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        found = shutil.which("pg_ctl") or (binaries[-1] if binaries else None)
        if found is None:
            pytest.skip("no PostgreSQL binaries (pg_ctl, initdb) on this machine")
        self.bin = Path(found).parent
        self.port = free_port()
        # PostgreSQL refuses to run as root: as root, the cluster belongs to the postgres user, in a
        # directory that user may enter (pytest's temporary directories are root's alone).
        self.owner = "postgres" if os.geteuid() == 0 else None
        self.root = Path(tempfile.mkdtemp(prefix="tuneway-pg-"))
        if self.owner:
            account = pwd.getpwnam(self.owner)
            os.chown(self.root, account.pw_uid, account.pw_gid)
        self.data = self.root / "data"

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", self.owner, "--"] if self.owner else []
        done = subprocess.run([*prefix, *command], capture_output=True, text=True, check=False)
        assert done.returncode == 0, f"{' '.join(command)}: {done.stdout}{done.stderr}"

    def init(self) -> None:
        self._run(
            str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8"
        )

    def start(self) -> None:
        """Starts the server; returns once it accepts connections."""
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.root / "log"),
            "-w",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def create_databases(self, names: list[str]) -> None:
        import asyncpg

        async def create() -> None:
            connection = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres")
            try:
                for name in names:
                    await connection.execute(f'CREATE DATABASE "{name}"')
            finally:
                await connection.close()

        asyncio.run(create())

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class OnPostgres:
    stack: Stack
    cluster: PostgresCluster
    http: httpx.Client


@pytest.fixture(scope="module")
def on_postgres(nats_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[OnPostgres]:
    pytest.importorskip("asyncpg")
    cluster = PostgresCluster()
    stack: Stack | None = None
    try:
        cluster.init()
        cluster.start()
        cluster.create_databases(list(DATABASES.values()))
        stack = private_stack(
            tmp_path_factory.mktemp("pg-restart"),
            ADMIN_KEY,
            nats_url=nats_url,
            env={
                "GATEWAY_ANALYTICS_ENABLED": "false",
                **{variable: cluster.url(name) for variable, name in DATABASES.items()},
            },
        )
        stack.start_service("prompt-svc", "tuneway.prompt_svc")
        stack.start_service("trainer", "tuneway.trainer", "api")
        stack.start_service("gateway", "tuneway.gateway")
        _, http = member_client(stack, ADMIN_KEY, "pg-restart", timeout=60)
        yield OnPostgres(stack, cluster, http)
        http.close()
    finally:
        if stack is not None:
            stack.stop()
        cluster.remove()


def _traffic(
    http: httpx.Client, stop: threading.Event, outcomes: list[Outcome], lock: threading.Lock
) -> None:
    """Writes and reads through every service's database: a prompt (prompt-svc, and the gateway's audit
    log), read back; the fine-tuning jobs (trainer); the audit log (gateway)."""
    while not stop.is_set():
        name = f"p-{uuid.uuid4().hex[:10]}"
        prompt = {"name": name, "messages": [{"role": "system", "content": "You help customers."}]}
        calls: list[tuple[str, str, str, dict[str, Any]]] = [
            ("create prompt", "POST", "/v1/prompts", {"json": prompt}),
            ("read prompt", "GET", f"/v1/prompts/{name}", {}),
            ("list jobs", "GET", "/v1/fine_tuning/jobs", {}),
            ("read audit log", "GET", "/v1/audit", {"params": {"limit": 1}}),
        ]
        for operation, method, path, extra in calls:
            started = time.monotonic()
            try:
                response = http.request(method, path, **extra)
                status, body, retry = (
                    response.status_code,
                    response.text[:300],
                    response.headers.get("Retry-After"),
                )
            except httpx.HTTPError as error:
                status, body, retry = 0, repr(error), None
            with lock:
                outcomes.append(Outcome(operation, started, time.monotonic(), status, body, retry))
            if operation == "create prompt" and status != 201:
                break  # nothing to read back
        time.sleep(0.05)


def test_postgres_restart_fails_requests_only_while_it_is_down(on_postgres: OnPostgres) -> None:
    stack, cluster, http = on_postgres.stack, on_postgres.cluster, on_postgres.http
    pids = {name: process.pid for name, process in stack.processes.items()}
    outcomes: list[Outcome] = []
    lock, stop = threading.Lock(), threading.Event()
    threads = [threading.Thread(target=_traffic, args=(http, stop, outcomes, lock)) for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(5)
        going = time.monotonic()
        cluster.stop()
        time.sleep(DOWN_SECONDS)
        cluster.start()
        back = time.monotonic()
        time.sleep(10)
    finally:
        stop.set()
        for thread in threads:
            thread.join()

    failed = [o for o in outcomes if o.status not in (200, 201)]
    print(f"{len(outcomes)} requests, {len(failed)} failed; down {back - going:.1f} s")
    for outcome in failed[:5]:
        print(outcome)
    # Before the restart and after it, everything succeeds ...
    assert not [o for o in failed if o.ended < going], "requests failed before PostgreSQL stopped"
    assert not [o for o in failed if o.started > back], [o for o in failed if o.started > back][:5]
    # ... and while it is down, a failure is a clean 503 with Retry-After, never a 500 or a hang.
    unclean = [o for o in failed if o.status != 503 or not o.retry_after]
    assert not unclean, unclean[:5]
    assert all(o.ended - o.started < 30 for o in outcomes)
    for operation in ("create prompt", "read prompt", "list jobs", "read audit log"):
        assert [
            o for o in outcomes if o.operation == operation and o.started > back and o.status in (200, 201)
        ]
    # No service was restarted, and what was written before the restart is still there.
    assert {name: process.pid for name, process in stack.processes.items()} == pids
    stack.check_alive()
    created_before = sum(
        1 for o in outcomes if o.operation == "create prompt" and o.status == 201 and o.ended < going
    )
    listed = http.get("/v1/prompts", params={"limit": 100})
    assert listed.status_code == 200 and len(listed.json()["data"]) >= min(created_before, 100)
