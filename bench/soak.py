"""A soak at a steady rate: is every service's memory flat, and does none leak descriptors or tasks?
(issue 14 §2; inference had grown ~30 KiB/s)

Starts the tuneway stack (tuneway.devstack.launcher, free ports, a temporary data dir), gives a tenant a
knowledge base (the example documents) and an assistant answering from it, then for --minutes drives a
steady mix through the gateway with the OpenAI wire format: streamed and plain chat completions at
--rate per second, --assistant-rate assistant chats with knowledge, one embeddings call per second and a
feedback for every tenth plain chat. Every --every seconds it samples the resident memory (RSS) of each
service, its child processes included (vLLM's engine core is a child of the inference service).

Memory: after a warm-up (the first --warmup fraction of the run) it reports, per service, RSS at the end
of the warm-up and at the end, growth in percent (goal < 5%), and the slope (KiB/s) over the first and
the second half of the rest: a leak keeps its slope, memory that levels off has a second-half slope near
zero.

Leaks: at the end of the warm-up and at the end the load pauses for --rest seconds, and each service's
open file descriptors (children included) and the tasks on its event loop (`tuneway_asyncio_tasks` on
its metrics endpoint) are read at rest. Steady load must leave no more behind than the warm-up did
(goal: tasks equal, descriptors within --fd-slack). Writes bench/results/soak.json.

    .venv/bin/python bench/soak.py [--minutes 10] [--rate 4] [--env MALLOC_ARENA_MAX=2]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import re
import statistics
import sys
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import psutil
from bench_stack import add_stack_arguments, member_key, stack_env, temporary_stack
from chat_load import QUESTIONS

from tuneway.devstack.launcher import Stack

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "soak.json"
BOOTSTRAP_KEY = "tw-bench-soak-000000000000000000000000"
GROWTH_GOAL_PERCENT = 5.0
SUCCEEDED = {"chat ok", "assistant ok", "embeddings 200", "feedback 201"}
ASSISTANT = "soak-bot"
ASSISTANT_QUESTIONS = [
    json.loads(line)["question"]
    for line in (ROOT / "examples" / "knowledge" / "questions.jsonl").read_text().splitlines()
    if line.strip()
]


def summed_over_tree(pid: int, measure: Callable[[psutil.Process], float]) -> float:
    """`measure` of the process and all its descendants, added up (vLLM's engine core is a child of
    the inference service)."""
    try:
        process = psutil.Process(pid)
        processes = [process, *process.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0.0
    for each in processes:
        try:
            total += measure(each)
        except psutil.NoSuchProcess:
            pass
    return total


def resident_bytes(pid: int) -> int:
    """RSS of the process and all its descendants."""
    return int(summed_over_tree(pid, lambda process: process.memory_info().rss))


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

    async def ask_assistant(self, session: aiohttp.ClientSession) -> None:
        self._sequence += 1
        question = ASSISTANT_QUESTIONS[self._sequence % len(ASSISTANT_QUESTIONS)]
        body = {"model": f"assistant:{ASSISTANT}", "messages": [{"role": "user", "content": question}]}
        try:
            url = f"{self.gateway}/v1/chat/completions"
            async with session.post(url, json=body, headers=self.headers) as r:
                payload = await r.read()
                sourced = r.status == 200 and "sources" in json.loads(payload).get("tuneway", {})
                self._count("assistant ok" if sourced else f"assistant {r.status}")
        except aiohttp.ClientError as error:
            self._count(f"assistant {type(error).__name__}")

    async def embed(self, session: aiohttp.ClientSession) -> None:
        body = {"model": "all-MiniLM-L6-v2", "input": [QUESTIONS[self._sequence % len(QUESTIONS)]]}
        try:
            async with session.post(f"{self.gateway}/v1/embeddings", json=body, headers=self.headers) as r:
                await r.read()
                self._count(f"embeddings {r.status}")
        except aiohttp.ClientError as error:
            self._count(f"embeddings {type(error).__name__}")


def give_an_assistant_knowledge(gateway: str, key: str, model: str) -> None:
    """A knowledge base of the example documents and an assistant answering from it."""
    documents = ROOT / "examples" / "knowledge" / "documents"
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=gateway, headers=headers, timeout=120) as http:
        kb = http.post("/v1/knowledge_bases", json={"name": "soak-policies"}).raise_for_status().json()["id"]
        for path in sorted(documents.iterdir()):
            files = {"file": (path.name, path.read_bytes())}
            http.post(
                f"/v1/knowledge_bases/{kb}/documents", files=files, data={"wait": "true"}
            ).raise_for_status()
        prompt = {
            "name": "soak-policy-helper",
            "messages": [{"role": "system", "content": "Answer from these excerpts:\n\n{{ context }}"}],
            "variables": [{"name": "context", "default": ""}],
            "parameters": {"max_tokens": 16},
        }
        http.post("/v1/prompts", json=prompt).raise_for_status()
        assistant = {
            "name": ASSISTANT,
            "base_model": model,
            "prompt": "soak-policy-helper",
            "knowledge": {"knowledge_base_ids": [kb], "top_k": 3},
        }
        http.post("/v1/assistants", json=assistant).raise_for_status()


def open_descriptors(pid: int) -> int:
    """Open file descriptors of the process and all its descendants."""
    return int(summed_over_tree(pid, lambda process: process.num_fds()))


def event_loop_tasks(metrics_url: str) -> int | None:
    """`tuneway_asyncio_tasks` from a service's metrics endpoint (None where it has none)."""
    try:
        text = httpx.get(metrics_url, timeout=5).text
    except httpx.HTTPError:
        return None
    found = re.search(r"^tuneway_asyncio_tasks (\S+)$", text, re.MULTILINE)
    return int(float(found.group(1))) if found else None


