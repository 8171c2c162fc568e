"""make images-test: build the six images, run the stack's containers, drive the gateway, clean up.

    python deploy/images/images_e2e.py [--tag 0.1.0] [--base-image IMAGE] [--no-build] [--keep]

The containers use the host's network: a private NATS (nats-server -js on a free port) and a fresh
database on the PostgreSQL that TUNEWAY_TEST_POSTGRES_URL names (default the test suite's,
127.0.0.1:5432). Logs, the containers' output and report.md go to var/images-test/<run>/. Exits 1
when a step fails. Not part of `make test`: the builds alone take many minutes on a small machine.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import builds
import drive
import engine
from containers import Stack

from tuneway.core.testing.fixtures import POSTGRES_ADMIN_URL
from tuneway.core.testing.processes import free_port, start_nats_server, stop_process

REPO_ROOT = Path(__file__).resolve().parents[2]


async def _database(statement: str) -> None:
    connection = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def database_url(name: str) -> str:
    """The asyncpg URL the services get: the admin URL's server and user, this run's database."""
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{name}"


class Report:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines: list[str] = []
        self.failed = False

    def add(self, line: str) -> None:
        print(line, flush=True)
        self.lines.append(line)
        self.path.write_text("\n".join(self.lines) + "\n")

    def step(self, name: str, action: Callable[[], str]) -> None:
        started = time.monotonic()
        try:
            outcome = action()
        except Exception as error:
            self.failed = True
            traceback.print_exc()
            self.add(f"- {name}: FAILED after {time.monotonic() - started:.0f} s: {error!r}"[:2000])
        else:
            self.add(f"- {name}: ok ({time.monotonic() - started:.0f} s): {outcome}")


def start(stack: Stack, timeout: float) -> str:
    stack.start()
    return f"{len(stack.containers)} containers, ready {stack.wait_ready(timeout):.0f} s after starting"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--tag", default="0.1.0", help="image tag (IMAGE_TAG)")
    parser.add_argument("--base-image", default="", help="base image (default: pull, else Debian-made)")
    parser.add_argument("--no-build", action="store_true", help="run the images built before")
    parser.add_argument("--keep", action="store_true", help="leave the containers running")
    parser.add_argument("--ready-timeout", type=float, default=900)
    parser.add_argument("--train-timeout", type=float, default=900)
    args = parser.parse_args()

    run = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    log_dir = REPO_ROOT / "var" / "images-test" / run
    log_dir.mkdir(parents=True, exist_ok=True)
    report = Report(log_dir / "report.md")
    report.add(f"# make images-test, run {run} (UTC)")
    started = engine.ensure_engine(log_dir)
    version = engine.docker("version", "-f", "{{.Server.Version}}").stdout.strip()
    report.add(f"- engine: Docker {version} ({started})")

    base, how = engine.choose_base(args.base_image, log_dir)
    report.add(f"- base image: {base} ({how})")
    images = {
        (f"{service}-{target}" if target else service): builds.image_name(service, target, args.tag)
        for service, target in builds.SERVICES
    }
    if not args.no_build:
        for built in builds.build_all(base, args.tag, log_dir):
            report.add(f"- built {built.image}: {built.seconds:.0f} s, {built.size_bytes / 1e6:.0f} MB")

    report.step("CPU torch in the images", lambda: builds.cpu_torch(images))

    nats_port = free_port()
    nats = start_nats_server(nats_port, log_dir / "nats", log_dir / "nats.log")
    database = f"tuneway_images_{run}"
    asyncio.run(_database(f'CREATE DATABASE "{database}"'))
    stack = Stack(
        run=run,
        images=images,
        nats_url=f"nats://127.0.0.1:{nats_port}",
        database_url=database_url(database),
        bootstrap_key=f"sk-tw-{secrets.token_hex(32)}",
    )
    report.add(f"- NATS nats://127.0.0.1:{nats_port} (private), PostgreSQL database {database}")
    try:
        report.step(
            "demo model (the trainer image, as the dev overlay's Job)",
            stack.build_demo_model,
        )
        if not report.failed:
            report.step(
                "containers started and ready (gateway /readyz)", lambda: start(stack, args.ready_timeout)
            )
        if not report.failed:
            client = drive.member_client(stack.gateway_url, stack.bootstrap_key)
            report.step("chat completion", lambda: drive.chat(client))
            report.step(
                "fine-tuning job to a served adapter", lambda: drive.fine_tune(client, args.train_timeout)
            )
            report.step("knowledge base: ingest and search", lambda: drive.knowledge(client))
    finally:
        stack.save_logs(str(log_dir))
        if args.keep:
            report.add(f"- kept: {' '.join(stack.containers)} (gateway {stack.gateway_url})")
        else:
            report.add(f"- stopped (SIGTERM) and removed; exit codes: {stack.remove()}")
            stop_process(nats)
            asyncio.run(_database(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    report.add(
        f"- result: {'FAILED' if report.failed else 'passed'}; logs in {log_dir.relative_to(REPO_ROOT)}"
    )
    return 1 if report.failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
