"""What recording a request costs the gateway: the same stack behind two gateways, one publishing a
CompletionEvent per request (GATEWAY_ANALYTICS_ENABLED=true, the default) and one not (false).

Starts the tuneway stack (tuneway.devstack.launcher, free ports, a temporary data dir) and a second
gateway process on the same services with analytics off. With --ingest after (the default) the
analytics service is stopped before the timed rounds and started again after them, so the rounds
measure the publishing (the gateway's publisher and NATS storing the batches) and not the analytics
service's ingest (decode, classify through the retriever's embedder, write) competing for the same
cores; --ingest concurrent keeps it running throughout, as in production on a small machine. Then it
measures in interleaved rounds (on, off, off, on, ...):

  latency     concurrency 1, requests alternating between the two gateways one by one, so each pair
              sees the same engine state; added p50 = p50(on) - p50(off), and the median of the paired
              differences;
  throughput  concurrency 32 for a fixed number of requests per round; ratio = on / off.

Goals (issue 11): added p50 <= 0.05 ms, throughput at concurrency 32 >= 0.97x. Afterwards it checks that
analytics counted exactly the requests the "on" gateway answered (with --ingest after: once it has
caught up with the backlog, timed). Writes bench/results/analytics_publish[_concurrent].json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
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
import nats
import psutil
from bench_stack import member_key, temporary_stack

from tuneway.core.testing.processes import free_port

ROOT = Path(__file__).resolve().parent.parent
RESULTS = {
    "after": ROOT / "bench" / "results" / "analytics_publish.json",
    "concurrent": ROOT / "bench" / "results" / "analytics_publish_concurrent.json",
}
BOOTSTRAP_KEY = "tw-bench-analytics-00000000000000000000"
ADDED_P50_GOAL_MS = 0.05
THROUGHPUT_GOAL = 0.97
BODY = json.dumps(
    {
        "model": "tuneway-tiny",
        "messages": [{"role": "user", "content": "Where is my parcel? It should have arrived on Monday."}],
        "max_tokens": 1,
        "metadata": {"channel": "web", "language": "en"},
    }
).encode()


def wait_ready(gateway: str, timeout: float = 120) -> None:
    """Polls a gateway's /readyz."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(gateway + "/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise TimeoutError(f"{gateway} was not ready after {timeout:.0f} s")


async def post(session: aiohttp.ClientSession, url: str, headers: dict[str, str]) -> float:
    """One chat completion; its latency in seconds."""
    started = time.perf_counter()
    async with session.post(url, data=BODY, headers=headers) as response:
        payload = await response.read()
        if response.status != 200:
            raise RuntimeError(f"{url} answered {response.status}: {payload[:300]!r}")
    return time.perf_counter() - started


async def throughput(session: aiohttp.ClientSession, url: str, headers: dict[str, str], n: int) -> float:
    """Requests per second with 32 in flight."""
    remaining = n

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await post(session, url, headers)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(32)))
    return n / (time.perf_counter() - started)


