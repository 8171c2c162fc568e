"""Do chats slow down while a knowledge base ingests 50 MB? (issue 14 §2: chat p50 within 1.5x of idle)

Starts the tuneway stack (free ports, a temporary data dir, the demo model) and a steady stream of chat
completions (--rate per second, open loop, non-streamed, --max-tokens each), then:

1. idle: --idle-seconds of chats alone;
2. ingestion: uploads a generated document set of --megabytes (Markdown policy documents of about
   1 MB each, --uploads at a time) into a new knowledge base and waits until every document is
   searchable, the chats going on;
3. idle again: --idle-seconds of chats alone, so drift shows as a gap between the two idle phases.

Every --window seconds it prints (and records under "windows") that window's chat p50 and how many
chunks are searchable by then, so a slowdown can be read against the collection's size. Reports chat
p50/p90/p99 per phase, the ratio of p50 during ingestion to the idle p50 (both idle phases
pooled; goal ≤ 1.5), failed chats (goal 0), and ingestion MB/s and chunks/s; writes
bench/results/ingest_during_chat.json.

    .venv/bin/python bench/ingest_during_chat.py [--megabytes 50] [--rate 4] [--uploads 2] [--env NAME=VALUE]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import random
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
from bench_stack import add_stack_arguments, member_key, stack_env, temporary_stack
from chat_load import QUESTIONS, summary

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "ingest_during_chat.json"
BOOTSTRAP_KEY = "tw-bench-ingest-000000000000000000000"
RATIO_GOAL = 1.5
_SUBJECTS = "Employees|Contractors|Team leads|New joiners|Managers|Support agents|Engineers|Interns".split(
    "|"
)
_VERBS = "must submit|may request|should review|are required to approve|can book|need to report".split("|")
_OBJECTS = (
    "travel requests|training budgets|equipment orders|overtime hours|security incidents|access rights|"
    "conference tickets|parking permits|relocation costs|language courses|shift swaps|desk bookings"
).split("|")
_WHEN = (
    "within ten working days|before the end of the quarter|through the HR portal|with written approval|"
    "after the probation period|at least one week in advance|via the service desk|once per calendar year"
).split("|")


def policy_document(number: int, size: int, rng: random.Random) -> bytes:
    """A Markdown policy document of about `size` bytes: sections of random, grammatical sentences."""
    parts = [f"# Policy {number}: {rng.choice(_OBJECTS)}"]
    written = 0
    section = 0
    while written < size:
        section += 1
        sentences = " ".join(
            f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)} {rng.choice(_WHEN)}."
            for _ in range(30)
        )
        parts.append(f"## Section {section}\n\n{sentences}")
        written += len(sentences) + 20
    return "\n\n".join(parts).encode()


class Chats:
    """Open-loop chat completions, each latency filed under the phase it started in."""

    def __init__(self, gateway: str, key: str, model: str, max_tokens: int) -> None:
        self.gateway = gateway
        self.headers = {"Authorization": f"Bearer {key}"}
        self.model = model
        self.max_tokens = max_tokens
        self.phase = "warm-up"
        self.seconds: dict[str, list[float]] = {}
        self.failures: Counter[str] = Counter()
        self.started = time.monotonic()
        self.timeline: list[tuple[float, float]] = []  # (seconds since start, latency) per chat
        self._sequence = 0

    async def one(self, session: aiohttp.ClientSession) -> None:
        phase = self.phase
        self._sequence += 1
        body = {
            "model": self.model,
            "messages": [{"role": "user", "content": QUESTIONS[self._sequence % len(QUESTIONS)]}],
            "max_tokens": self.max_tokens,
        }
        started = time.perf_counter()
        try:
            async with session.post(
                f"{self.gateway}/v1/chat/completions", json=body, headers=self.headers
            ) as r:
                await r.read()
                if r.status != 200:
                    self.failures[f"{phase}: status {r.status}"] += 1
                    return
        except (TimeoutError, aiohttp.ClientError) as error:
            self.failures[f"{phase}: {type(error).__name__}"] += 1
            return
        latency = time.perf_counter() - started
        self.seconds.setdefault(phase, []).append(latency)
        self.timeline.append((time.monotonic() - self.started, latency))

    async def run(self, session: aiohttp.ClientSession, rate: float, stop: asyncio.Event) -> None:
        tasks: set[asyncio.Task[None]] = set()
        started = time.monotonic()
        sent = 0
        while not stop.is_set():
            task = asyncio.create_task(self.one(session))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            sent += 1
            await asyncio.sleep(max(0.0, started + sent / rate - time.monotonic()))
        await asyncio.gather(*tasks)


class Progress:
    """Chunks made searchable so far, so each window can be read against the collection's size."""

    def __init__(self) -> None:
        self.chunks = 0


async def report_windows(
    chats: Chats, progress: Progress, every: float, windows: list[dict[str, Any]]
) -> None:
    """Every `every` seconds: the window's chat p50 and the chunks searchable at its end."""
    while True:
        await asyncio.sleep(every)
        end = time.monotonic() - chats.started
        latencies = [latency for at, latency in chats.timeline if end - every <= at < end]
        if not latencies:
            continue
        window = {
            "minute": round(end / 60, 1),
            "phase": chats.phase,
            "chunks": progress.chunks,
            "chats": len(latencies),
            **summary(latencies),
        }
        windows.append(window)
        print(
            f"minute {window['minute']} ({window['phase']}): p50 {window['p50_ms']} ms, "
            f"{window['chunks']} chunks searchable",
            flush=True,
        )


