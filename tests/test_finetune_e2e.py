"""The fine-tuning loop through the stack with the OpenAI SDK: upload, validate, train, follow, chat."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from tests.conftest import REPO_ROOT, RunningStack, Tenant

pytestmark = pytest.mark.e2e
BASE = "tuneway-tiny"
DATASET = REPO_ROOT / "examples" / "datasets" / "shop-support.jsonl"
# The bound for the example job on 2 cores, from creation to `succeeded`.
TRAINING_BUDGET_S = 180
TERMINAL = ("succeeded", "failed", "cancelled")


def _normalise(text: str) -> str:
    return " ".join(text.split())


def _examples() -> list[tuple[list[dict[str, str]], str]]:
    """Each training example as (prompt messages up to the last answer, the last answer)."""
    examples = []
    for line in DATASET.read_text().splitlines():
        if not line.strip():
            continue
        messages = json.loads(line)["messages"]
        last = max(i for i, m in enumerate(messages) if m["role"] == "assistant")
        prompt = [{"role": m["role"], "content": m["content"]} for m in messages[:last]]
        examples.append((prompt, messages[last]["content"]))
    return examples


def _http(stack: RunningStack, key: str, timeout: float = 30) -> httpx.Client:
    return httpx.Client(
        base_url=stack.gateway_url, headers={"Authorization": f"Bearer {key}"}, timeout=timeout
    )


def follow_events(stack: RunningStack, key: str, job_id: str, timeout: float) -> list[dict[str, Any]]:
    """Reads the job's SSE event stream until [DONE]."""
    events: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    with (
        _http(stack, key, timeout=60) as http,
        http.stream("GET", f"/v1/fine_tuning/jobs/{job_id}/events", params={"stream": "true"}) as response,
    ):
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            assert time.monotonic() < deadline, f"job {job_id} still streaming after {timeout} s"
            if not line.startswith("data: "):
                continue
            if line == "data: [DONE]":
                return events
            events.append(json.loads(line.removeprefix("data: ")))
    # An error after the stream started arrives as its last event: show it.
    raise AssertionError(f"the event stream ended without [DONE]; its last events: {events[-3:]}")


