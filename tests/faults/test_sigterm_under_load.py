"""SIGTERM to each service under load (issue 14 §1): the whole stack, started by the launcher as `make run`
starts it, serves a tenant's traffic through the gateway (plain and streamed chats, an assistant with a
prompt and knowledge, embeddings, prompt reads, feedback and analytics, fine-tuning, a batch) while one
service at a time gets SIGTERM on its process group, as the launcher's `stop_service` (and Kubernetes)
stops it. For each:

- work in flight completes: calls already inside it are answered; a job or a batch it holds is handed
  back and finished by the restarted worker, nothing lost or done twice;
- it exits on its own (code 0, or the gateway by the signal it caught once drained; never the
  launcher's SIGKILL) within its drain window, read from its settings, and frees its ports;
- meanwhile every call that needs it gets a clean 503 with Retry-After: never a 500, never a hang
  (the gateway itself, with nothing in front of it, stops accepting connections);
- started again with the same command, it serves the same load.

One stack serves every case, each leaving it whole again for the next."""

from __future__ import annotations

import inspect
import json
import re
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.faults.stack_helpers import (
    BASE,
    create_job,
    job_events,
    member_client,
    read_job,
    requests_counted,
    serves_a_chat,
    stack_on_own_nats,
    upload_training_file,
    wait_for_checkpoint,
    wait_job,
    wait_until_served,
)
from tuneway.analytics.settings import AnalyticsSettings
from tuneway.core.lifecycle import THREAD_GRACE_SECONDS
from tuneway.core.testing.processes import port_open
from tuneway.devstack.launcher import Stack
from tuneway.gateway.settings import GatewaySettings
from tuneway.inference.main import ENGINE_STOP_SECONDS
from tuneway.inference.settings import InferenceSettings
from tuneway.prompt_svc.settings import PromptSettings
from tuneway.retriever.settings import RetrieverSettings
from tuneway.trainer.settings import TrainerSettings

pytestmark = [pytest.mark.e2e, pytest.mark.faults]
ADMIN_KEY = "sk-tw-sigterm-admin-0123456789abcdef0123456789abcdef"
BOT = "assistant:sigterm-bot"
EMBEDDER = "all-MiniLM-L6-v2"
# The launcher waits this long after SIGTERM before it sends SIGKILL: the bound for the workers, whose
# stop is "finish the step or the lines in hand, then hand back" rather than a drain window.
LAUNCHER_STOP_SECONDS: float = inspect.signature(Stack.stop_service).parameters["timeout"].default
# Beyond a drain window: the process's own exit (worker threads' grace, closing clients and
# connections) on a busy 2-core machine.
EXIT_MARGIN = THREAD_GRACE_SECONDS + 8


def _default(settings: Any, name: str) -> float:
    return float(settings.model_fields[name].default)


# How long each service may take to exit after SIGTERM: its drain window from its settings, plus the
# margin (inference also stops its engine after the drain).
EXIT_WITHIN = {
    "gateway": _default(GatewaySettings, "drain_seconds") + EXIT_MARGIN,
    "inference": _default(InferenceSettings, "drain_seconds") + ENGINE_STOP_SECONDS + EXIT_MARGIN,
    "prompt-svc": _default(PromptSettings, "drain_seconds") + EXIT_MARGIN,
    "retriever": _default(RetrieverSettings, "drain_seconds") + EXIT_MARGIN,
    "analytics": _default(AnalyticsSettings, "drain_seconds") + EXIT_MARGIN,
    "trainer": _default(TrainerSettings, "drain_seconds") + EXIT_MARGIN,
    "trainer-worker": LAUNCHER_STOP_SECONDS,
    "batch-worker": LAUNCHER_STOP_SECONDS,
}
HANG_SECONDS = 30
POLICY = """# Returns policy

Unused items can be returned within 30 days of delivery for a full refund. Opened electronics can be
returned within 14 days. Refunds reach the original payment method within five working days.
"""


