"""200 concurrent streaming chats for 60 s through the gateway: does every stream end whole? (issue 14 §2)

Starts the tuneway stack (tuneway.devstack.launcher, free ports, a temporary data dir, the demo model),
then keeps --concurrency streamed chat completions in flight for --seconds: each of --concurrency
workers sends one, reads it to the end, and sends the next, until the time is up (streams started
before then are read to their end). Every stream must answer 200, carry a finish reason and end with
`data: [DONE]`; anything else is counted by kind (status, error event, cut stream, client error).

Reports streams completed, the problems (goal: 0), streams/s, and p50/p90/p99 of the whole stream and
of the first token; writes bench/results/stream_load.json.

    .venv/bin/python bench/stream_load.py [--concurrency 200] [--seconds 60] [--max-tokens 16]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import sys
import time
from collections import Counter
from pathlib import Path

import aiohttp
from bench_stack import member_key, temporary_stack
from chat_load import QUESTIONS, StreamOutcome, stream_chat, summary

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "stream_load.json"
BOOTSTRAP_KEY = "tw-bench-streams-00000000000000000000"


async def drive(
    gateway: str, key: str, model: str, args: argparse.Namespace
) -> tuple[list[StreamOutcome], float]:
    headers = {"Authorization": f"Bearer {key}"}
    outcomes: list[StreamOutcome] = []
    deadline = time.monotonic() + args.seconds
    # One connection per stream, none shared: as 200 separate clients would call.
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=args.stream_timeout)

    async def worker(number: int) -> None:
        sequence = number
        while time.monotonic() < deadline:
            body = {
                "model": model,
                "messages": [{"role": "user", "content": QUESTIONS[sequence % len(QUESTIONS)]}],
                "max_tokens": args.max_tokens,
                "user": f"user-{sequence % 500}",
            }
            outcomes.append(await stream_chat(session, gateway, headers, body))
            sequence += args.concurrency

    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        started = time.monotonic()
        await asyncio.gather(*(worker(n) for n in range(args.concurrency)))
        elapsed = time.monotonic() - started
    return outcomes, elapsed


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--max-tokens", type=int, default=16)
    parser.add_argument("--stream-timeout", type=float, default=120, help="seconds one stream may take")
    parser.add_argument("--model", default=str(ROOT / "var" / "models" / "tuneway-tiny"))
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()

    with temporary_stack("tw-bench-streams-", model=args.model, bootstrap_key=BOOTSTRAP_KEY) as stack:
        key = member_key(stack.gateway_url, BOOTSTRAP_KEY, "streams")
        model = Path(args.model).name
        print("warming up ...", flush=True)
        asyncio.run(drive(stack.gateway_url, key, model, argparse.Namespace(**{**vars(args), "seconds": 5})))
        print(f"{args.concurrency} streams at once for {args.seconds:.0f} s ...", flush=True)
        outcomes, elapsed = asyncio.run(drive(stack.gateway_url, key, model, args))
        stack.check_alive()

    whole = [o for o in outcomes if not o.problem]
    problems = Counter(o.problem for o in outcomes if o.problem)
    report = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": len(os.sched_getaffinity(0)), "platform": platform.platform()},
        "concurrency": args.concurrency,
        "seconds": args.seconds,
        "max_tokens": args.max_tokens,
        "streams": len(outcomes),
        "whole_streams": len(whole),
        "problems": dict(problems),
        "streams_per_second": round(len(outcomes) / elapsed, 2),
        "stream": summary([o.seconds for o in whole]),
        "first_token": summary([o.first_token_seconds for o in whole if o.first_token_seconds is not None]),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2))
    print(json.dumps({k: v for k, v in report.items() if k != "machine"}, indent=2))
    return 0 if not problems and outcomes else 1


if __name__ == "__main__":
    sys.exit(main())
