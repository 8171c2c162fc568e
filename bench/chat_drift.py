"""Do plain chats get slower over a long steady load, and which process's work grows with them?
(issue 14 §2: the 50 MB ingestion run's idle chat p50 was 1.5x slower two hours later)

Starts the tuneway stack (free ports, a temporary data dir, the demo model) and a steady open-loop
stream of chat completions (--rate per second, non-streamed, --max-tokens each) for --minutes, with no
other work. Every --window seconds it closes a window and records its chat p50/p99, and for each
service (child processes included: vLLM's engine core is a child of the inference service) the CPU
seconds it spent per chat in that window and its resident memory, and the size of every file in the
data dir's top level (the services' SQLite databases).

Drift shows as the last window's p50 over the first's (reported as `p50_ratio_last_to_first`); the
service whose CPU per chat grows alongside it is where to look. Writes bench/results/chat_drift.json.

    .venv/bin/python bench/chat_drift.py [--minutes 30] [--rate 4] [--window 120] [--env NAME=VALUE]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

import aiohttp
import psutil
from bench_stack import add_stack_arguments, member_key, stack_env, temporary_stack
from chat_load import summary
from ingest_during_chat import Chats
from soak import resident_bytes, summed_over_tree

from tuneway.devstack.launcher import Stack

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "chat_drift.json"
BOOTSTRAP_KEY = "tw-bench-drift-00000000000000000000000"


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds of the process and all its descendants."""

    def used(process: psutil.Process) -> float:
        times = process.cpu_times()
        return times.user + times.system

    return summed_over_tree(pid, used)


def reading(stack: Stack) -> dict[str, Any]:
    """Every service's CPU seconds so far and resident MiB, and the data dir's file sizes in MiB."""
    files = {
        path.name: round(path.stat().st_size / 2**20, 2)
        for path in sorted(stack.config.data_dir.iterdir())
        if path.is_file()
    }
    return {
        "cpu_s": {name: cpu_seconds(process.pid) for name, process in stack.processes.items()},
        "rss_mib": {
            name: round(resident_bytes(process.pid) / 2**20, 1) for name, process in stack.processes.items()
        },
        "files_mib": files,
    }


async def windows(stack: Stack, key: str, model: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    chats = Chats(stack.gateway_url, key, model, args.max_tokens)
    stop = asyncio.Event()
    timeout = aiohttp.ClientTimeout(total=args.request_timeout)
    results: list[dict[str, Any]] = []
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=0)) as session:
        load = asyncio.create_task(chats.run(session, args.rate, stop))
        await asyncio.sleep(10)
        count = max(1, round(args.minutes * 60 / args.window))
        before = await asyncio.to_thread(reading, stack)
        for index in range(count):
            chats.phase = f"window {index}"
            await asyncio.sleep(args.window)
            after = await asyncio.to_thread(reading, stack)
            seconds = chats.seconds.get(f"window {index}", [])
            served = max(1, len(seconds))
            window = {
                "window": index,
                "minute": round((index + 1) * args.window / 60, 1),
                "chats": len(seconds),
                **summary(seconds),
                "cpu_ms_per_chat": {
                    name: round((after["cpu_s"][name] - before["cpu_s"][name]) * 1000 / served, 1)
                    for name in after["cpu_s"]
                },
                "rss_mib": after["rss_mib"],
                "files_mib": after["files_mib"],
            }
            results.append(window)
            print(
                f"minute {window['minute']}: p50 {window['p50_ms']} ms, CPU ms per chat "
                + ", ".join(f"{n} {v}" for n, v in window["cpu_ms_per_chat"].items()),
                flush=True,
            )
            before = after
        stop.set()
        await load
    if chats.failures:
        print(f"failed chats: {dict(chats.failures)}", flush=True)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--rate", type=float, default=4, help="chat completions per second")
    parser.add_argument("--window", type=float, default=120, help="seconds per window")
    parser.add_argument("--max-tokens", type=int, default=16)
    parser.add_argument("--request-timeout", type=float, default=120)
    add_stack_arguments(parser, RESULTS)
    args = parser.parse_args()

    env = stack_env(parser, args)
    with temporary_stack("tw-bench-drift-", model=args.model, bootstrap_key=BOOTSTRAP_KEY, env=env) as stack:
        key = member_key(stack.gateway_url, BOOTSTRAP_KEY, "drift")
        results = asyncio.run(windows(stack, key, Path(args.model).name, args))
        stack.check_alive()

    first, last = results[0], results[-1]
    report = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": len(os.sched_getaffinity(0)), "platform": platform.platform()},
        "arguments": {k: v for k, v in vars(args).items() if k not in ("model", "output")},
        "p50_ratio_last_to_first": round(last["p50_ms"] / first["p50_ms"], 3),
        "cpu_ms_per_chat_first_and_last": {
            name: [first["cpu_ms_per_chat"][name], last["cpu_ms_per_chat"][name]]
            for name in first["cpu_ms_per_chat"]
        },
        "windows": results,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2))
    print(json.dumps({k: v for k, v in report.items() if k not in ("machine", "windows")}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