@dataclass
class Outcome:
    operation: str
    started: float
    ended: float
    status: int  # 0: no HTTP answer (the connection failed)
    retry_after: str | None
    detail: str
    # A stream's first chunk: from then on it was being generated.
    first: float | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def in_flight_at(self, moment: float) -> bool:
        """Whether the call was being generated at `moment`: a stream that had its first chunk and had not
        ended. (Other calls are counted by the service's own drain: `_assert_drained`.)"""
        return self.first is not None and self.first < moment < self.ended


@dataclass
class Under:
    stack: Stack
    http: httpx.Client
    tenant_id: str
    nats_url: str
    kb: str
    file_id: str
    completion_id: str
    jobs: list[str] = field(default_factory=list)


Operation = Callable[[httpx.Client], Outcome]


def _answer(operation: str, started: float, call: Callable[[], httpx.Response]) -> Outcome:
    try:
        response = call()
        detail = "" if response.is_success else response.text[:300]
        retry = response.headers.get("Retry-After")
        return Outcome(operation, started, time.monotonic(), response.status_code, retry, detail)
    except httpx.HTTPError as error:
        return Outcome(operation, started, time.monotonic(), 0, None, repr(error))


def _request(operation: str, method: str, path: str, **extra: Any) -> Operation:
    def call(http: httpx.Client) -> Outcome:
        started = time.monotonic()
        return _answer(operation, started, lambda: http.request(method, path, **extra))

    return call


def _streamed(
    operation: str, model: str, max_tokens: int, generating: threading.Event | None = None
) -> Operation:
    """A streamed chat; a 200 counts only if it ends with a finish reason and [DONE], without an error
    event. `generating` is set at each stream's first chunk."""
    body = {
        "model": model,
        "messages": [{"role": "user", "content": "How long do I have to return an opened laptop?"}],
        "max_tokens": max_tokens,
        "ignore_eos": True,
        "stream": True,
    }

    def call(http: httpx.Client) -> Outcome:
        started = time.monotonic()
        try:
            with http.stream("POST", "/v1/chat/completions", json=body) as response:
                if response.status_code != 200:
                    response.read()
                    retry = response.headers.get("Retry-After")
                    ended = time.monotonic()
                    return Outcome(
                        operation, started, ended, response.status_code, retry, response.text[:300]
                    )
                finish, done, problem, first = None, False, "", None
                for line in response.iter_lines():
                    if line == "data: [DONE]":
                        done = True
                    elif line.startswith("data: "):
                        if first is None and generating is not None:
                            generating.set()
                        first = first or time.monotonic()
                        event = json.loads(line.removeprefix("data: "))
                        if "error" in event:
                            problem = f"error event: {event['error']}"
                        for choice in event.get("choices", []):
                            finish = choice.get("finish_reason") or finish
        except httpx.HTTPError as error:
            return Outcome(operation, started, time.monotonic(), 0, None, repr(error))
        if problem or not (done and finish):
            detail = problem or f"truncated stream (finish {finish}, [DONE] {done})"
            return Outcome(operation, started, time.monotonic(), -1, None, detail, first)
        return Outcome(operation, started, time.monotonic(), 200, None, "", first)

    return call


def _chat(operation: str, model: str, max_tokens: int = 8) -> Operation:
    body = {"model": model, "messages": [{"role": "user", "content": "Hello"}], "max_tokens": max_tokens}
    return _request(operation, "POST", "/v1/chat/completions", json=body)


def _embeddings(inputs: int) -> Operation:
    words = "The refund reaches the original payment method within five working days of the return. "
    body = {"model": EMBEDDER, "input": [f"{words * 3}{n}" for n in range(inputs)]}
    return _request("embeddings", "POST", "/v1/embeddings", json=body)


