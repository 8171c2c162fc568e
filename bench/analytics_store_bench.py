"""The analytics store's two goals (issue 11), on SQLite and on PostgreSQL:

  ingest    already-classified CompletionEvents (plus ~10% feedback) written through the store's write
            path (EventWriter: events insert ignoring duplicates, feedback, hourly and daily rollup
            upserts for the 46 dimension sets, one transaction per batch of the consumer's default
            size); goal >= 20,000 events/s on 2 cores. Two streams:
              backfill  one tenant's 30 days replayed at full speed (each batch spans hours, so it
                        touches many hourly rows): the data the summaries are then timed on;
              live      a stream stamped at 20,000 events/s from now on, spread over 20 tenants
                        (Zipf): what the consumer meets under that load, where every tenant has few
                        events per batch, all in the open day (hourly rollup rows only: the folding
                        job adds closed days up into daily rows later).
            Each store starts as the service does: migrated, then closed days folded (none yet).
  summary   GetSummary's read path (SummaryReader) over the whole 30 days: group_by none, one and two
            dimensions, a filter, a filter with a group, partial days (p50 and p95 of 50 runs each;
            goal p50 <= 100 ms), and one 3-dimension query the raw events answer (5 runs, reported,
            not held to the goal).

Events are seeded and realistic: 30 days, a few assistants each with its prompt versions, variants and
an experiment, ~10 query types (Zipf), 4 channels, 5 languages, base and adapter traffic, 2% errors,
log-normal latencies. Classification is the retriever's cost (cached per text) and is not measured here
(see bench/query_type_accuracy.py). PostgreSQL: a scratch database created and dropped on
127.0.0.1:5432 (TUNEWAY_BENCH_POSTGRES_URL overrides the admin URL). Besides the rate, the ingest's CPU
seconds are reported (this process, and PostgreSQL's backends where /proc shows them): on a shared
machine the work done is steadier than the rate. Writes bench/results/analytics_store.json.

    .venv/bin/python bench/analytics_store_bench.py [--events 1000000] [--stores sqlite,postgresql]
        [--streams backfill,live]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import text as sql_text

from tuneway.analytics.domain import Slice, Window
from tuneway.analytics.ingest import ClassifiedCompletion, EventWriter
from tuneway.analytics.main import MIGRATIONS
from tuneway.analytics.rollup_folding import fold_closed_days
from tuneway.analytics.settings import AnalyticsSettings
from tuneway.analytics.summaries import SummaryReader
from tuneway.api.events.v1 import events_pb2
from tuneway.core.db import create_engine, session_factory, upgrade_database

ROOT = Path(__file__).resolve().parent.parent
TENANT = "bench-tenant"
START_MS = 1_767_225_600_000
DAYS = 30
SETTINGS = AnalyticsSettings()
BATCH = SETTINGS.batch_size  # the consumer's default batch
RUNS = 50
POSTGRES_ADMIN = os.environ.get("TUNEWAY_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
ASSISTANTS = {  # name -> (base model, adapter, prompt versions, experiment arms)
    "support": ("qwen2.5-7b", "", (3, 4, 5), ("control", "friendly")),
    "sales": ("qwen2.5-7b", "ft:qwen2.5-7b:acme:sales:j1", (1, 2), ()),
    "hr": ("llama-3.1-8b", "", (1, 2, 3, 4), ("control", "short")),
    "it-helpdesk": ("llama-3.1-8b", "ft:llama-3.1-8b:acme:it:j2", (2, 3), ()),
}
QUERY_TYPES = (
    "orders",
    "billing",
    "returns",
    "account",
    "technical problem",
    "product question",
    "shipping",
    "complaint",
    "asks for a human",
    "other",
)
CHANNELS, CHANNEL_P = ("web", "app", "email", "whatsapp"), (0.5, 0.3, 0.15, 0.05)
LANGUAGES, LANGUAGE_P = ("en", "de", "fr", "es", "it"), (0.5, 0.2, 0.12, 0.1, 0.08)
QUERIES = (
    Slice(TENANT, Window(START_MS, START_MS + DAYS * 86_400_000)),
    Slice(TENANT, Window(START_MS, START_MS + DAYS * 86_400_000), group_by=("assistant",)),
    Slice(TENANT, Window(START_MS, START_MS + DAYS * 86_400_000), group_by=("assistant", "query_type")),
    Slice(TENANT, Window(START_MS, START_MS + DAYS * 86_400_000), filters={"channel": "web"}),
    Slice(
        TENANT,
        Window(START_MS, START_MS + DAYS * 86_400_000),
        group_by=("assistant",),
        filters={"channel": "web"},
    ),
    # Not whole days: hourly rows at both ends.
    Slice(TENANT, Window(START_MS + 5 * 3_600_000, START_MS + 20 * 86_400_000 + 7 * 3_600_000)),
    # Three dimensions: no rollup set keeps them, the raw events answer (not held to the goal).
    Slice(
        TENANT,
        Window(START_MS, START_MS + DAYS * 86_400_000),
        group_by=("assistant", "query_type", "language"),
    ),
)
NAMES = (
    "none",
    "assistant",
    "assistant+query_type",
    "filter channel=web",
    "channel=web by assistant",
    "partial days, none",
    "fallback: 3 dimensions",
)
FALLBACK = "fallback: 3 dimensions"
FALLBACK_RUNS = 5
ANALYZE_EVERY = max(100_000 // BATCH, 1)  # batches
LIVE_RATE = 20_000  # events/s: the goal
LIVE_TENANTS = 20


def generate(
    count: int, seed: int = 11, live: bool = False
) -> tuple[list[ClassifiedCompletion], list[events_pb2.FeedbackEvent]]:
    """`count` completions in time order, and feedback on ~10% of them: over 30 days for one tenant, or
    (`live`) stamped at LIVE_RATE events/s from now over LIVE_TENANTS tenants."""
    rng = np.random.default_rng(seed)
    if live:
        now_ms = int(time.time() * 1000)
        times = now_ms + np.arange(count, dtype=np.int64) * 1000 // LIVE_RATE
        zipf_tenants = 1 / np.arange(1, LIVE_TENANTS + 1)
        tenant_of = rng.choice(LIVE_TENANTS, size=count, p=zipf_tenants / zipf_tenants.sum())
    else:
        times = np.sort(rng.integers(START_MS, START_MS + DAYS * 86_400_000, size=count))
        tenant_of = np.zeros(count, dtype=np.int64)
    names = list(ASSISTANTS)
    assistant_of = rng.choice(len(names) + 1, size=count, p=(0.4, 0.2, 0.15, 0.1, 0.15))  # last: no assistant
    zipf = 1 / np.arange(1, len(QUERY_TYPES) + 1)
    query_of = rng.choice(len(QUERY_TYPES), size=count, p=zipf / zipf.sum())
    channel_of = rng.choice(len(CHANNELS), size=count, p=CHANNEL_P)
    language_of = rng.choice(len(LANGUAGES), size=count, p=LANGUAGE_P)
    latency = rng.lognormal(6.5, 0.8, size=count)
    ttft = latency * rng.uniform(0.1, 0.4, size=count)
    tokens = rng.integers(20, 800, size=count)
    failed = rng.random(count) < 0.02
    progress = (times - (int(times[0]) if live else START_MS)) / (DAYS * 86_400_000)
    picks = rng.random(count)
    completions: list[ClassifiedCompletion] = []
    feedback: list[events_pb2.FeedbackEvent] = []
    for i in range(count):
        language, channel = LANGUAGES[language_of[i]], CHANNELS[channel_of[i]]
        fields: dict[str, Any] = {
            "request_id": f"chatcmpl-{i:08d}",
            "tenant_id": TENANT if not live else f"{TENANT}-{tenant_of[i]}",
            "created_at_ms": int(times[i]),
            "endpoint": "chat.completions",
            "language": language,
            "channel": channel,
            "user": f"user{int(picks[i] * 20_000)}",
            "status": "error" if failed[i] else "ok",
            "error_code": "server_error" if failed[i] else "",
            "prompt_tokens": int(tokens[i]),
            "completion_tokens": int(tokens[i] // 2),
            "latency_ms": float(latency[i]),
            "time_to_first_token_ms": float(ttft[i]),
        }
        if assistant_of[i] < len(names):
            name = names[assistant_of[i]]
            base, adapter, versions, arms = ASSISTANTS[name]
            # Newer versions take over as the month goes on.
            version = versions[min(int(progress[i] * len(versions) + picks[i] * 0.5), len(versions) - 1)]
            variant = (
                f"{language}+{channel}"
                if language in ("de", "fr") and channel == "web"
                else (language if language != "en" else "default")
            )
            fields.update(
                kind="assistant",
                model=f"assistant:{name}",
                base_model=base,
                adapter=adapter,
                assistant=name,
                prompt_name=name,
                prompt_version=version,
                variant=variant,
                knowledge_sources=int(picks[i] * 5),
                knowledge_no_answer=picks[i] < 0.05,
            )
            if arms:
                fields.update(
                    experiment_id=f"exp-{name}", experiment_arm=arms[int(picks[i] * 1000) % len(arms)]
                )
        elif picks[i] < 0.3:
            fields.update(
                kind="adapter",
                model="ft:qwen2.5-7b:acme:sales:j1",
                base_model="qwen2.5-7b",
                adapter="ft:qwen2.5-7b:acme:sales:j1",
            )
        else:
            fields.update(kind="base", model="qwen2.5-7b", base_model="qwen2.5-7b")
        event = events_pb2.CompletionEvent(**fields)
        completions.append(ClassifiedCompletion(event, QUERY_TYPES[query_of[i]]))
        if i % 10 == 3:
            feedback.append(
                events_pb2.FeedbackEvent(
                    feedback_id=f"fb-{i}",
                    tenant_id=event.tenant_id,
                    completion_id=event.request_id,
                    user=event.user,
                    created_at_ms=int(times[i]) + 30_000,
                    rating=1 if picks[i] > 0.3 else -1,
                )
            )
    return completions, feedback


def process_cpu(pid: int) -> float | None:
    """The CPU seconds process `pid` has used (user and system), None where /proc does not say."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def database_cpu(engine: Any) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend serving the bench's database (a server on this
    machine; {} where /proc cannot tell): on a shared machine the work done is steadier than the rate."""
    async with engine.connect() as connection:
        statement = sql_text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        pids = list((await connection.execute(statement)).scalars())
    return {pid: seconds for pid in pids if (seconds := process_cpu(pid)) is not None}


async def ingest(
    url: str, completions: list[ClassifiedCompletion], feedback: list[events_pb2.FeedbackEvent]
) -> tuple[Any, dict[str, float]]:
    """Writes everything batch by batch into a new store at `url`: (its engine, the seconds it took and
    the CPU seconds of this process and, on PostgreSQL, of the database's backends)."""
    await upgrade_database(url, MIGRATIONS)
    engine = create_engine(url)
    sessions = session_factory(engine)
    # As the service starts: the days that ended are folded (on a new store, nothing to add up; from now
    # on the backfill's days are folded, so its batches write their daily rows directly).
    await fold_closed_days(sessions, int(time.time() * 1000), int(SETTINGS.rollup_fold_grace_seconds * 1000))
    writer = EventWriter(sessions)
    by_batch: dict[int, list[events_pb2.FeedbackEvent]] = {}
    for item in feedback:
        index = int(item.completion_id.rsplit("-", 1)[1])
        by_batch.setdefault(index // BATCH + 1, []).append(item)  # a batch later: its completion is stored
    postgresql = url.startswith("postgresql")
    database_before = await database_cpu(engine) if postgresql else {}
    started, cpu_started = time.perf_counter(), time.process_time()
    for number, start in enumerate(range(0, len(completions), BATCH)):
        await writer.write(completions[start : start + BATCH], by_batch.get(number, []))
        if url.startswith("postgresql") and number % ANALYZE_EVERY == ANALYZE_EVERY - 1:
            # Autovacuum's job, which the bench's server may have turned off: without statistics the
            # planner scans whole tables for the batch's feedback and completion look-ups. Timed too.
            async with engine.begin() as connection:
                await connection.execute(sql_text("ANALYZE events, feedback, rollups, rollup_errors"))
    timing = {
        "ingest_seconds": time.perf_counter() - started,
        "python_cpu_seconds": time.process_time() - cpu_started,
    }
    if postgresql:
        after = await database_cpu(engine)
        timing["database_cpu_seconds"] = sum(after[pid] - database_before.get(pid, 0.0) for pid in after)
    return engine, timing


async def run_live(
    url: str, completions: list[ClassifiedCompletion], feedback: list[events_pb2.FeedbackEvent]
) -> dict[str, Any]:
    engine, timing = await ingest(url, completions, feedback)
    async with engine.connect() as connection:
        stored = (await connection.execute(sql_text("SELECT COUNT(*) FROM events"))).scalar_one()
    await engine.dispose()
    assert stored == len(completions), (stored, len(completions))
    return {
        "events": len(completions),
        "tenants": LIVE_TENANTS,
        **timing,
        "events_per_second": len(completions) / timing["ingest_seconds"],
        "batch_size": BATCH,
    }


async def run_store(
    url: str, completions: list[ClassifiedCompletion], feedback: list[events_pb2.FeedbackEvent]
) -> dict[str, Any]:
    engine, timing = await ingest(url, completions, feedback)
    reader = SummaryReader(session_factory(engine))
    total = (await reader.summary(QUERIES[0])).total
    assert total.requests == len(completions), (total.requests, len(completions))
    summaries: dict[str, dict[str, float]] = {}
    for name, query in zip(NAMES, QUERIES, strict=True):
        timings = []
        for _ in range(FALLBACK_RUNS if name == FALLBACK else RUNS):
            began = time.perf_counter()
            await reader.summary(query)
            timings.append((time.perf_counter() - began) * 1000)
        timings.sort()
        summaries[name] = {
            "p50_ms": statistics.median(timings),
            "p95_ms": timings[int(0.95 * (len(timings) - 1))],
        }
    async with engine.connect() as connection:
        rollup_rows = (
            await connection.execute(sql_text("SELECT period_ms, COUNT(*) FROM rollups GROUP BY period_ms"))
        ).all()
        error_rows = (await connection.execute(sql_text("SELECT COUNT(*) FROM rollup_errors"))).scalar_one()
    await engine.dispose()
    return {
        "events": len(completions),
        "feedback": len(feedback),
        **timing,
        "events_per_second": len(completions) / timing["ingest_seconds"],
        "batch_size": BATCH,
        "rollup_rows": {("hourly" if p == 3_600_000 else "daily"): n for p, n in rollup_rows},
        "rollup_error_rows": error_rows,
        "summary": summaries,
    }


async def postgres_scratch() -> tuple[str, str]:
    import asyncpg

    name = f"tuneway_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(POSTGRES_ADMIN)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base = POSTGRES_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return name, f"{base}/{name}"


async def drop_postgres(name: str) -> None:
    import asyncpg

    admin = await asyncpg.connect(POSTGRES_ADMIN)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def run_in_store(store: str, run: Any, *data: Any) -> dict[str, Any]:
    """`run(url, *data)` in a new SQLite file or PostgreSQL database, removed afterwards."""
    if store == "sqlite":
        with tempfile.TemporaryDirectory() as directory:
            return dict(await run(f"sqlite+aiosqlite:///{directory}/bench.db", *data))
    name, url = await postgres_scratch()
    try:
        return dict(await run(url, *data))
    finally:
        await drop_postgres(name)


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--streams", default="backfill,live")
    args = parser.parse_args()
    results: dict[str, Any] = {}
    for stream in args.streams.split(","):
        began = time.perf_counter()
        completions, feedback = generate(args.events, live=stream == "live")
        print(
            f"{stream}: generated {len(completions):,} events and {len(feedback):,} feedback"
            f" in {time.perf_counter() - began:.1f}s"
        )
        run = run_live if stream == "live" else run_store
        for store in args.stores.split(","):
            results[f"{stream} {store}"] = result = await run_in_store(store, run, completions, feedback)
            verdict = "PASS" if result["events_per_second"] >= 20_000 else "MISS"
            print(
                f"\n{stream} {store}: ingest {result['events_per_second']:,.0f} events/s"
                f" (goal >= 20,000: {verdict}), batch {BATCH:,}"
            )
            cpu = f"  CPU: this process {result['python_cpu_seconds']:.1f} s"
            if "database_cpu_seconds" in result:
                cpu += f", PostgreSQL's backends {result['database_cpu_seconds']:.1f} s"
            print(cpu)
            for name, timing in result.get("summary", {}).items():
                if name == NAMES[0]:
                    print(f"  rollup rows {result['rollup_rows']}")
                    print(f"  {'summary':<24} {'p50 ms':>8} {'p95 ms':>8}  goal p50 <= 100 ms")
                mark = "(raw events)" if name == FALLBACK else "PASS" if timing["p50_ms"] <= 100 else "FAIL"
                print(f"  {name:<24} {timing['p50_ms']:>8.1f} {timing['p95_ms']:>8.1f}  {mark}")
        del completions, feedback
    output = ROOT / "bench" / "results" / "analytics_store.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps({"cpus": os.cpu_count(), "results": results}, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
