"""What the benches that drive a whole stack share: a stack in a temporary data dir, a tenant's key, and
the arguments that say which model, which extra environment and where the results go."""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tuneway.devstack.launcher import Stack, StackConfig

DEMO_MODEL = Path(__file__).resolve().parent.parent / "var" / "models" / "tuneway-tiny"


def add_stack_arguments(parser: argparse.ArgumentParser, results: Path) -> None:
    """--model, --env NAME=VALUE (repeatable) and --output, read back with `stack_env`."""
    parser.add_argument("--model", default=str(DEMO_MODEL))
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for every service")
    parser.add_argument("--output", type=Path, default=results)


def stack_env(parser: argparse.ArgumentParser, args: argparse.Namespace) -> dict[str, str]:
    """The --env pairs as variables; one without '=' is the parser's error."""
    bad = [item for item in args.env if "=" not in item]
    if bad:
        parser.error(f"--env takes NAME=VALUE, not {bad[0]!r}")
    return dict(item.split("=", 1) for item in args.env)


@contextmanager
def temporary_stack(prefix: str, **config: Any) -> Iterator[Stack]:
    """The tuneway stack on free ports in a new data dir, started; stopped afterwards, its data dir
    removed, or kept (and named) when the bench failed, for its logs."""
    data_dir = Path(tempfile.mkdtemp(prefix=prefix))
    stack = Stack(StackConfig.on_free_ports(data_dir, **config))
    failed = True
    try:
        print("starting the stack ...", flush=True)
        stack.start()
        yield stack
        failed = False
    finally:
        stack.stop()
        if failed:
            print(f"logs kept in {data_dir / 'logs'}", file=sys.stderr)
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


def member_key(gateway: str, bootstrap_key: str, tenant_name: str) -> str:
    """A member key of a new tenant, made with the bootstrap admin key."""
    admin = {"Authorization": f"Bearer {bootstrap_key}"}
    with httpx.Client(base_url=gateway, headers=admin, timeout=30) as http:
        tenant = http.post("/admin/tenants", json={"name": tenant_name}).raise_for_status().json()
        key = {"tenant_id": tenant["id"], "role": "member", "name": "bench"}
        created = http.post("/admin/keys", json=key)
        return str(created.raise_for_status().json()["key"])