class Load:
    """Threads that repeat operations through the gateway until stopped; every outcome is kept."""

    def __init__(self, http: httpx.Client, operations: list[Operation], threads_each: int = 1) -> None:
        self._http = http
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.outcomes: list[Outcome] = []
        self._threads = [
            threading.Thread(target=self._repeat, args=(operation,), daemon=True)
            for operation in operations
            for _ in range(threads_each)
        ]

    def _repeat(self, operation: Operation) -> None:
        while not self._stop.is_set():
            outcome = operation(self._http)
            with self._lock:
                self.outcomes.append(outcome)
            if not outcome.ok:
                time.sleep(0.1)  # as a client honouring Retry-After would, briefly

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(HANG_SECONDS + 30)
            assert not thread.is_alive(), "a call hung"

    def wait_for(self, count: int, timeout: float = 120) -> None:
        """Waits until `count` calls have been answered successfully (the load is running)."""
        deadline = time.monotonic() + timeout
        while sum(o.ok for o in list(self.outcomes)) < count:
            assert time.monotonic() < deadline, f"the load did not run: {self.outcomes[-5:]}"
            time.sleep(0.1)


def _sigterm(stack: Stack, name: str) -> float:
    """SIGTERM to the service's process group, as the launcher stops it; waits for its exit and asserts it
    exited on its own, with code 0, within its drain window. How long it took."""
    process = stack.processes[name]
    signalled = time.monotonic()
    stack.stop_service(name, signal.SIGTERM, timeout=EXIT_WITHIN[name] + 30)
    took = time.monotonic() - signalled
    print(f"{name} exited {took:.1f} s after SIGTERM (code {process.returncode})")
    # uvicorn, once drained, raises the SIGTERM it caught again, so that the gateway ends as the signal's
    # default action ends a process (what a supervisor reads as "stopped by SIGTERM"); the others
    # return from their drain with 0. Neither is the launcher's SIGKILL.
    clean = (0, -signal.SIGTERM) if name == "gateway" else (0,)
    assert process.returncode in clean, f"{name} exited with {process.returncode}\n{stack.log_tail(name)}"
    assert took < EXIT_WITHIN[name], f"{name} took {took:.1f} s to exit (drain window + margin)"
    return signalled


def _assert_clean(outcomes: list[Outcome], signalled: float, *, gone: set[str]) -> None:
    """Every call was answered in time; a call that failed was a 503 with Retry-After after the signal
    (for the operations in `gone`, whose service was away), and none that was in flight at the signal
    failed."""
    hung = [o for o in outcomes if o.ended - o.started > HANG_SECONDS]
    assert not hung, hung[:3]
    failed = [o for o in outcomes if not o.ok]
    assert not [o for o in failed if o.ended < signalled], "calls failed before the signal"
    unclean = [o for o in failed if o.status != 503 or not o.retry_after or o.operation not in gone]
    assert not unclean, unclean[:5]
    cut = [o for o in failed if o.in_flight_at(signalled)]
    assert not cut, f"calls in flight at the signal failed: {cut[:5]}"


def _assert_drained(stack: Stack, name: str, *, some_in_flight: bool) -> None:
    """The service's drain cut off none of the calls in flight when it began (its log's last "drained"
    line); with `some_in_flight`, there were some."""
    lines = (stack.log_dir / f"{name}.log").read_text().splitlines()
    drained = [entry for entry in map(_json_or_none, lines) if entry and entry.get("message") == "drained"]
    assert drained, f"{name} logged no drain\n{stack.log_tail(name)}"
    print(f"{name}'s drain: {drained[-1]['in_flight']} calls in flight, {drained[-1]['cut']} cut")
    assert drained[-1]["cut"] == 0, drained[-1]
    assert drained[-1]["in_flight"] > 0 or not some_in_flight, "no call was in flight at the signal"


def _json_or_none(line: str) -> dict[str, Any] | None:
    try:
        entry = json.loads(line)
    except ValueError:
        return None  # a library's own output
    return entry if isinstance(entry, dict) else None


def _finished_in_flight(outcomes: list[Outcome], signalled: float, operations: set[str]) -> None:
    """Some of `operations` were in flight at the signal, and each of them was answered in full."""
    spanning = [o for o in outcomes if o.operation in operations and o.in_flight_at(signalled)]
    seen = [(o.operation, o.status, round(o.ended - o.started, 1)) for o in spanning]
    print(f"{len(spanning)} calls in flight at the signal (operation, status, seconds): {seen}")
    assert spanning, "no call was in flight at the signal"
    assert all(o.ok for o in spanning), [o for o in spanning if not o.ok]


