"""What the prompt layer adds: `assistant:<name>` requests against plain requests with the same messages.

Starts the tuneway stack (through tuneway.devstack.launcher, on free ports and a temporary data dir),
creates an assistant whose prompt comes from the customer-support role template (with its German
variant, so language detection runs) and a running 50/50 experiment between two identical versions
(so assignment runs), then sends in interleaved rounds (A B C C B A ...):

  plain     the base model with only the user's message (for scale: the engine without the prompt);
  rendered  the base model with exactly the messages the assistant renders (same engine work);
  assistant the assistant with only the user's message (render in prompt-svc, then generate).

The prompt layer's cost is p50(assistant) - p50(rendered). Also times RenderPrompt alone over gRPC.
Writes everything to bench/results/assistant_overhead.json.
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
import httpx
from bench_stack import temporary_stack

from tuneway.api.prompt.v1 import prompt_pb2 as pb
from tuneway.api.prompt.v1 import prompt_pb2_grpc
from tuneway.core.grpc_client import create_channel

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "assistant_overhead.json"
BOOTSTRAP_KEY = "tw-bench-assistant-000000000000000000000"
GOAL_MS = 2.0
USER_MESSAGE = "Can I still change the delivery address of my order?"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _summary(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(values) * 1000, 3),
        "p99_ms": round(_percentile(values, 0.99) * 1000, 3),
        "mean_ms": round(statistics.fmean(values) * 1000, 3),
        "n": len(values),
    }


def setup(gateway: str) -> tuple[str, str, list[dict[str, str]]]:
    """A tenant, its key, the prompt, assistant and running experiment; returns the rendered messages."""
    admin = httpx.Client(base_url=gateway, headers={"Authorization": f"Bearer {BOOTSTRAP_KEY}"}, timeout=60)
    tenant = admin.post("/admin/tenants", json={"name": "bench"}).json()["id"]
    key = admin.post("/admin/keys", json={"tenant_id": tenant, "role": "member"}).json()["key"]
    http = httpx.Client(base_url=gateway, headers={"Authorization": f"Bearer {key}"}, timeout=60)

    def ok(response: httpx.Response) -> dict[str, Any]:
        if response.status_code >= 300:
            raise RuntimeError(f"{response.request.url}: {response.status_code} {response.text}")
        body: dict[str, Any] = response.json()
        return body

    ok(http.post("/v1/prompts", json={"name": "support", "template": "customer_support"}))
    v1 = ok(http.get("/v1/prompts/support/versions/1"))
    copy = {
        k: v1[k] for k in ("messages", "variables", "parameters", "output_style", "user_template", "variants")
    }
    ok(http.post("/v1/prompts/support/versions", json={**copy, "description": "identical copy"}))
    ok(
        http.post(
            "/v1/assistants", json={"name": "bench-bot", "base_model": "tuneway-tiny", "prompt": "support"}
        )
    )
    arms = [{"name": "a", "version": 1}, {"name": "b", "version": 2}]
    experiment = ok(
        http.post("/v1/experiments", json={"name": "same", "prompt": "support", "variants": arms})
    )
    ok(http.post(f"/v1/experiments/{experiment['id']}/start"))
    preview = ok(
        http.post(
            "/v1/prompts/support/render", json={"messages": [{"role": "user", "content": USER_MESSAGE}]}
        )
    )
    return tenant, key, preview["messages"]


def bodies(messages: list[dict[str, str]]) -> dict[str, Any]:
    """The three request kinds; all greedy, one token, so the engine's share stays small."""
    common = {"max_tokens": 1, "temperature": 0}
    user = [{"role": "user", "content": USER_MESSAGE}]
    return {
        "plain": {"model": "tuneway-tiny", "messages": user, **common},
        "rendered": {"model": "tuneway-tiny", "messages": messages, **common},
        "assistant": {"model": "assistant:bench-bot", "messages": user, **common},
    }


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(
    gateway: str, key: str, kinds: dict[str, Any], requests: int, round_size: int, pids: dict[str, int]
) -> dict[str, Any]:
    """Interleaved rounds at concurrency 1; each assistant request comes from a new user id. Also
    sums, per kind, the CPU time the gateway and prompt-svc processes spent during its rounds."""
    latencies: dict[str, list[float]] = {name: [] for name in kinds}
    cpu: dict[str, dict[str, float]] = {name: dict.fromkeys(pids, 0.0) for name in kinds}
    pairs: list[float] = []
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    counter = 0
    async with aiohttp.ClientSession(gateway, headers=headers) as session:

        async def one(name: str) -> float:
            nonlocal counter
            counter += 1
            body = dict(kinds[name], user=f"user-{counter}")
            started = time.perf_counter()
            async with session.post("/v1/chat/completions", data=json.dumps(body)) as response:
                payload = await response.read()
                if response.status != 200:
                    raise RuntimeError(f"{name}: {response.status} {payload[:300]!r}")
            return time.perf_counter() - started

        for name in kinds:  # warm-up, unrecorded
            for _ in range(20):
                await one(name)
        order = list(kinds)
        for index in range(max(1, requests // round_size)):
            per_round: dict[str, list[float]] = {}
            for name in order if index % 2 == 0 else reversed(order):
                before = {role: cpu_seconds(pid) for role, pid in pids.items()}
                per_round[name] = [await one(name) for _ in range(round_size)]
                for role, pid in pids.items():
                    cpu[name][role] += cpu_seconds(pid) - before[role]
                latencies[name].extend(per_round[name])
            pairs.append(statistics.median(per_round["assistant"]) - statistics.median(per_round["rendered"]))
    cpu_ms = {
        name: {role: round(seconds * 1000 / len(latencies[name]), 3) for role, seconds in by_role.items()}
        for name, by_role in cpu.items()
    }
    return {"latencies": latencies, "paired_added_ms": [round(p * 1000, 3) for p in pairs], "cpu_ms": cpu_ms}


async def render_only(target: str, tenant: str, requests: int) -> list[float]:
    """RenderPrompt alone over gRPC, as the gateway calls it."""
    async with create_channel(target) as channel:
        stub = prompt_pb2_grpc.PromptServiceStub(channel)
        times = []
        for i in range(requests + 50):
            request = pb.RenderPromptRequest(
                tenant_id=tenant,
                assistant="bench-bot",
                user=f"user-{i}",
                messages=[pb.ChatMessage(role="user", content=USER_MESSAGE)],
            )
            started = time.perf_counter()
            await stub.RenderPrompt(request, timeout=5)
            if i >= 50:
                times.append(time.perf_counter() - started)
    return times


def main() -> int:
    """Starts the stack, measures, prints and writes the results."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=500, help="requests per kind (default 500)")
    parser.add_argument("--round-size", type=int, default=25, help="requests per kind per round")
    parser.add_argument("--model", default=str(ROOT / "var" / "models" / "tuneway-tiny"))
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--check", action="store_true", help="exit 1 when the goal is missed")
    args = parser.parse_args()

    with temporary_stack("tw-bench-assistant-", model=args.model, bootstrap_key=BOOTSTRAP_KEY) as stack:
        tenant, key, rendered = setup(stack.gateway_url)
        print(f"measuring {args.requests} requests per kind at concurrency 1 ...", flush=True)
        pids = {role: stack.processes[role].pid for role in ("gateway", "prompt-svc")}
        kinds = bodies(rendered)
        result = asyncio.run(measure(stack.gateway_url, key, kinds, args.requests, args.round_size, pids))
        render = asyncio.run(render_only(f"127.0.0.1:{stack.config.prompt_port}", tenant, args.requests))

    summary = {name: _summary(values) for name, values in result["latencies"].items()}
    added = summary["assistant"]["p50_ms"] - summary["rendered"]["p50_ms"]
    paired = statistics.median(result["paired_added_ms"])
    report = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": len(os.sched_getaffinity(0)), "platform": platform.platform()},
        "python": platform.python_version(),
        "requests_per_kind": args.requests,
        "summary": summary,
        "render_rpc": _summary(render),
        "cpu_ms_per_request": result["cpu_ms"],
        "added_p50_ms": round(added, 3),
        "paired_added_p50_ms": paired,
        "paired_rounds_ms": result["paired_added_ms"],
        "goal_ms": GOAL_MS,
        "rendered_messages": rendered,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2))
    print(f"\n{'kind':<10} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8}")
    for name, values in summary.items():
        print(f"{name:<10} {values['p50_ms']:>8.2f} {values['p99_ms']:>8.2f} {values['mean_ms']:>8.2f}")
    print(f"{'render rpc':<10} {report['render_rpc']['p50_ms']:>8.2f} {report['render_rpc']['p99_ms']:>8.2f}")
    print("\nserver CPU ms per request (from /proc, while each kind's rounds ran):")
    for name, by_role in result["cpu_ms"].items():
        print(f"{name:<10} " + "  ".join(f"{role} {ms:.2f}" for role, ms in by_role.items()))
    verdict = "PASS" if added <= GOAL_MS else "MISS"
    print(
        f"\nprompt layer added p50: {added:.2f} ms (paired median {paired:.2f} ms), "
        f"goal <= {GOAL_MS} ms: {verdict}"
    )
    print(f"results: {args.output}")
    return 1 if args.check and verdict == "MISS" else 0


if __name__ == "__main__":
    sys.exit(main())