async def ingest(
    session: aiohttp.ClientSession, gateway: str, key: str, args: argparse.Namespace, progress: Progress
) -> dict[str, Any]:
    """Uploads the document set, --uploads at a time, and waits until each is searchable."""
    headers = {"Authorization": f"Bearer {key}"}
    async with session.post(
        f"{gateway}/v1/knowledge_bases", json={"name": "bench-50mb"}, headers=headers
    ) as r:
        kb = (await r.json())["id"]
    rng = random.Random(11)
    count = max(1, round(args.megabytes))
    size = int(args.megabytes * 2**20 / count)
    documents = [policy_document(n + 1, size, rng) for n in range(count)]
    gate = asyncio.Semaphore(args.uploads)
    chunks = 0

    async def upload(number: int, data: bytes) -> None:
        nonlocal chunks
        async with gate:
            form = aiohttp.FormData()
            form.add_field("file", data, filename=f"policy-{number}.md", content_type="text/markdown")
            url = f"{gateway}/v1/knowledge_bases/{kb}/documents"
            async with session.post(url, data=form, headers=headers) as r:
                if r.status != 201:
                    raise RuntimeError(f"upload {number}: {r.status} {await r.text()}")
                document = await r.json()
            while document["status"] == "in_progress":
                await asyncio.sleep(1)
                async with session.get(f"{url}/{document['id']}", headers=headers) as r:
                    document = await r.json()
            if document["status"] != "completed":
                raise RuntimeError(f"upload {number}: {document['status']}: {document['last_error']}")
            chunks += document["chunk_count"]
            progress.chunks = chunks

    started = time.monotonic()
    await asyncio.gather(*(upload(n + 1, data) for n, data in enumerate(documents)))
    seconds = time.monotonic() - started
    total = sum(map(len, documents))
    return {
        "documents": count,
        "megabytes": round(total / 2**20, 1),
        "chunks": chunks,
        "seconds": round(seconds, 1),
        "mb_per_s": round(total / 2**20 / seconds, 3),
        "chunks_per_s": round(chunks / seconds, 1),
    }


async def phases(
    gateway: str, key: str, model: str, args: argparse.Namespace
) -> tuple[Chats, dict[str, Any], list[dict[str, Any]]]:
    chats = Chats(gateway, key, model, args.max_tokens)
    progress = Progress()
    windows: list[dict[str, Any]] = []
    stop = asyncio.Event()
    timeout = aiohttp.ClientTimeout(total=args.request_timeout)
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=0)) as session:
        load = asyncio.create_task(chats.run(session, args.rate, stop))
        reporter = asyncio.create_task(report_windows(chats, progress, args.window, windows))
        await asyncio.sleep(10)
        chats.phase = "idle before"
        print(f"idle before: {args.idle_seconds:.0f} s of chats ...", flush=True)
        await asyncio.sleep(args.idle_seconds)
        chats.phase = "during ingestion"
        print(f"ingesting {args.megabytes} MB while chatting ...", flush=True)
        ingestion = await ingest(session, gateway, key, args, progress)
        chats.phase = "idle after"
        print(f"idle after: {args.idle_seconds:.0f} s of chats ...", flush=True)
        await asyncio.sleep(args.idle_seconds)
        stop.set()
        await load
        reporter.cancel()
    return chats, ingestion, windows


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--megabytes", type=float, default=50)
    parser.add_argument("--uploads", type=int, default=2, help="documents uploaded at a time")
    parser.add_argument("--rate", type=float, default=4, help="chat completions per second")
    parser.add_argument("--max-tokens", type=int, default=16)
    parser.add_argument("--idle-seconds", type=float, default=60)
    parser.add_argument("--request-timeout", type=float, default=120)
    parser.add_argument("--window", type=float, default=300, help="seconds per reported window")
    add_stack_arguments(parser, RESULTS)
    args = parser.parse_args()

    env = stack_env(parser, args)
    config = {"model": args.model, "bootstrap_key": BOOTSTRAP_KEY, "env": env}
    with temporary_stack("tw-bench-ingest-", **config) as stack:
        key = member_key(stack.gateway_url, BOOTSTRAP_KEY, "ingest")
        chats, ingestion, windows = asyncio.run(phases(stack.gateway_url, key, Path(args.model).name, args))
        stack.check_alive()

    by_phase = {
        phase: {"chats": len(s), **summary(s)} for phase, s in chats.seconds.items() if phase != "warm-up"
    }
    idle = chats.seconds.get("idle before", []) + chats.seconds.get("idle after", [])
    idle_p50 = summary(idle)["p50_ms"]
    ratio = round(by_phase["during ingestion"]["p50_ms"] / idle_p50, 3)
    report = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": len(os.sched_getaffinity(0)), "platform": platform.platform()},
        "arguments": {k: v for k, v in vars(args).items() if k not in ("model", "output")},
        "chats": by_phase,
        "idle_p50_ms": idle_p50,
        "p50_ratio_during_ingestion": ratio,
        "ratio_goal": RATIO_GOAL,
        "failures": dict(chats.failures),
        "ingestion": ingestion,
        "windows": windows,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2))
    print(json.dumps({k: v for k, v in report.items() if k not in ("machine", "windows")}, indent=2))
    return 0 if ratio <= RATIO_GOAL and not chats.failures else 1


if __name__ == "__main__":
    sys.exit(main())