def _restart_and_serve(
    under: Under, name: str, load: Load, operations: set[str], timeout: float = 300
) -> None:
    """Starts the service again with its command; returns once every operation in `operations` has
    succeeded again under the load (started after the restart)."""
    stack = under.stack
    stack.restart_service(name)
    restarted = time.monotonic()
    deadline = restarted + timeout
    while True:
        stack.check_alive()
        served = {o.operation for o in list(load.outcomes) if o.started > restarted and o.ok}
        if operations <= served:
            print(f"{name} served again {time.monotonic() - restarted:.1f} s after its restart")
            return
        assert time.monotonic() < deadline, f"{name} did not serve {operations - served} again\n" + (
            stack.log_tail(name)
        )
        time.sleep(0.5)


def _ports_free(*ports: int) -> None:
    assert not [port for port in ports if port_open("127.0.0.1", port)], "a port is still bound"


def _stop_under_load(
    under: Under, name: str, operations: list[Operation], *, gone: set[str], ports: tuple[int, ...]
) -> tuple[list[Outcome], float]:
    """A gRPC service under the load of `operations`: SIGTERM (its exit and its drain checked), its ports
    free, calls meeting it away, then started again until the operations in `gone` (those that need it)
    succeed again. Every call was clean and some met it away. The outcomes, and when it was signalled."""
    with Load(under.http, operations) as load:
        load.wait_for(6)
        signalled = _sigterm(under.stack, name)
        _assert_drained(under.stack, name, some_in_flight=name == "retriever")
        _ports_free(*ports)
        time.sleep(2)  # calls while it is away
        _restart_and_serve(under, name, load, gone, timeout=420)
    _assert_clean(load.outcomes, signalled, gone=gone)
    assert [o for o in load.outcomes if o.status == 503], f"no call met {name} away"
    return load.outcomes, signalled


@pytest.fixture(scope="module")
def under(demo_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Under]:
    """The whole stack on a NATS of its own (its work queues hold only this module's jobs and batches), a
    tenant with a knowledge base, a prompt, an assistant that uses both, and a training file."""
    root = tmp_path_factory.mktemp("sigterm")
    # A checkpoint every 5 steps: the job trains past one before its worker is stopped.
    env = {"TRAINER_CHECKPOINT_STEPS": "5"}
    with stack_on_own_nats(root, ADMIN_KEY, model=str(demo_model), env=env) as (stack, nats):
        stack.start(timeout=300)
        wait_until_served(stack, ADMIN_KEY, serves_a_chat)
        tenant_id, http = member_client(stack, ADMIN_KEY, "sigterm", timeout=60)
        kb = http.post("/v1/knowledge_bases", json={"name": "policies"})
        assert kb.status_code == 201, kb.text
        kb_id = kb.json()["id"]
        document = http.post(
            f"/v1/knowledge_bases/{kb_id}/documents",
            files={"file": ("returns.md", POLICY.encode())},
            data={"wait": "true"},
        )
        assert document.status_code == 201, document.text
        system = "Answer from these excerpts of the returns policy:\n\n{{ context }}"
        prompt = {
            "name": "helper",
            "messages": [{"role": "system", "content": system}],
            "variables": [{"name": "context", "default": ""}],
        }
        assert http.post("/v1/prompts", json=prompt).status_code == 201
        knowledge = {"knowledge_base_ids": [kb_id], "top_k": 2}
        bot = {"name": "sigterm-bot", "base_model": BASE, "prompt": "helper", "knowledge": knowledge}
        assert http.post("/v1/assistants", json=bot).status_code == 201
        chat = {"model": BOT, "messages": [{"role": "user", "content": "Can I return a laptop?"}]}
        answer = http.post("/v1/chat/completions", json={**chat, "max_tokens": 4})
        assert answer.status_code == 200, answer.text
        assert answer.json()["tuneway"]["sources"], "the assistant found nothing in its knowledge"
        file_id = upload_training_file(http)
        yield Under(stack, http, tenant_id, nats.url, kb_id, file_id, answer.json()["id"])
        http.close()


