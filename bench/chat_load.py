"""What the load benches share: one streamed chat completion, read to its end and checked."""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import dataclass
from typing import Any

import aiohttp

# What the benches' customers ask.
QUESTIONS = (
    "Where is my parcel? It should have arrived on Monday.",
    "How do I reset my password?",
    "Can I return shoes I bought three weeks ago?",
    "Why was I charged twice this month?",
)


@dataclass(frozen=True)
class StreamOutcome:
    """How one stream ended: `problem` is "" for a whole stream (a finish reason, then `[DONE]`)."""

    problem: str
    seconds: float
    first_token_seconds: float | None


async def stream_chat(
    session: aiohttp.ClientSession, gateway: str, headers: dict[str, str], body: dict[str, Any]
) -> StreamOutcome:
    """Sends `body` as a streamed chat completion and reads every event; a stream that ends without a
    finish reason or without `[DONE]`, or carries an error event, is a problem, as is any status but 200."""
    started = time.perf_counter()
    first_token: float | None = None
    finish_reason = None
    done = False

    def outcome(problem: str) -> StreamOutcome:
        return StreamOutcome(problem, time.perf_counter() - started, first_token)

    try:
        async with session.post(
            f"{gateway}/v1/chat/completions", json={**body, "stream": True}, headers=headers
        ) as response:
            if response.status != 200:
                await response.read()
                return outcome(f"status {response.status}")
            async for line in response.content:
                if not line.startswith(b"data: "):
                    continue
                data = line[len(b"data: ") :].strip()
                if data == b"[DONE]":
                    done = True
                    break
                event = json.loads(data)
                if "error" in event:
                    return outcome(f"error event {event['error'].get('code') or event['error'].get('type')}")
                for choice in event.get("choices", []):
                    if first_token is None and choice.get("delta", {}).get("content"):
                        first_token = time.perf_counter() - started
                    finish_reason = choice.get("finish_reason") or finish_reason
    except (TimeoutError, aiohttp.ClientError) as error:
        return outcome(type(error).__name__)
    if not done:
        return outcome("no [DONE]")
    if finish_reason is None:
        return outcome("no finish_reason")
    return outcome("")


def percentile(values: list[float], fraction: float) -> float:
    """The value below which `fraction` of `values` lie (nearest rank), in milliseconds."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000, 1)


def summary(seconds: list[float]) -> dict[str, float]:
    """p50, p90, p99 and mean in milliseconds."""
    return {
        "p50_ms": percentile(seconds, 0.50),
        "p90_ms": percentile(seconds, 0.90),
        "p99_ms": percentile(seconds, 0.99),
        "mean_ms": round(statistics.fmean(seconds) * 1000, 1) if seconds else float("nan"),
    }