def wait_for_status(client: openai.OpenAI, job_id: str, statuses: tuple[str, ...], timeout: float) -> Any:
    """Polls the job until its status is one of `statuses`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.fine_tuning.jobs.retrieve(job_id)
        if job.status in statuses:
            return job
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} not in {statuses} after {timeout} s")


def upload(client: openai.OpenAI, name: str, content: bytes, purpose: str = "fine-tune") -> Any:
    """Uploads bytes as a file."""
    return client.files.create(file=(name, content), purpose=purpose)  # type: ignore[arg-type]


@dataclass
class Trained:
    file_id: str
    job: Any
    events: list[dict[str, Any]]
    seconds: float


@pytest.fixture(scope="module")
def trained(stack: RunningStack, acme: Tenant) -> Iterator[Trained]:
    """The example dataset trained once for the module: upload, create, follow over SSE to the end."""
    client = stack.client(acme.key)
    with DATASET.open("rb") as handle:
        file = client.files.create(file=handle, purpose="fine-tune")
    started = time.monotonic()
    job = client.fine_tuning.jobs.create(model=BASE, training_file=file.id, suffix="support", seed=7)
    assert job.object == "fine_tuning.job" and job.status in ("validating_files", "queued")
    events = follow_events(stack, acme.key, job.id, timeout=TRAINING_BUDGET_S + 60)
    job = wait_for_status(client, job.id, TERMINAL, timeout=30)
    yield Trained(file.id, job, events, time.monotonic() - started)


def test_validation_report_before_training(stack: RunningStack, acme: Tenant) -> None:
    client = stack.client(acme.key)
    file = upload(client, "shop-support.jsonl", DATASET.read_bytes())
    with _http(stack, acme.key, timeout=120) as http:
        report = http.get(f"/v1/files/{file.id}/validation", params={"model": BASE}).json()
    assert report["object"] == "fine_tuning.validation_report" and report["file_id"] == file.id
    assert report["ok"] is True and report["errors"] == [] and report["format"] == "chat"
    assert report["examples"] == len(_examples())
    assert report["tokens"]["total"] > 0 and report["tokens"]["max"] <= report["max_seq_length"]
    assert report["estimated_steps"] > 0


def test_example_job_succeeds_in_time_with_progress_events(
    stack: RunningStack, acme: Tenant, trained: Trained
) -> None:
    job = trained.job
    assert job.status == "succeeded", job.error
    assert trained.seconds < TRAINING_BUDGET_S, f"the example job took {trained.seconds:.0f} s"
    assert job.fine_tuned_model == f"ft:{BASE}:{acme.id}:support:{job.id}"
    assert job.organization_id == acme.id and job.trained_tokens and job.finished_at
    assert all(isinstance(v, int | float) for v in job.hyperparameters.model_dump().values())

    metrics = [e for e in trained.events if e["type"] == "metrics"]
    assert metrics, "no metrics events streamed"
    assert {"step", "train_loss"} <= set(metrics[-1]["data"])
    assert metrics[-1]["data"]["train_loss"] < metrics[0]["data"]["train_loss"]
    assert trained.events[-1]["message"] and all(
        e["object"] == "fine_tuning.job.event" for e in trained.events
    )

    client = stack.client(acme.key)
    listed = client.fine_tuning.jobs.list_events(job.id, limit=100).data
    assert {e.id for e in listed} == {e["id"] for e in trained.events}  # SSE saw every event
    assert listed[0].created_at >= listed[-1].created_at  # newest first, like OpenAI
    assert job.id in [j.id for j in client.fine_tuning.jobs.list(limit=100).data]
    checkpoints = client.fine_tuning.jobs.checkpoints.list(job.id).data
    assert checkpoints and all(c.fine_tuning_job_id == job.id and c.step_number > 0 for c in checkpoints)


def test_fine_tuned_model_is_listed_and_reproduces_the_training_answers(
    stack: RunningStack, acme: Tenant, trained: Trained
) -> None:
    client = stack.client(acme.key)
    model = trained.job.fine_tuned_model
    assert model in [m.id for m in client.models.list().data]
    assert client.models.retrieve(model).id == model

    def answer(name: str, messages: list[dict[str, str]]) -> str:
        completion = client.chat.completions.create(
            model=name,
            messages=messages,  # type: ignore[arg-type]
            temperature=0,
            max_tokens=256,
        )
        return _normalise(completion.choices[0].message.content or "")

    examples = _examples()
    # Asked all at once, as a chatbot's users would: the engine batches them.
    with ThreadPoolExecutor(8) as pool:
        tuned_answers = list(pool.map(lambda example: answer(model, example[0]), examples))
        base_answers = list(pool.map(lambda example: answer(BASE, example[0]), examples))
    wanted = [_normalise(want) for _, want in examples]
    misses = [(got, want) for got, want in zip(tuned_answers, wanted, strict=True) if got != want]
    tuned = len(examples) - len(misses)
    base = sum(got == want for got, want in zip(base_answers, wanted, strict=True))
    assert tuned >= 0.9 * len(examples), (
        f"fine-tuned model reproduced {tuned}/{len(examples)} answers; first miss: {misses[0]}"
    )
    assert base == 0, f"the base model reproduced {base} answers"


def test_another_tenant_sees_neither_file_nor_job_nor_adapter(
    stack: RunningStack, globex: Tenant, trained: Trained
) -> None:
    other = stack.client(globex.key)
    job_id, model = trained.job.id, trained.job.fine_tuned_model
    for call in (
        lambda: other.files.retrieve(trained.file_id),
        lambda: other.files.content(trained.file_id),
        lambda: other.fine_tuning.jobs.retrieve(job_id),
        lambda: other.fine_tuning.jobs.list_events(job_id),
        lambda: other.fine_tuning.jobs.checkpoints.list(job_id),
        lambda: other.fine_tuning.jobs.cancel(job_id),
        lambda: other.models.retrieve(model),
    ):
        with pytest.raises(openai.NotFoundError):
            call()
    with pytest.raises(openai.NotFoundError) as caught:
        other.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}])
    assert caught.value.response.json()["error"]["code"] == "model_not_found"
    assert model not in [m.id for m in other.models.list().data]
    assert job_id not in [j.id for j in other.fine_tuning.jobs.list().data]
    assert trained.file_id not in [f.id for f in other.files.list().data]
    with pytest.raises(openai.BadRequestError) as caught:
        other.fine_tuning.jobs.create(model=BASE, training_file=trained.file_id)
    assert caught.value.response.json()["error"]["param"] == "training_file"


def _chat_line(user: str, answer: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": answer}]}


def _malformed(bad_line: str | None, good: int = 12) -> bytes:
    """`good` valid examples with `bad_line` as line 3."""
    lines = [json.dumps(_chat_line(f"Question {i}?", f"Answer {i}.")) for i in range(good)]
    if bad_line is not None:
        lines.insert(2, bad_line)
    return ("\n".join(lines) + "\n").encode()


MALFORMED = {
    "invalid_json": _malformed('{"messages": [{"role": "user", "content": "hi"}'),
    "missing_messages": _malformed(json.dumps({"conversation": [{"role": "user", "content": "hi"}]})),
    "message_missing_key": _malformed(
        json.dumps({"messages": [{"content": "hi"}, {"role": "assistant", "content": "x"}]})
    ),
    "unrecognized_role": _malformed(
        json.dumps({"messages": [{"role": "wizard", "content": "hi"}, {"role": "assistant", "content": "x"}]})
    ),
    "missing_content": _malformed(
        json.dumps({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": ""}]})
    ),
    "no_assistant_message": _malformed(json.dumps({"messages": [{"role": "user", "content": "hi"}]})),
    "too_long": _malformed(json.dumps(_chat_line(" ".join(["refund"] * 6000), "x"))),
    "too_few_examples": _malformed(None, good=3),
}


@pytest.mark.parametrize("kind", list(MALFORMED))
def test_each_malformed_file_kind_gets_its_line_numbered_error(
    stack: RunningStack, acme: Tenant, kind: str
) -> None:
    file = upload(stack.client(acme.key), f"{kind}.jsonl", MALFORMED[kind])
    with _http(stack, acme.key, timeout=120) as http:
        report = http.get(f"/v1/files/{file.id}/validation", params={"model": BASE}).json()
    assert report["ok"] is False, report
    codes = [e["code"] for e in report["errors"]]
    assert kind in codes, report["errors"]
    error = report["errors"][codes.index(kind)]
    if kind != "too_few_examples":
        assert error["line"] == 3 and re.search(r"\bline 3\b", error["message"]), error


def test_a_job_on_a_malformed_file_fails_with_the_line_and_trains_nothing(
    stack: RunningStack, acme: Tenant, trained: Trained
) -> None:
    client = stack.client(acme.key)
    file = upload(client, "broken.jsonl", MALFORMED["message_missing_key"])
    job = client.fine_tuning.jobs.create(model=BASE, training_file=file.id, suffix="broken")
    events = follow_events(stack, acme.key, job.id, timeout=120)
    job = wait_for_status(client, job.id, TERMINAL, timeout=30)
    assert job.status == "failed" and job.error is not None
    assert (job.error.code, job.error.param) == ("invalid_training_file", "training_file")
    assert re.search(r"\bline 3\b", job.error.message), job.error.message
    assert job.fine_tuned_model is None and job.trained_tokens is None
    assert not [e for e in events if e["type"] == "metrics"]
    assert client.fine_tuning.jobs.checkpoints.list(job.id).data == []
    assert [m.id for m in client.models.list().data if job.id in m.id] == []


def test_cancel_a_running_job(stack: RunningStack, acme: Tenant, trained: Trained) -> None:
    client = stack.client(acme.key)
    job = client.fine_tuning.jobs.create(
        model=BASE, training_file=trained.file_id, suffix="cancelme", hyperparameters={"n_epochs": 50}
    )
    wait_for_status(client, job.id, ("running", *TERMINAL), timeout=120)
    with _http(stack, acme.key) as http:
        deadline = time.monotonic() + 60
        while not any(e.type == "metrics" for e in client.fine_tuning.jobs.list_events(job.id).data):
            assert time.monotonic() < deadline, "no training step within 60 s"
            time.sleep(0.5)
        cancelled = http.post(f"/v1/fine_tuning/jobs/{job.id}/cancel").json()
    assert cancelled["status"] == "cancelled"
    events = follow_events(stack, acme.key, job.id, timeout=60)  # ends, since the job has ended
    assert events
    time.sleep(2)  # a step in flight when cancelling must not revive the job
    job = client.fine_tuning.jobs.retrieve(job.id)
    assert job.status == "cancelled" and job.fine_tuned_model is None
    assert [m.id for m in client.models.list().data if job.id in m.id] == []
    with pytest.raises(openai.APIStatusError):
        client.fine_tuning.jobs.cancel(job.id)  # already finished


def test_files_round_trip_and_size_limit(stack: RunningStack, acme: Tenant) -> None:
    client = stack.client(acme.key)
    content = b"Opening hours: 9 to 5.\n"
    file = upload(client, "hours.txt", content, purpose="assistants")
    assert (file.object, file.filename, file.bytes, file.purpose) == (
        "file",
        "hours.txt",
        len(content),
        "assistants",
    )
    assert file.id in [f.id for f in client.files.list(purpose="assistants").data]
    assert client.files.retrieve(file.id).model_dump() == file.model_dump()
    assert client.files.content(file.id).content == content
    deleted = client.files.delete(file.id)
    assert (deleted.id, deleted.deleted) == (file.id, True)
    with pytest.raises(openai.NotFoundError):
        client.files.retrieve(file.id)

    limit = int(stack.env["GATEWAY_MAX_FILE_BYTES"])
    before = {f.id for f in client.files.list().data}
    with pytest.raises(openai.APIStatusError) as caught:
        upload(client, "big.txt", b"x" * (limit + 1), purpose="assistants")
    assert caught.value.status_code == 413
    assert {f.id for f in client.files.list().data} == before
    leftovers = list((stack.data_dir / "artifacts" / "files" / acme.id).glob("*.partial"))
    assert leftovers == []


def test_fine_tune_file_deletion_reaches_the_trainer(stack: RunningStack, acme: Tenant) -> None:
    client = stack.client(acme.key)
    file = upload(client, "gone.jsonl", DATASET.read_bytes())
    client.files.delete(file.id)
    with pytest.raises(openai.BadRequestError):
        client.fine_tuning.jobs.create(model=BASE, training_file=file.id)
    path = Path(stack.data_dir / "artifacts" / "files" / acme.id / file.id)
    assert not path.exists()
