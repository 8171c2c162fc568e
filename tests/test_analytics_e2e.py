"""Analytics through the stack with the OpenAI SDK: every request counted exactly once by channel,
language and query type; feedback; an experiment's results; NATS and the analytics service taken away
mid-traffic; and each tenant seeing only its own numbers."""

from __future__ import annotations

import json
import os
import random
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from typing import Any

import httpx
import pytest

from tests.conftest import RunningStack, Tenant, make_tenant
from tuneway.core.testing.processes import NatsServer

pytestmark = pytest.mark.e2e
BASE = "tuneway-tiny"
CHANNELS = ("web", "app", "email")
LANGUAGES = ("en", "de", "fr")


def _http(stack: RunningStack, tenant: Tenant) -> httpx.Client:
    return httpx.Client(
        base_url=stack.gateway_url, headers={"Authorization": f"Bearer {tenant.key}"}, timeout=60
    )


def _ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def _eventually(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout:.0f} s"
        time.sleep(0.5)


def _summary(http: httpx.Client, **params: str) -> dict[str, Any]:
    return _ok(http.get("/v1/analytics/summary", params=params))


def _requests_counted(http: httpx.Client) -> int:
    return int(_summary(http)["total"]["requests"])


def _labelled_questions() -> list[tuple[str, str]]:
    """Questions with their query type, shipped with the analytics service and not among the examples
    its centroids are built from."""
    text = resources.files("tuneway.analytics.query_types").joinpath("labelled_queries.jsonl").read_text()
    rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    return [(row["text"], row["query_type"]) for row in rows]


def _chat(stack: RunningStack, tenant: Tenant, text: str, **extra: Any) -> Any:
    client = stack.client(tenant.key)
    return client.chat.completions.create(
        model=BASE, messages=[{"role": "user", "content": text}], max_tokens=2, **extra
    )


