"""Is every service's resident memory bounded under steady load? (issue 14: inference grew ~30 KiB/s)

Starts the tuneway stack (tuneway.devstack.launcher, free ports, a temporary data dir), then for
--minutes drives a steady mix through the gateway with the OpenAI wire format: streamed and plain chat
completions at --rate per second, one embeddings call and one feedback per second. Every --every
seconds it samples the resident memory (RSS) of each service, its child processes included (vLLM's
engine core is a child of the inference service).

After a warm-up (the first --warmup fraction of the run) it reports, per service: RSS at the end of the
warm-up and at the end, growth in percent (goal < 5%), and the slope (KiB/s) over the first and the
second half of the rest: a leak keeps its slope, memory that levels off has a second-half slope near
zero. Writes bench/results/memory_soak.json.

    .venv/bin/python bench/memory_soak.py [--minutes 10] [--rate 8] [--env MALLOC_ARENA_MAX=2]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import psutil
from bench_stack import member_key, temporary_stack

from tuneway.devstack.launcher import Stack

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "memory_soak.json"
BOOTSTRAP_KEY = "tw-bench-soak-000000000000000000000000"
GROWTH_GOAL_PERCENT = 5.0
QUESTIONS = (
    "Where is my parcel? It should have arrived on Monday.",
    "How do I reset my password?",
    "Can I return shoes I bought three weeks ago?",
    "Why was I charged twice this month?",
)


def resident_bytes(pid: int) -> int:
    """RSS of the process and all its descendants."""
    try:
        process = psutil.Process(pid)
        processes = [process, *process.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for each in processes:
        try:
            total += each.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


class Load:
    """The steady mix; counts outcomes so a failing stack is not mistaken for a flat one."""

    def __init__(self, gateway: str, key: str, model: str) -> None:
        self.gateway = gateway
        self.headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        self.model = model
        self.outcomes: dict[str, int] = {}
        self._sequence = 0

    def _count(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    async def chat(self, session: aiohttp.ClientSession) -> None:
        self._sequence += 1
        sequence = self._sequence
        stream = sequence % 2 == 0
        body = {
            "model": self.model,
            "messages": [{"role": "user", "content": QUESTIONS[sequence % len(QUESTIONS)]}],
            "max_tokens": 16,
            "stream": stream,
            "user": f"user-{sequence % 50}",
            "metadata": {"channel": "web", "language": "en"},
        }
        try:
            url = f"{self.gateway}/v1/chat/completions"
            async with session.post(url, json=body, headers=self.headers) as r:
                payload = await r.read()
                if r.status != 200 or (stream and b"[DONE]" not in payload):
                    self._count(f"chat {r.status}")
                    return
                self._count("chat ok")
                if not stream and sequence % 10 == 1:
                    completion_id = json.loads(payload)["id"]
                    await self.feedback(session, completion_id)
        except aiohttp.ClientError as error:
            self._count(f"chat {type(error).__name__}")

    async def feedback(self, session: aiohttp.ClientSession, completion_id: str) -> None:
        body = {"completion_id": completion_id, "rating": 1}
        async with session.post(f"{self.gateway}/v1/feedback", json=body, headers=self.headers) as r:
            await r.read()
            self._count(f"feedback {r.status}")

    async def embed(self, session: aiohttp.ClientSession) -> None:
        body = {"model": "all-MiniLM-L6-v2", "input": [QUESTIONS[self._sequence % len(QUESTIONS)]]}
        try:
            async with session.post(f"{self.gateway}/v1/embeddings", json=body, headers=self.headers) as r:
                await r.read()
                self._count(f"embeddings {r.status}")
        except aiohttp.ClientError as error:
            self._count(f"embeddings {type(error).__name__}")


async def drive(load: Load, stack: Stack, args: argparse.Namespace) -> list[dict[str, Any]]:
    """Runs the load for args.minutes and returns the RSS samples."""
    samples: list[dict[str, Any]] = []
    started = time.monotonic()
    deadline = started + args.minutes * 60
    next_sample = started
    tasks: set[asyncio.Task[None]] = set()
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        tick = 0
        while time.monotonic() < deadline:
            now = time.monotonic()
            if now >= next_sample:
                rss = {name: resident_bytes(p.pid) for name, p in stack.processes.items()}
                samples.append({"t": round(now - started, 1), "rss": rss})
                next_sample += args.every
            for _ in range(args.rate):
                task = asyncio.create_task(load.chat(session))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            task = asyncio.create_task(load.embed(session))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            tick += 1
            await asyncio.sleep(max(0.0, started + tick - time.monotonic()))
        await asyncio.gather(*tasks, return_exceptions=True)
    return samples


def slope_kib_per_s(points: list[tuple[float, int]]) -> float:
    if len(points) < 2:
        return 0.0
    times = [t for t, _ in points]
    values = [v / 1024 for _, v in points]
    return statistics.linear_regression(times, values).slope


def analyse(samples: list[dict[str, Any]], warmup: float) -> dict[str, Any]:
    end = samples[-1]["t"]
    after = [s for s in samples if s["t"] >= warmup * end]
    middle = after[len(after) // 2]["t"]
    report = {}
    for name in samples[0]["rss"]:
        points = [(s["t"], s["rss"][name]) for s in after if s["rss"].get(name)]
        if len(points) < 4:
            continue
        first, last = points[0][1], points[-1][1]
        report[name] = {
            "rss_mib_after_warmup": round(first / 2**20, 1),
            "rss_mib_end": round(last / 2**20, 1),
            "growth_percent": round((last - first) / first * 100, 2),
            "slope_kib_s_first_half": round(slope_kib_per_s([p for p in points if p[0] <= middle]), 2),
            "slope_kib_s_second_half": round(slope_kib_per_s([p for p in points if p[0] >= middle]), 2),
        }
    return report


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--rate", type=int, default=8, help="chat completions per second")
    parser.add_argument("--every", type=float, default=10, help="seconds between RSS samples")
    parser.add_argument("--warmup", type=float, default=0.2, help="fraction of the run not judged")
    parser.add_argument("--model", default=str(ROOT / "var" / "models" / "tuneway-tiny"))
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for every service")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()

    env = dict(item.split("=", 1) for item in args.env)
    with temporary_stack("tw-bench-soak-", model=args.model, bootstrap_key=BOOTSTRAP_KEY, env=env) as stack:
        key = member_key(stack.gateway_url, BOOTSTRAP_KEY, "soak")
        load = Load(stack.gateway_url, key, Path(args.model).name)
        print(f"soaking for {args.minutes} min at {args.rate} chats/s ...", flush=True)
        samples = asyncio.run(drive(load, stack, args))
        stack.check_alive()

    services = analyse(samples, args.warmup)
    report = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": len(os.sched_getaffinity(0)), "platform": platform.platform()},
        "minutes": args.minutes,
        "rate": args.rate,
        "env": args.env,
        "outcomes": load.outcomes,
        "services": services,
        "samples": samples,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2))
    print(f"outcomes: {load.outcomes}")
    header = ("MiB warm", "MiB end", "growth %", "KiB/s 1st", "KiB/s 2nd")
    print(f"{'service':<16} " + " ".join(f"{name:>10}" for name in header))
    for name, row in services.items():
        values = (
            row["rss_mib_after_warmup"],
            row["rss_mib_end"],
            row["growth_percent"],
            row["slope_kib_s_first_half"],
            row["slope_kib_s_second_half"],
        )
        print(f"{name:<16} " + " ".join(f"{value:>10}" for value in values))
    return 0


if __name__ == "__main__":
    sys.exit(main())
