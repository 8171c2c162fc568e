"""What `n` saves: one chat request with n=4 against four separate requests of the same prompt sent at
once (issue 12 §8, goal: n=4's throughput >= 1.5x).

Starts the tuneway stack (tuneway.devstack.launcher, free ports, a temporary data dir) and runs rounds,
alternating which side goes first, each of `--units` units at once:

  n4        one request with `n: 4`: the gateway sends one generation, the engine computes the prompt
            once and samples four choices from it;
  separate  four requests of the same body without `n`, sent together.

Both sample (temperature 1) `--max-tokens` tokens per choice with `ignore_eos`, from a
prompt of about `--prompt-words` words that opens with a new case number in every unit (so no round
finds its prompt in vLLM's prefix cache from an earlier one), so both produce the same number of
completion tokens. The
throughput is completions per second over each side's summed round time; ratio = n4 / separate.
Writes bench/results/n_bench.json.

    .venv/bin/python bench/n_bench.py [--rounds 30] [--units 2] [--max-tokens 32] [--prompt-words 300]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import itertools
import json
import platform
import statistics
import time
from pathlib import Path
from typing import Any

import httpx
from bench_stack import member_key, temporary_stack

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "n_bench.json"
BOOTSTRAP_KEY = "tw-bench-n-000000000000000000000000000000"
GOAL_RATIO = 1.5
MODEL = "tuneway-tiny"
CHOICES = 4


_CASES = itertools.count(100000)


def _body(prompt_words: int, max_tokens: int, n: int | None, case: int) -> dict[str, Any]:
    context = " ".join(["The parcel left the depot in the morning and reached the city by noon."] * 200)
    # The case number opens the prompt, so that no round finds it in vLLM's prefix cache from an
    # earlier one: what n shares is the prompt within one request.
    body: dict[str, Any] = {
        "model": MODEL,
        "messages": [
            {"role": "system", "content": f"Case {case}. " + " ".join(context.split()[:prompt_words])},
            {"role": "user", "content": "Where is my parcel now?"},
        ],
        "max_tokens": max_tokens,
        "ignore_eos": True,
        # No seed: vLLM 0.32's CPU runner dies ("CPU Generator does not use offset") when a seeded
        # request's prompt is prefilled in chunks, as several long prompts at once are.
        "temperature": 1.0,
    }
    if n is not None:
        body["n"] = n
    return body


async def _post(http: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await http.post("/v1/chat/completions", json=body)
    response.raise_for_status()
    reply: dict[str, Any] = response.json()
    return reply


async def _round(
    http: httpx.AsyncClient, kind: str, units: int, prompt_words: int, max_tokens: int
) -> tuple[float, int]:
    """Seconds for `units` units of four completions each, and the completion tokens they produced."""
    # Each unit's prompt is new; a unit's four separate requests share theirs, as n=4's choices do.
    cases = [next(_CASES) for _ in range(units)]
    if kind == "n4":
        bodies = [_body(prompt_words, max_tokens, CHOICES, case) for case in cases]
    else:
        bodies = [_body(prompt_words, max_tokens, None, case) for case in cases for _ in range(CHOICES)]
    started = time.perf_counter()
    replies = await asyncio.gather(*(_post(http, body) for body in bodies))
    elapsed = time.perf_counter() - started
    assert sum(len(r["choices"]) for r in replies) == units * CHOICES, replies[0]
    return elapsed, sum(r["usage"]["completion_tokens"] for r in replies)


async def _run(gateway_url: str, key: str, args: argparse.Namespace) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {key}"}
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=gateway_url, headers=headers, timeout=120, limits=limits) as http:
        first = await _post(http, _body(args.prompt_words, args.max_tokens, CHOICES, next(_CASES)))
        prompt_tokens = first["usage"]["prompt_tokens"]
        for kind in ("n4", "separate", "n4", "separate"):  # warm-up of both paths
            await _round(http, kind, args.units, args.prompt_words, args.max_tokens)
        times: dict[str, list[float]] = {"n4": [], "separate": []}
        tokens: dict[str, int] = {"n4": 0, "separate": 0}
        for index in range(args.rounds):
            # Alternate which goes first, so neither always follows the other.
            order = ("n4", "separate") if index % 2 == 0 else ("separate", "n4")
            for kind in order:
                elapsed, generated = await _round(http, kind, args.units, args.prompt_words, args.max_tokens)
                times[kind].append(elapsed)
                tokens[kind] += generated
    completions = args.rounds * args.units * CHOICES
    rate = {kind: completions / sum(seconds) for kind, seconds in times.items()}
    return {
        "prompt_tokens": prompt_tokens,
        "completions_per_side": completions,
        "completion_tokens": tokens,
        "completions_per_s": rate,
        "round_p50_ms": {kind: statistics.median(seconds) * 1000 for kind, seconds in times.items()},
        "ratio": rate["n4"] / rate["separate"],
    }


def main() -> None:
    """Runs the rounds and prints and writes the ratio."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--units", type=int, default=2, help="units of four completions per round, at once")
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--prompt-words", type=int, default=300)
    parser.add_argument("--model", default=str(ROOT / "var" / "models" / MODEL))
    args = parser.parse_args()
    with temporary_stack("tuneway-n-bench-", model=args.model, bootstrap_key=BOOTSTRAP_KEY) as stack:
        key = member_key(stack.gateway_url, BOOTSTRAP_KEY, "bench")
        result = asyncio.run(_run(stack.gateway_url, key, args))
    rate, ratio = result["completions_per_s"], result["ratio"]
    verdict = "PASS" if ratio >= GOAL_RATIO else "MISS"
    print(
        f"prompt {result['prompt_tokens']} tokens, {args.max_tokens} completion tokens per choice, "
        f"{args.units} x {CHOICES} completions per round, {args.rounds} rounds per side"
    )
    p50 = result["round_p50_ms"]
    print(
        f"n=4: {rate['n4']:.2f} completions/s (round p50 {p50['n4']:.0f} ms); "
        f"4 separate: {rate['separate']:.2f} completions/s (round p50 {p50['separate']:.0f} ms)"
    )
    print(f"ratio {ratio:.3f}, goal >= {GOAL_RATIO}: {verdict}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "machine": f"{platform.node()} {platform.machine()}",
                "args": {k: v for k, v in vars(args).items() if k != "model"},
                **result,
                "goal": GOAL_RATIO,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
