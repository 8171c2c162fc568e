"""What a tool call costs over a plain chat request of the same length (issue 12 §8, goal <= 1.1x).

Starts the tuneway stack (tuneway.devstack.launcher, free ports, a temporary data dir) and sends, one at a
time and interleaved so that both see the same engine state:

  tool   a chat request with one function and `tool_choice` naming it: the request carries the tools
         through gRPC, the chat template renders them, the engine decodes the arguments under the
         function's JSON schema, and the gateway returns `tool_calls`;
  plain  the same conversation without tools, its system turn holding the same function declaration
         as text, padded with words until its prompt is as many tokens as the tool call's (whose
         template wraps the tools in instructions), with `max_tokens` set to the tool call's own
         completion tokens and `ignore_eos`, so both read and generate as many tokens.

Ratio = p50(tool) / p50(plain). Prompt and completion tokens of both are reported, so that a difference
in length shows. Writes bench/results/tool_call_bench.json.

    .venv/bin/python bench/tool_call_bench.py [--pairs 200]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import statistics
import time
from pathlib import Path
from typing import Any

import httpx
from bench_stack import member_key, temporary_stack

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "tool_call_bench.json"
BOOTSTRAP_KEY = "tw-bench-tools-00000000000000000000000000"
GOAL_RATIO = 1.1
MODEL = "tuneway-tiny"
FUNCTION = {
    "name": "track_parcel",
    "description": "Where a parcel is now.",
    "parameters": {
        "type": "object",
        "properties": {
            "tracking_number": {"type": "string", "maxLength": 12},
            "express": {"type": "boolean"},
        },
        "required": ["tracking_number", "express"],
        "additionalProperties": False,
    },
}
QUESTION = "Where is parcel 4711?"


def _tool_body() -> dict[str, Any]:
    return {
        "model": MODEL,
        "messages": [{"role": "user", "content": QUESTION}],
        "tools": [{"type": "function", "function": FUNCTION}],
        "tool_choice": {"type": "function", "function": {"name": FUNCTION["name"]}},
        "temperature": 0,
    }


def _plain_body(completion_tokens: int, padding: int = 0) -> dict[str, Any]:
    declared = "You may call this function: " + json.dumps(FUNCTION) + " parcel" * padding
    return {
        "model": MODEL,
        "messages": [{"role": "system", "content": declared}, {"role": "user", "content": QUESTION}],
        "max_tokens": completion_tokens,
        "ignore_eos": True,
        "temperature": 0,
    }


def _padding_to(http: httpx.Client, prompt_tokens: int) -> int:
    """How many filler words make the plain prompt as long as the tool call's (the template renders
    tools with instructions around them, so the declaration alone is shorter)."""
    padding = 0
    for _ in range(20):
        _, reply = _timed(http, _plain_body(1, padding))
        missing = prompt_tokens - reply["usage"]["prompt_tokens"]
        if missing <= 0:
            return padding
        padding += missing
    return padding


def _timed(http: httpx.Client, body: dict[str, Any]) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    response = http.post("/v1/chat/completions", json=body)
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    return elapsed, response.json()


def main() -> None:
    """Runs the pairs and prints and writes the ratio."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pairs", type=int, default=200)
    parser.add_argument("--model", default=str(ROOT / "var" / "models" / MODEL))
    args = parser.parse_args()
    with temporary_stack("tuneway-tool-bench-", model=args.model, bootstrap_key=BOOTSTRAP_KEY) as stack:
        key = member_key(stack.gateway_url, BOOTSTRAP_KEY, "bench")
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=stack.gateway_url, headers=headers, timeout=60) as http:
            _, first = _timed(http, _tool_body())
            assert first["choices"][0]["message"]["tool_calls"], first
            length = first["usage"]["completion_tokens"]
            padding = _padding_to(http, first["usage"]["prompt_tokens"])
            for _ in range(10):  # warm-up of both paths
                _timed(http, _tool_body())
                _timed(http, _plain_body(length, padding))
            tool_times, plain_times = [], []
            tool_usage = plain_usage = {}
            for pair in range(args.pairs):
                # Alternate which goes first, so neither always follows the other.
                order = ("tool", "plain") if pair % 2 == 0 else ("plain", "tool")
                for kind in order:
                    if kind == "tool":
                        elapsed, reply = _timed(http, _tool_body())
                        tool_times.append(elapsed)
                        tool_usage = reply["usage"]
                    else:
                        elapsed, reply = _timed(http, _plain_body(length, padding))
                        plain_times.append(elapsed)
                        plain_usage = reply["usage"]
    tool_p50, plain_p50 = statistics.median(tool_times), statistics.median(plain_times)
    ratio = tool_p50 / plain_p50
    verdict = "PASS" if ratio <= GOAL_RATIO else "MISS"
    print(f"tool call p50 {tool_p50 * 1000:.2f} ms, plain p50 {plain_p50 * 1000:.2f} ms ({args.pairs} pairs)")
    print(f"ratio {ratio:.3f}, goal <= {GOAL_RATIO}: {verdict}")
    tool_tokens = f"{tool_usage['prompt_tokens']}, {tool_usage['completion_tokens']}"
    plain_tokens = f"{plain_usage['prompt_tokens']}, {plain_usage['completion_tokens']}"
    print(f"tokens (prompt, completion): tool {tool_tokens}; plain {plain_tokens}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "machine": f"{platform.node()} {platform.machine()}",
                "pairs": args.pairs,
                "tool_p50_ms": tool_p50 * 1000,
                "plain_p50_ms": plain_p50 * 1000,
                "ratio": ratio,
                "goal": GOAL_RATIO,
                "tool_usage": tool_usage,
                "plain_usage": plain_usage,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