class CpuMeter:
    """CPU seconds (user + system) used so far by groups of the stack's processes: each gateway, the
    NATS server, the analytics service (while it runs), and the whole stack (every process this bench
    started; vLLM's engine core busy-waits, so its share grows with wall time, not with work). CPU
    time per request is far less disturbed by other work on the machine than requests per second."""

    def __init__(self, gateways: dict[str, int], analytics: int | None) -> None:
        everything = psutil.Process().children(recursive=True)
        self._groups: dict[str, list[psutil.Process]] = {
            "stack": everything,
            "nats": [p for p in everything if p.name() == "nats-server"],
            "analytics": [psutil.Process(analytics)] if analytics else [],
            **{f"gateway {side}": [psutil.Process(pid)] for side, pid in gateways.items()},
        }

    def read(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for name, processes in self._groups.items():
            total = 0.0
            for process in processes:
                with contextlib.suppress(psutil.NoSuchProcess):
                    times = process.cpu_times()
                    total += times.user + times.system
            totals[name] = total
        return totals


async def measure(
    on: str, off: str, key: str, rounds: int, pairs: int, load: int, cpu: CpuMeter
) -> dict[str, Any]:
    """Interleaved rounds of paired latency and of throughput at concurrency 32, with the CPU time the
    stack used in each side's throughput rounds."""
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    urls = {"on": on + "/v1/chat/completions", "off": off + "/v1/chat/completions"}
    latencies: dict[str, list[float]] = {"on": [], "off": []}
    paired: list[float] = []
    rates: dict[str, list[float]] = {"on": [], "off": []}
    cpu_seconds: dict[str, dict[str, float]] = {"on": {}, "off": {}}
    # The gateways' CPU in the latency rounds, where both serve the same requests in turn.
    cpu_seconds_c1 = {"on": 0.0, "off": 0.0}
    answered_on = 0
    connector = aiohttp.TCPConnector(limit=64)
    async with aiohttp.ClientSession(connector=connector) as session:
        for side in ("on", "off"):  # warm both up
            for _ in range(20):
                await post(session, urls[side], headers)
        answered_on += 20
        for round_number in range(rounds):
            order = ("on", "off") if round_number % 2 == 0 else ("off", "on")
            before = cpu.read()
            for _ in range(pairs):
                pair = {side: await post(session, urls[side], headers) for side in order}
                latencies["on"].append(pair["on"])
                latencies["off"].append(pair["off"])
                paired.append(pair["on"] - pair["off"])
            after = cpu.read()
            for side in cpu_seconds_c1:
                cpu_seconds_c1[side] += after[f"gateway {side}"] - before[f"gateway {side}"]
            answered_on += pairs
            for side in order:
                before = cpu.read()
                rates[side].append(await throughput(session, urls[side], headers, load))
                for name, seconds in cpu.read().items():
                    used = cpu_seconds[side].get(name, 0.0) + seconds - before[name]
                    cpu_seconds[side][name] = used
            answered_on += load
    # Per request, in ms; the gateway that served the side is "gateway".
    cpu_ms = {
        side: {
            "stack": used["stack"] * 1000 / (rounds * load),
            "gateway": used[f"gateway {side}"] * 1000 / (rounds * load),
            "nats": used["nats"] * 1000 / (rounds * load),
            "analytics": used["analytics"] * 1000 / (rounds * load),
            "gateway at concurrency 1": cpu_seconds_c1[side] * 1000 / (rounds * pairs),
        }
        for side, used in cpu_seconds.items()
    }
    return {
        "latencies": latencies,
        "paired": paired,
        "rates": rates,
        "cpu_ms": cpu_ms,
        "answered_on": answered_on,
    }


def counted(gateway: str, key: str, expected: int, timeout: float = 300) -> int:
    """Requests analytics counted for the tenant, once it reaches `expected` or the time is up (a
    summary that fails meanwhile, the analytics service still starting, is asked again)."""
    deadline = time.monotonic() + timeout
    last = -1
    with httpx.Client(base_url=gateway, headers={"Authorization": f"Bearer {key}"}, timeout=30) as http:
        while time.monotonic() < deadline:
            response = http.get("/v1/analytics/summary")
            if response.status_code == 200:
                last = int(response.json()["total"]["requests"])
                if last == expected:
                    return last
            time.sleep(0.5)
    return last


async def stream_messages(nats_url: str) -> int:
    """Messages in the EVENTS stream (each an EventBatch of one or more events)."""
    nc = await nats.connect(nats_url)
    try:
        return int((await nc.jetstream().stream_info("EVENTS")).state.messages)
    finally:
        await nc.close()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--pairs", type=int, default=100, help="latency pairs per round (concurrency 1)")
    parser.add_argument("--load", type=int, default=320, help="requests per side per round at concurrency 32")
    parser.add_argument("--model", default=str(ROOT / "var" / "models" / "tuneway-tiny"))
    parser.add_argument(
        "--ingest",
        choices=["after", "concurrent"],
        default="after",
        help="after: the analytics service is stopped during the timed rounds and ingests afterwards; "
        "concurrent: it ingests while they run",
    )
    parser.add_argument(
        "--output", type=Path, help="default bench/results/analytics_publish[_concurrent].json"
    )
    parser.add_argument("--check", action="store_true", help="exit 1 when a goal is missed")
    args = parser.parse_args()

    with temporary_stack("tw-bench-analytics-", model=args.model, bootstrap_key=BOOTSTRAP_KEY) as stack:
        # The second gateway: same services and database, analytics off.
        off_port = free_port()
        # Its own metrics port: the first gateway holds the stack's.
        stack.config.env.update(
            {
                "GATEWAY_PORT": str(off_port),
                "GATEWAY_METRICS_PORT": str(free_port()),
                "GATEWAY_ANALYTICS_ENABLED": "false",
            }
        )
        stack.start_service("gateway-off", "tuneway.gateway")
        stack.config.env.clear()
        off = f"http://127.0.0.1:{off_port}"
        wait_ready(off)
        key = member_key(stack.gateway_url, BOOTSTRAP_KEY, "bench")
        if args.ingest == "after":
            # Its durable consumer stays in NATS: the events wait in the stream until it is back.
            stack.stop_service("analytics")
        print(f"measuring {args.rounds} rounds (analytics ingest {args.ingest}) ...", flush=True)
        analytics = stack.processes.get("analytics")
        cpu = CpuMeter(
            {"on": stack.processes["gateway"].pid, "off": stack.processes["gateway-off"].pid},
            analytics.pid if analytics else None,
        )
        result = asyncio.run(measure(stack.gateway_url, off, key, args.rounds, args.pairs, args.load, cpu))
        messages = asyncio.run(stream_messages(stack.config.nats_url))
        catching_up = time.perf_counter()
        if args.ingest == "after":
            stack.start_service("analytics", "tuneway.analytics")
        total = counted(stack.gateway_url, key, result["answered_on"])
        caught_up_s = time.perf_counter() - catching_up

    p50 = {side: statistics.median(values) * 1000 for side, values in result["latencies"].items()}
    added = p50["on"] - p50["off"]
    paired = statistics.median(result["paired"]) * 1000
    ratios = [on / off for on, off in zip(result["rates"]["on"], result["rates"]["off"], strict=True)]
    ratio = statistics.median(ratios)
    report = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": len(os.sched_getaffinity(0)), "platform": platform.platform()},
        "rounds": args.rounds,
        "ingest": args.ingest,
        "p50_ms": {side: round(value, 4) for side, value in p50.items()},
        "added_p50_ms": round(added, 4),
        "paired_median_ms": round(paired, 4),
        "throughput_rps": {side: [round(r, 1) for r in rates] for side, rates in result["rates"].items()},
        "throughput_ratio": round(ratio, 4),
        "throughput_ratios": [round(r, 4) for r in ratios],
        "cpu_ms_per_request": {
            side: {name: round(ms, 4) for name, ms in used.items()} for side, used in result["cpu_ms"].items()
        },
        "answered_with_analytics": result["answered_on"],
        "counted_by_analytics": total,
        "seconds_until_counted": round(caught_up_s, 1),
        "stream_messages": messages,
    }
    output = args.output or RESULTS[args.ingest]
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2))
    latency_ok = added <= ADDED_P50_GOAL_MS
    throughput_ok = ratio >= THROUGHPUT_GOAL
    print(f"\np50 on {p50['on']:.3f} ms, off {p50['off']:.3f} ms")
    print(
        f"added p50 {added:.4f} ms (paired median {paired:.4f} ms), goal <= {ADDED_P50_GOAL_MS} ms: "
        f"{'PASS' if latency_ok else 'MISS'}"
    )
    print(
        f"throughput at concurrency 32: on/off = {ratio:.3f} "
        f"(rounds {', '.join(f'{r:.3f}' for r in ratios)}), "
        f"goal >= {THROUGHPUT_GOAL}: {'PASS' if throughput_ok else 'MISS'}"
    )
    cpu_ms = result["cpu_ms"]
    print(
        "CPU ms per request (at concurrency 32 unless named), on / off: "
        + ", ".join(f"{name} {cpu_ms['on'][name]:.3f} / {cpu_ms['off'][name]:.3f}" for name in cpu_ms["on"])
    )
    print(
        f"analytics counted {total} of the {result['answered_on']} requests answered with analytics on "
        f"({caught_up_s:.1f} s after the rounds; ingest {args.ingest}); "
        f"the EVENTS stream holds {messages} messages for them"
    )
    print(f"results: {output}")
    complete = total == result["answered_on"]
    return 1 if args.check and not (latency_ok and throughput_ok and complete) else 0


if __name__ == "__main__":
    sys.exit(main())