def test_prompt_svc(under: Under) -> None:
    """Prompt reads and assistant chats (rendered by prompt-svc) under load; plain chats go on."""
    operations = [
        _request("prompt", "GET", "/v1/prompts/helper"),
        _chat("assistant", BOT),
        _streamed("assistant stream", BOT, 16),
        _chat("chat", BASE),
    ]
    config = under.stack.config
    _stop_under_load(
        under,
        "prompt-svc",
        operations,
        gone={"prompt", "assistant", "assistant stream"},
        ports=(config.prompt_port, config.prompt_metrics_port),
    )


def test_retriever(under: Under) -> None:
    """Embeddings, knowledge searches and assistant chats with knowledge under load: the calls in flight
    at the signal (embeddings among them) are answered in full."""
    search = {"query": "How long do I have to return electronics?", "top_k": 2}
    operations = [
        _embeddings(16),
        _embeddings(16),
        _request("search", "POST", f"/v1/knowledge_bases/{under.kb}/search", json=search),
        _chat("assistant", BOT),
    ]
    config = under.stack.config
    _stop_under_load(
        under,
        "retriever",
        operations,
        gone={"embeddings", "search", "assistant"},
        ports=(config.retriever_port, config.retriever_metrics_port),
    )


def _settled_count(http: httpx.Client) -> int:
    """The tenant's counted requests once no more arrive (the events of earlier calls are all in)."""
    last = -1
    while (count := requests_counted(http)) != last:
        last = count
        time.sleep(3)
    return count


def test_analytics(under: Under) -> None:
    """Chats (each an analytics event), feedback and summary reads under load: while analytics is away
    only the reads are refused; after its restart every chat's event is counted, none lost or twice."""
    stack, http = under.stack, under.http
    before = _settled_count(http)
    feedback = {"completion_id": under.completion_id, "rating": 1}
    operations = [
        _chat("chat", BASE),
        _chat("chat", BASE),
        _request("feedback", "POST", "/v1/feedback", json=feedback),
        _request("summary", "GET", "/v1/analytics/summary"),
    ]
    ports = (stack.config.analytics_port, stack.config.analytics_metrics_port)
    outcomes, _ = _stop_under_load(under, "analytics", operations, gone={"summary"}, ports=ports)
    chats = sum(o.ok for o in outcomes if o.operation == "chat")
    deadline = time.monotonic() + 120
    while (counted := requests_counted(http)) < before + chats:
        assert time.monotonic() < deadline, f"{counted - before} of {chats} chats counted after 120 s"
        time.sleep(1)
    time.sleep(3)
    assert requests_counted(http) == before + chats


def _step(message: str) -> int:
    """The step an event names ("... at step N ...")."""
    found = re.search(r"at step (\d+)", message)
    assert found, message
    return int(found.group(1))


