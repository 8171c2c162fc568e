"""What a running batch costs interactive traffic, and the batch's own throughput.

Starts the tuneway stack (through tuneway.devstack.launcher, on free ports and a temporary data dir,
with its batch worker), then measures the latency of interactive chat requests sent one at a time:

  idle      before the batch, and again after it (their pooled p50 is the baseline, so drift over the
            run counts against neither side);
  loaded    while a batch of `--lines` chat requests (1,000 by default) runs through /v1/batches.

The interactive request and every batch line ask for the same work (`--max-tokens` tokens,
`ignore_eos`), so the ratio loaded p50 / idle p50 is what the batch takes from interactive users
(goal <= 1.2). Also reports the batch's lines per second (in_progress_at to completed_at). Writes
everything to bench/results/batch_bench.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from bench_stack import member_key, temporary_stack

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "batch_bench.json"
BOOTSTRAP_KEY = "tw-bench-batches-0000000000000000000000"
GOAL_RATIO = 1.2
MODEL = "tuneway-tiny"


def _body(max_tokens: int, n: int) -> dict[str, Any]:
    return {
        "model": MODEL,
        "messages": [{"role": "user", "content": f"Tell me about parcel number {n}."}],
        "max_tokens": max_tokens,
        "temperature": 0,
        "ignore_eos": True,
    }


def _probe(http: httpx.Client, count: int, max_tokens: int) -> list[float]:
    """`count` interactive requests one after another; the seconds each took."""
    times = []
    for n in range(count):
        started = time.perf_counter()
        response = http.post("/v1/chat/completions", json=_body(max_tokens, n))
        elapsed = time.perf_counter() - started
        response.raise_for_status()
        times.append(elapsed)
    return times


def _summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50_ms": round(statistics.median(values) * 1000, 2),
        "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))] * 1000, 2),
        "mean_ms": round(statistics.fmean(values) * 1000, 2),
        "n": len(values),
    }


def _start_batch(http: httpx.Client, lines: int, max_tokens: int) -> str:
    rows = [
        json.dumps(
            {
                "custom_id": f"line-{n}",
                "method": "POST",
                "url": "/v1/chat/completions",
                "body": _body(max_tokens, n),
            }
        )
        for n in range(lines)
    ]
    upload = http.post(
        "/v1/files",
        files={"file": ("bench.jsonl", ("\n".join(rows) + "\n").encode())},
        data={"purpose": "batch"},
    ).raise_for_status()
    created = http.post(
        "/v1/batches",
        json={
            "input_file_id": upload.json()["id"],
            "endpoint": "/v1/chat/completions",
            "completion_window": "24h",
        },
    ).raise_for_status()
    return str(created.json()["id"])


def _batch(http: httpx.Client, batch_id: str) -> dict[str, Any]:
    return dict(http.get(f"/v1/batches/{batch_id}").raise_for_status().json())


def _wait(http: httpx.Client, batch_id: str, done: Any, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        batch = _batch(http, batch_id)
        if done(batch):
            return batch
        time.sleep(0.5)
    raise RuntimeError(f"batch {batch_id} did not get there in {timeout:.0f} s: {batch}")


def measure(gateway: str, key: str, args: argparse.Namespace) -> dict[str, Any]:
    """Idle, loaded and idle again; the batch's counts and timing."""
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=gateway, headers=headers, timeout=120) as http:
        _probe(http, args.warmup, args.max_tokens)
        print(f"idle: {args.probes} interactive requests ...", flush=True)
        idle_before = _probe(http, args.probes, args.max_tokens)
        batch_id = _start_batch(http, args.lines, args.max_tokens)
        started = _wait(http, batch_id, lambda b: b["request_counts"]["completed"] >= 2, 600)
        print(f"loaded: the same while batch {batch_id} runs ...", flush=True)
        loaded = _probe(http, args.probes, args.max_tokens)
        during = _batch(http, batch_id)
        still_running = during["status"] == "in_progress"
        done = _wait(http, batch_id, lambda b: b["status"] in ("completed", "failed"), args.batch_timeout)
        print(f"idle again: {args.probes} interactive requests ...", flush=True)
        idle_after = _probe(http, args.probes, args.max_tokens)
    seconds = max(1, done["completed_at"] - done["in_progress_at"])
    return {
        "idle_before": idle_before,
        "loaded": loaded,
        "idle_after": idle_after,
        "batch": {
            "id": batch_id,
            "status": done["status"],
            "request_counts": done["request_counts"],
            "lines_per_second": round(done["request_counts"]["completed"] / seconds, 2),
            "seconds": seconds,
            "completed_when_probe_started": started["request_counts"]["completed"],
            "completed_when_probe_ended": during["request_counts"]["completed"],
            "ran_through_whole_probe": still_running,
        },
    }