def at_rest(stack: Stack) -> dict[str, dict[str, int | None]]:
    """Each service's open descriptors and event-loop tasks, read while no request is in flight."""
    urls = stack.config.metrics_urls()
    return {
        name: {
            "fds": open_descriptors(process.pid),
            "tasks": event_loop_tasks(urls[name]) if name in urls else None,
        }
        for name, process in stack.processes.items()
    }


async def drive(
    load: Load, stack: Stack, args: argparse.Namespace
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Runs the load for args.minutes, resting after the warm-up and at the end; returns the RSS
    samples and the two readings at rest."""
    samples: list[dict[str, Any]] = []
    rests: dict[str, Any] = {}
    started = time.monotonic()
    next_sample = started
    tick = 0

    async def load_until(deadline: float) -> None:
        """The mix until `deadline`, on a client of its own, closed at the end with its connections:
        what a service still holds afterwards is its own, not a client's idle keep-alive."""
        nonlocal next_sample, tick
        tasks: set[asyncio.Task[None]] = set()

        def launch(work: Coroutine[Any, Any, None]) -> None:
            task = asyncio.create_task(work)
            tasks.add(task)
            task.add_done_callback(tasks.discard)

        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
            while time.monotonic() < deadline:
                now = time.monotonic()
                if now >= next_sample:
                    rss = {name: resident_bytes(p.pid) for name, p in stack.processes.items()}
                    samples.append({"t": round(now - started, 1), "rss": rss})
                    next_sample += args.every
                for _ in range(args.rate):
                    launch(load.chat(session))
                for _ in range(args.assistant_rate):
                    launch(load.ask_assistant(session))
                launch(load.embed(session))
                tick += 1
                await asyncio.sleep(max(0.0, started + tick - time.monotonic()))
            await asyncio.gather(*tasks, return_exceptions=True)

    async def rest(name: str) -> None:
        nonlocal started
        paused = time.monotonic()
        await asyncio.sleep(args.rest)
        rests[name] = await asyncio.to_thread(at_rest, stack)
        started += time.monotonic() - paused  # the load's clock does not count the rest

    await load_until(started + args.warmup * args.minutes * 60)
    await rest("after warm-up")
    await load_until(started + args.minutes * 60)
    await rest("at the end")
    return samples, rests


def leaks(rests: dict[str, Any], fd_slack: int) -> dict[str, dict[str, Any]]:
    """Per service: descriptors and tasks at rest after the warm-up and at the end, and whether they grew."""
    before, after = rests["after warm-up"], rests["at the end"]
    report = {}
    for name, first in before.items():
        last = after.get(name, {})
        fds_grew = (last.get("fds") or 0) > (first["fds"] or 0) + fd_slack
        tasks_grew = first["tasks"] is not None and (last.get("tasks") or 0) > first["tasks"]
        report[name] = {
            "fds": [first["fds"], last.get("fds")],
            "tasks": [first["tasks"], last.get("tasks")],
            "leak": fds_grew or tasks_grew,
        }
    return report


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
    parser.add_argument("--rate", type=int, default=4, help="chat completions per second")
    parser.add_argument(
        "--assistant-rate", type=int, default=1, help="assistant chats with knowledge per second"
    )
    parser.add_argument("--every", type=float, default=10, help="seconds between RSS samples")
    parser.add_argument("--warmup", type=float, default=0.2, help="fraction of the run not judged")
    parser.add_argument("--rest", type=float, default=5, help="seconds without load before a reading at rest")
    parser.add_argument("--fd-slack", type=int, default=4, help="descriptors a service may gain (pools)")
    add_stack_arguments(parser, RESULTS)
    args = parser.parse_args()

    env = stack_env(parser, args)
    with temporary_stack("tw-bench-soak-", model=args.model, bootstrap_key=BOOTSTRAP_KEY, env=env) as stack:
        key = member_key(stack.gateway_url, BOOTSTRAP_KEY, "soak")
        model = Path(args.model).name
        give_an_assistant_knowledge(stack.gateway_url, key, model)
        load = Load(stack.gateway_url, key, model)
        print(
            f"soaking for {args.minutes} min: {args.rate} chats/s, {args.assistant_rate} with knowledge ...",
            flush=True,
        )
        samples, rests = asyncio.run(drive(load, stack, args))
        stack.check_alive()

    services = analyse(samples, args.warmup)
    leaked = leaks(rests, args.fd_slack)
    report = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": len(os.sched_getaffinity(0)), "platform": platform.platform()},
        "minutes": args.minutes,
        "rate": args.rate,
        "assistant_rate": args.assistant_rate,
        "env": args.env,
        "outcomes": load.outcomes,
        "services": services,
        "at_rest": leaked,
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
    print(
        f"{'at rest':<16} {'fds warm':>10} {'fds end':>10} {'tasks warm':>10} {'tasks end':>10} {'leak':>10}"
    )
    for name, row in leaked.items():
        values = (*row["fds"], *row["tasks"], row["leak"])
        print(f"{name:<16} " + " ".join(f"{value!s:>10}" for value in values))
    failed = [outcome for outcome in load.outcomes if outcome not in SUCCEEDED]
    grew = [name for name, row in services.items() if row["growth_percent"] >= GROWTH_GOAL_PERCENT]
    return 1 if failed or grew or any(row["leak"] for row in leaked.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