@pytest.mark.timeout(900)  # two jobs trained on a machine the inference engine keeps busy
def test_trainer_worker(under: Under) -> None:
    """A job in training: the stopped worker saves a checkpoint and hands the job back; the restarted
    worker resumes it from that step and finishes it, one adapter. The API keeps answering meanwhile."""
    stack, http = under.stack, under.http
    # 50 steps, a checkpoint every 5: far more than train between the first checkpoint and the signal.
    job_id = create_job(http, under.file_id, "sigterm", epochs=5, batch_size=1)
    under.jobs.append(job_id)
    wait_for_checkpoint(stack, http, job_id)
    operations = [_request("job", "GET", f"/v1/fine_tuning/jobs/{job_id}"), _chat("chat", BASE)]
    with Load(http, operations) as load:
        load.wait_for(4)
        signalled = _sigterm(stack, "trainer-worker")
        _ports_free(stack.config.trainer_worker_metrics_port)
        handed_back = read_job(http, job_id)
        assert handed_back["status"] == "queued", handed_back
        # A job created while no worker runs waits in the queue for the restarted one.
        queued_id = create_job(http, under.file_id, "queued", epochs=1, batch_size=4)
        under.jobs.append(queued_id)
        stack.restart_service("trainer-worker")
    _assert_clean(load.outcomes, signalled, gone=set())
    for each in (job_id, queued_id):
        finished = wait_job(stack, http, each, timeout=600)
        assert finished["status"] == "succeeded", finished.get("error")
    messages = [e["message"] for e in job_events(http, job_id)]
    handbacks = [m for m in messages if m.startswith("Worker stopping: job handed back at step")]
    resumed = [m for m in messages if m.startswith("Resumed from checkpoint at step")]
    assert len(handbacks) == 1 and len(resumed) == 1, messages
    # Resumed where it was handed back: no step lost, none trained twice.
    assert _step(handbacks[0]) == _step(resumed[0]), (handbacks, resumed)
    starts = [m for m in messages if m.startswith("Fine-tuning job started")]
    assert starts == ["Fine-tuning job started (attempt 1).", "Fine-tuning job started (attempt 2)."]
    adapters = http.get("/v1/fine_tuning/adapters", params={"include_retired": "true"}).json()["data"]
    assert sorted(a["fine_tuning_job_id"] for a in adapters) == sorted(under.jobs)


def test_trainer_api(under: Under) -> None:
    """Job reads, lists and event pages (the trainer API) under load; chats go on."""
    [job_id, *_] = under.jobs
    operations = [
        _request("jobs", "GET", "/v1/fine_tuning/jobs"),
        _request("job", "GET", f"/v1/fine_tuning/jobs/{job_id}"),
        _request("events", "GET", f"/v1/fine_tuning/jobs/{job_id}/events"),
        _chat("chat", BASE),
    ]
    config = under.stack.config
    _stop_under_load(
        under,
        "trainer",
        operations,
        gone={"jobs", "job", "events"},
        ports=(config.trainer_port, config.trainer_metrics_port),
    )


def _batch_line(custom_id: str) -> str:
    body = {
        "model": BASE,
        "messages": [{"role": "user", "content": f"Say something about {custom_id}."}],
        "max_tokens": 16,
        "ignore_eos": True,
    }
    return json.dumps({"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions", "body": body})


def test_batch_worker(under: Under) -> None:
    """A batch in progress: the stopped worker finishes its lines in flight and hands the batch back; the
    restarted worker completes it, every line once."""
    stack, http = under.stack, under.http
    lines = [_batch_line(f"line-{n}") for n in range(24)]
    upload = http.post(
        "/v1/files",
        files={"file": ("requests.jsonl", ("\n".join(lines) + "\n").encode())},
        data={"purpose": "batch"},
    )
    assert upload.status_code == 200, upload.text
    body = {
        "input_file_id": upload.json()["id"],
        "endpoint": "/v1/chat/completions",
        "completion_window": "24h",
    }
    created = http.post("/v1/batches", json=body)
    assert created.status_code == 200, created.text
    batch_id = created.json()["id"]

    def batch() -> dict[str, Any]:
        response = http.get(f"/v1/batches/{batch_id}")
        assert response.status_code == 200, response.text
        return dict(response.json())

    deadline = time.monotonic() + 240
    while (batch()["request_counts"] or {}).get("completed", 0) < 3:
        assert time.monotonic() < deadline, batch()
        time.sleep(0.2)
    with Load(http, [_request("batch", "GET", f"/v1/batches/{batch_id}"), _chat("chat", BASE)]) as load:
        signalled = _sigterm(stack, "batch-worker")
        _ports_free(stack.config.batch_worker_metrics_port)
        stopped = batch()
        assert stopped["status"] == "in_progress", stopped
        assert stopped["request_counts"]["completed"] < 24, "the batch finished before the signal"
        stack.restart_service("batch-worker")
    _assert_clean(load.outcomes, signalled, gone=set())
    deadline = time.monotonic() + 300
    while (finished := batch())["status"] not in ("completed", "failed", "cancelled", "expired"):
        stack.check_alive()
        assert time.monotonic() < deadline, finished
        time.sleep(0.5)
    assert finished["status"] == "completed", finished
    assert finished["request_counts"] == {"total": 24, "completed": 24, "failed": 0}
    output = http.get(f"/v1/files/{finished['output_file_id']}/content")
    custom_ids = sorted(json.loads(line)["custom_id"] for line in output.text.splitlines())
    assert custom_ids == sorted(f"line-{n}" for n in range(24))
    log = (stack.log_dir / "batch-worker.log").read_text()
    handed_back = [json.loads(line) for line in log.splitlines() if "batch handed back" in line]
    assert [entry["batch"] for entry in handed_back] == [batch_id]