def main() -> int:
    """Starts the stack, measures, prints and writes the results."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=1000, help="requests in the batch (default 1000)")
    parser.add_argument("--probes", type=int, default=40, help="interactive requests per phase (default 40)")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=16)
    parser.add_argument("--batch-concurrency", type=int, default=None, help="GATEWAY_BATCH_CONCURRENCY")
    parser.add_argument("--batch-priority", type=int, default=None, help="GATEWAY_BATCH_PRIORITY")
    parser.add_argument("--batch-timeout", type=float, default=3600)
    parser.add_argument("--model", default=str(ROOT / "var" / "models" / MODEL))
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--check", action="store_true", help="exit 1 when the goal is missed")
    args = parser.parse_args()

    env = {}
    if args.batch_concurrency is not None:
        env["GATEWAY_BATCH_CONCURRENCY"] = str(args.batch_concurrency)
    if args.batch_priority is not None:
        env["GATEWAY_BATCH_PRIORITY"] = str(args.batch_priority)
    with temporary_stack(
        "tw-bench-batches-", model=args.model, bootstrap_key=BOOTSTRAP_KEY, env=env
    ) as stack:
        key = member_key(stack.gateway_url, BOOTSTRAP_KEY, "bench-batches")
        result = measure(stack.gateway_url, key, args)

    idle = result["idle_before"] + result["idle_after"]
    summary = {
        "idle": _summary(idle),
        "idle_before": _summary(result["idle_before"]),
        "idle_after": _summary(result["idle_after"]),
        "loaded": _summary(result["loaded"]),
    }
    ratio = summary["loaded"]["p50_ms"] / summary["idle"]["p50_ms"]
    report = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": len(os.sched_getaffinity(0)), "platform": platform.platform()},
        "python": platform.python_version(),
        "arguments": {k: str(v) for k, v in vars(args).items()},
        "summary": summary,
        "p50_ratio": round(ratio, 3),
        "goal_ratio": GOAL_RATIO,
        "batch": result["batch"],
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2))
    print(f"\n{'phase':<12} {'p50 ms':>8} {'p90 ms':>8} {'mean ms':>8}")
    for name, values in summary.items():
        print(f"{name:<12} {values['p50_ms']:>8.2f} {values['p90_ms']:>8.2f} {values['mean_ms']:>8.2f}")
    batch = result["batch"]
    print(f"\nbatch: {batch['request_counts']} in {batch['seconds']} s, {batch['lines_per_second']} lines/s")
    if not batch["ran_through_whole_probe"]:
        print("warning: the batch ended before the loaded probe did; use more --lines", file=sys.stderr)
    verdict = "PASS" if ratio <= GOAL_RATIO else "MISS"
    print(f"interactive p50 while the batch runs / idle: {ratio:.3f}, goal <= {GOAL_RATIO}: {verdict}")
    return 1 if args.check and ratio > GOAL_RATIO else 0


if __name__ == "__main__":
    raise SystemExit(main())