def test_the_summary_counts_exactly_what_was_sent_by_channel_language_and_query_type(
    stack: RunningStack,
) -> None:
    tenant = make_tenant(stack, "analytics-counts")
    questions = random.Random(7).sample(_labelled_questions(), 60)
    # Every (channel, language) pair occurs: channels turn every request, languages every third.
    plan = [
        (text, label, CHANNELS[i % 3], LANGUAGES[(i // 3) % 3]) for i, (text, label) in enumerate(questions)
    ]

    def send(item: tuple[str, str, str, str]) -> str:
        text, _, channel, language = item
        completion = _chat(stack, tenant, text, metadata={"channel": channel, "language": language})
        return str(completion.id)

    with ThreadPoolExecutor(6) as pool:
        ids = list(pool.map(send, plan))
    with _http(stack, tenant) as http:
        _eventually(lambda: _requests_counted(http) == len(plan), 90, "every chat counted")
        by_channel = _summary(http, group_by="channel,language")
        counted = {
            (row["group"]["channel"], row["group"]["language"]): row["requests"] for row in by_channel["data"]
        }
        assert counted == dict(Counter((channel, language) for _, _, channel, language in plan))
        assert by_channel["total"]["errors"] == 0
        # The query type of each question, read back event by event.
        types: dict[str, str] = {}
        after: str | None = None
        while True:
            page = _ok(
                http.get("/v1/analytics/events", params={"limit": 50, **({"after": after} if after else {})})
            )
            types.update({event["id"]: event["query_type"] for event in page["data"]})
            if not page["has_more"]:
                break
            after = page["next_cursor"]
        assert set(types) == set(ids)
        right = sum(types[i] == label for i, (_, label, _, _) in zip(ids, plan, strict=True))
        assert right / len(plan) >= 0.8, f"{right}/{len(plan)} query types right"
        by_type = _summary(http, group_by="query_type")
        assert sum(row["requests"] for row in by_type["data"]) == len(plan)
        # CSV export of the same summary.
        csv = http.get("/v1/analytics/summary", params={"group_by": "channel", "format": "csv"})
        assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
        lines = csv.text.strip().splitlines()
        assert lines[0].startswith("channel,") and len(lines) == 1 + len(CHANNELS)


@pytest.fixture(scope="module")
def experiment(stack: RunningStack) -> tuple[Tenant, dict[str, Any]]:
    """Tenant `analytics-ab`: prompt `greet` with two versions, assistant `greeter`, a running 50/50
    experiment between them."""
    tenant = make_tenant(stack, "analytics-ab")
    version = {"parameters": {"temperature": 0, "max_tokens": 2}}
    with _http(stack, tenant) as http:
        for text in ("Version one.", "Version two."):
            body = {"messages": [{"role": "system", "content": text}], **version}
            if text.endswith("one."):
                _ok(http.post("/v1/prompts", json={"name": "greet", **body}), 201)
            else:
                _ok(http.post("/v1/prompts/greet/versions", json=body), 201)
        _ok(http.post("/v1/assistants", json={"name": "greeter", "base_model": BASE, "prompt": "greet"}), 201)
        created = _ok(
            http.post(
                "/v1/experiments",
                json={
                    "name": "second version",
                    "prompt": "greet",
                    "variants": [
                        {"name": "a", "version": 1, "weight": 1},
                        {"name": "b", "version": 2, "weight": 1},
                    ],
                },
            ),
            201,
        )
        _ok(http.post(f"/v1/experiments/{created['id']}/start"))
    return tenant, created


def test_experiment_results_name_the_better_arm_with_its_interval(
    stack: RunningStack, experiment: tuple[Tenant, dict[str, Any]]
) -> None:
    tenant, created = experiment
    client = stack.client(tenant.key)
    # Users of arm b like their answers 8 times in 10, users of arm a 3 times in 10: exact shares, not
    # random draws, so the test never depends on luck (random draws missed the sequential interval 1 in 25).
    liking = {"a": 3, "b": 8}
    seen: Counter[str] = Counter()

    def visit(user: str) -> tuple[str, int]:
        completion = client.chat.completions.create(
            model="assistant:greeter", messages=[{"role": "user", "content": "Hello there"}], user=user
        )
        arm = completion.model_extra["tuneway"]["experiment_variant"]  # type: ignore[index]
        return str(completion.id), arm

    with ThreadPoolExecutor(6) as pool:
        visits = list(pool.map(visit, [f"visitor-{i}" for i in range(160)]))
    with _http(stack, tenant) as http:
        # Feedback goes in right away: it may reach analytics before the completions do.
        for i, (completion_id, arm) in enumerate(visits):
            rating = 1 if seen[arm] % 10 < liking[arm] else -1
            seen[arm] += 1
            _ok(
                http.post(
                    "/v1/feedback",
                    json={"completion_id": completion_id, "rating": rating, "user": f"visitor-{i}"},
                ),
                201,
            )
        # A later rating of the same completion by the same user replaces the first.
        _ok(
            http.post("/v1/feedback", json={"completion_id": visits[0][0], "rating": 1, "user": "visitor-0"}),
            201,
        )
        _eventually(
            lambda: (
                _results(http, created["id"])["arms"][0]["feedback_count"]
                + _results(http, created["id"])["arms"][1]["feedback_count"]
                == len(visits)
            ),
            90,
            "every feedback counted once",
        )
        results = _results(http, created["id"])
    arms = {arm["name"]: arm for arm in results["arms"]}
    assert arms["a"]["exposures"] + arms["b"]["exposures"] == len(visits)
    assert results["control"] == "a" and results["enough_data"] is True
    assert results["leader"] == "b", results
    (comparison,) = [c for c in results["comparisons"] if c["arm"] == "b" and c["metric"] == "positive_rate"]
    assert comparison["difference"] == pytest.approx(arms["b"]["positive_rate"] - arms["a"]["positive_rate"])
    assert 0 < comparison["ci_low"] < comparison["difference"] < comparison["ci_high"]
    assert comparison["p_value"] < 0.001 and comparison["chance_to_beat_control"] > 0.99
    assert comparison["sequential_ci_low"] > 0 and comparison["significant"] is True
    assert results["sample_ratio"]["mismatch"] is False


def _results(http: httpx.Client, experiment_id: str) -> dict[str, Any]:
    return _ok(http.get(f"/v1/experiments/{experiment_id}/results", params={"min_sample": 30}))


def _chat_for(
    stack: RunningStack, tenant: Tenant, seconds: float, during: Callable[[], None]
) -> tuple[int, list[str]]:
    """Chats from 4 threads for `seconds` while `during` runs; returns the chats sent and the failures."""
    stop = threading.Event()
    sent, failures, lock = [0], [], threading.Lock()

    def loop() -> None:
        while not stop.is_set():
            try:
                _chat(stack, tenant, "Where is my parcel?", metadata={"channel": "web"})
                with lock:
                    sent[0] += 1
            except Exception as error:  # every failure is reported by the assertion
                with lock:
                    failures.append(repr(error))

    threads = [threading.Thread(target=loop) for _ in range(4)]
    for thread in threads:
        thread.start()
    started = time.monotonic()
    try:
        during()
        time.sleep(max(0.0, seconds - (time.monotonic() - started)))
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    return sent[0], failures


@pytest.mark.faults
def test_nats_down_for_30_seconds_loses_no_chat_and_no_event(
    stack: RunningStack, nats_server: NatsServer
) -> None:
    tenant = make_tenant(stack, "analytics-outage")
    outage: list[float] = []

    def take_nats_away() -> None:
        time.sleep(2)
        nats_server.stop()
        outage.append(time.monotonic())
        time.sleep(30)
        nats_server.start()
        outage.append(time.monotonic())

    sent, failures = _chat_for(stack, tenant, 36, take_nats_away)
    assert failures == [] and sent > 20
    assert outage[1] - outage[0] >= 30
    with _http(stack, tenant) as http:
        _eventually(
            lambda: _requests_counted(http) == sent, 120, f"all {sent} chats counted after NATS returned"
        )
        time.sleep(3)
        assert _requests_counted(http) == sent


def test_analytics_killed_mid_stream_loses_and_doubles_nothing(stack: RunningStack) -> None:
    tenant = make_tenant(stack, "analytics-restart")
    pid_file = stack.data_dir / "run" / "analytics.pid"
    killed: list[int] = []

    def kill_analytics() -> None:
        time.sleep(4)
        pid = int(pid_file.read_text())
        os.killpg(pid, signal.SIGKILL)
        killed.append(pid)

    sent, failures = _chat_for(stack, tenant, 15, kill_analytics)
    assert failures == [] and killed
    # The launcher restarts it, as Kubernetes would; the restarted one resumes from the durable consumer.
    _eventually(
        lambda: pid_file.exists() and int(pid_file.read_text()) != killed[0], 30, "analytics restarted"
    )
    with _http(stack, tenant) as http:
        # The new pid is written at spawn; until its gRPC server listens the gateway answers 503.
        _eventually(
            lambda: http.get("/v1/analytics/summary").status_code == 200, 60, "analytics serving again"
        )
        _eventually(
            lambda: _requests_counted(http) == sent, 120, f"all {sent} chats counted after the restart"
        )
        time.sleep(3)
        assert _requests_counted(http) == sent


def test_each_tenant_sees_only_its_own_analytics(
    stack: RunningStack, experiment: tuple[Tenant, dict[str, Any]]
) -> None:
    owner, created = experiment
    stranger = make_tenant(stack, "analytics-stranger")
    completion = _chat(stack, owner, "I want to speak to a person", user="visitor-x")
    with _http(stack, stranger) as http:
        assert _requests_counted(http) == 0
        assert _ok(http.get("/v1/analytics/events"))["data"] == []
        assert http.get(f"/v1/experiments/{created['id']}/results").status_code == 404
        refused = http.post("/v1/feedback", json={"completion_id": completion.id, "rating": 1})
        assert refused.status_code == 404 and refused.json()["error"]["param"] == "completion_id"
    with _http(stack, owner) as http:
        _ok(http.post("/v1/feedback", json={"completion_id": completion.id, "rating": -1}), 201)