def test_inference(under: Under) -> None:
    """Streamed and plain chats, with the base model and the assistant, under load: the generations in
    flight at the signal finish; while inference is away every chat is a 503 with Retry-After, and
    prompt reads go on."""
    # Generations of a few seconds, well inside the drain window.
    operations = [
        _streamed("stream", BASE, 64),
        _streamed("stream", BASE, 64),
        _streamed("assistant stream", BOT, 48),
        _chat("chat", BASE, 48),
        _request("prompt", "GET", "/v1/prompts/helper"),
    ]
    config = under.stack.config
    outcomes, signalled = _stop_under_load(
        under,
        "inference",
        operations,
        gone={"stream", "assistant stream", "chat"},
        ports=(config.inference_port, config.inference_metrics_port),
    )
    # The drain's count leaves out generations (they share one long stream per gateway): these say it.
    _finished_in_flight(outcomes, signalled, {"stream", "assistant stream"})


def test_gateway(under: Under) -> None:
    """Streamed chats through the gateway itself: those in flight at the signal finish, their analytics
    events reach analytics (the gateway flushes its publisher on the way out); new connections are
    refused while it is away, and a restarted gateway serves them."""
    stack, http = under.stack, under.http
    before = _settled_count(http)
    port = stack.config.gateway_port

    def fresh(operation: Operation) -> Operation:
        # A new connection per call: a pooled connection the gateway closes as it stops would race the
        # next request on it (as with any HTTP server), which is not what this measures.
        def call(_: httpx.Client) -> Outcome:
            with httpx.Client(base_url=stack.gateway_url, headers=http.headers, timeout=60) as own:
                return operation(own)

        return call

    generating = threading.Event()
    streams = [fresh(_streamed("stream", BASE, 256, generating)) for _ in range(3)]
    with Load(http, [*streams, fresh(_chat("chat", BASE))]) as load:
        load.wait_for(6)
        # Signalled just as a stream starts to arrive: it is mid-generation, a second or more from its end.
        generating.clear()
        assert generating.wait(60), "no stream started"
        signalled = _sigterm(stack, "gateway")
        _ports_free(port, stack.config.gateway_metrics_port)
        time.sleep(1)
        _restart_and_serve(under, "gateway", load, {"stream", "chat"}, timeout=120)
    outcomes = load.outcomes
    hung = [o for o in outcomes if o.ended - o.started > HANG_SECONDS]
    assert not hung, hung[:3]
    # Nothing listens while it is away: calls then fail to connect, never with a 5xx or a cut stream.
    unclean = [o for o in outcomes if not o.ok and not (o.status == 0 and "ConnectError" in o.detail)]
    assert not unclean, unclean[:5]
    _finished_in_flight(outcomes, signalled, {"stream"})
    served = sum(o.ok for o in outcomes)
    deadline = time.monotonic() + 120
    while (counted := requests_counted(http)) < before + served:
        assert time.monotonic() < deadline, f"{counted - before} of {served} calls counted after 120 s"
        time.sleep(1)
    time.sleep(3)
    assert requests_counted(http) == before + served
