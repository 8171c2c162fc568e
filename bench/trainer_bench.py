"""The trainer's speed against plain TRL, and how fast a finished adapter starts answering.

1. Training tokens/s: the code a trainer worker runs (`tuneway.trainer.worker.training.run`: SFTTrainer with
   PEFT LoRA, progress callback, checkpoints) against a plain TRL `SFTTrainer` with the same model,
   the same tokenized examples (the example dataset after the trainer's cleaning), the same LoRA
   config and the same hyperparameters, in this process, alternating A B B A ... after one unrecorded
   one-epoch run per side (imports, first calls). Each run is timed from loading the model to the
   saved adapter; tokens are the training tokens times the epochs.
2. Hot-registration latency: the tuneway stack (through tuneway.devstack.launcher, private ports and
   data dir) trains the example dataset; the client follows the job's events over SSE and, from the
   last tenth of training on, asks for a chat completion with the job's fine-tuned model every
   20 ms. The latency is the time from the end of the last training step (which the trainer records
   in its "Training finished" event) to the first 200: saving the adapter, registering it in the
   ADAPTERS bucket, the inference replica loading it, and one generated token.

Writes bench/results/trainer.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from bench_stack import temporary_stack

from tuneway.trainer.datasets import PrepareOptions, prepare_dataset
from tuneway.trainer.domain import Hyperparameters, LoraSpec
from tuneway.trainer.hyperparams import DECAY_SHARE, Resolved, checkpoint_every, resolve, resolve_lora
from tuneway.trainer.worker import training

ROOT = Path(__file__).resolve().parent.parent
DATASET = ROOT / "examples" / "datasets" / "shop-support.jsonl"
RESULTS = ROOT / "bench" / "results" / "trainer.json"
BOOTSTRAP_KEY = "tw-bench-trainer-0000000000000000000000"
THROUGHPUT_GOAL = 1.0
LATENCY_GOAL_S = 1.0
MAX_SEQ_LENGTH = 1024


class QuietProgress:
    """The worker's progress hooks, with nowhere to report to (the training loop is what is measured)."""

    def metrics(self, data: dict[str, float]) -> None:
        pass

    def checkpoint(self, step: int, path: Path, metrics: dict[str, float]) -> None:
        pass

    def stop_reason(self) -> str | None:
        return None


def run_tuneway(model: Path, rows: list[dict[str, Any]], hyper: Resolved, lora: LoraSpec, work: Path) -> None:
    """One run of the trainer's training code, checkpoints at its default interval included."""
    plan = training.Plan(
        base_model=model,
        checkpoints_dir=work / "checkpoints",
        adapter_dir=work / "adapter",
        train=rows,
        validation=[],
        hyper=hyper,
        lora=lora,
        seed=0,
        checkpoint_every=checkpoint_every(hyper.total_steps, 0),
        max_seq_length=MAX_SEQ_LENGTH,
    )
    outcome = training.run(plan, QuietProgress())
    assert outcome.stopped is None and outcome.step == hyper.total_steps, outcome


def run_plain_trl(
    model: Path, rows: list[dict[str, Any]], hyper: Resolved, lora: LoraSpec, work: Path
) -> None:
    """The same run as a plain TRL user writes it: SFTTrainer defaults plus the same numbers."""
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    tokenizer = AutoTokenizer.from_pretrained(str(model))
    base = AutoModelForCausalLM.from_pretrained(str(model), dtype=torch.float32)
    config = SFTConfig(
        output_dir=str(work / "out"),
        num_train_epochs=hyper.n_epochs,
        per_device_train_batch_size=hyper.batch_size,
        learning_rate=hyper.learning_rate,
        lr_scheduler_type="warmup_stable_decay",
        lr_scheduler_kwargs={"num_decay_steps": math.ceil(hyper.total_steps * DECAY_SHARE)},
        max_length=MAX_SEQ_LENGTH,
        seed=0,
        save_strategy="no",
        report_to=[],
        disable_tqdm=True,
        bf16=False,
    )
    trainer = SFTTrainer(
        model=base,
        args=config,
        train_dataset=Dataset.from_list([{k: r[k] for k in ("input_ids", "assistant_masks")} for r in rows]),
        processing_class=tokenizer,
        peft_config=LoraConfig(
            r=lora.rank or 8,
            lora_alpha=lora.alpha or 16,
            lora_dropout=lora.dropout or 0.0,
            target_modules=list(lora.target_modules),
            task_type="CAUSAL_LM",
        ),
    )
    trainer.train()
    trainer.save_model(str(work / "adapter"))


def measure_throughput(model: Path, repeats: int, epochs: int | None) -> dict[str, Any]:
    """Alternating runs of both sides; tokens/s per run and the paired ratios."""
    from transformers import AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    prepared = prepare_dataset(
        DATASET,
        filename=DATASET.name,
        tokenizer=AutoTokenizer.from_pretrained(str(model)),
        options=PrepareOptions(max_seq_length=MAX_SEQ_LENGTH),
    )
    assert prepared.report.ok, prepared.report
    rows = prepared.train
    hyper = resolve(Hyperparameters(n_epochs=epochs), len(rows))
    lora = resolve_lora(LoraSpec())
    tokens = sum(len(r["input_ids"]) for r in rows) * hyper.n_epochs
    sides = {"tuneway": run_tuneway, "plain_trl": run_plain_trl}
    # One unrecorded epoch per side first: imports and first-call costs land on no measured run.
    warmup = resolve(Hyperparameters(n_epochs=1), len(rows))
    for run in sides.values():
        work = Path(tempfile.mkdtemp(prefix="tw-bench-warmup-"))
        try:
            run(model, rows, warmup, lora, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    seconds: dict[str, list[float]] = {name: [] for name in sides}
    order = [
        name
        for i in range(repeats)
        for name in (("tuneway", "plain_trl") if i % 2 == 0 else ("plain_trl", "tuneway"))
    ]
    for name in order:
        work = Path(tempfile.mkdtemp(prefix=f"tw-bench-{name}-"))
        try:
            started = time.perf_counter()
            sides[name](model, rows, hyper, lora, work)
            seconds[name].append(time.perf_counter() - started)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        print(
            f"  {name:<9} {seconds[name][-1]:6.1f} s  {tokens / seconds[name][-1]:8.0f} tokens/s", flush=True
        )
    ratios = [p / t for t, p in zip(seconds["tuneway"], seconds["plain_trl"], strict=True)]
    return {
        "examples": len(rows),
        "hyperparameters": {
            "n_epochs": hyper.n_epochs,
            "batch_size": hyper.batch_size,
            "learning_rate": hyper.learning_rate,
            "steps": hyper.total_steps,
        },
        "lora": {"rank": lora.rank, "alpha": lora.alpha, "target_modules": list(lora.target_modules)},
        "tokens_per_run": tokens,
        "seconds": seconds,
        "tokens_per_s": {name: round(tokens / statistics.median(s), 1) for name, s in seconds.items()},
        "paired_ratios": [round(r, 3) for r in ratios],
        "ratio": round(statistics.median(seconds["plain_trl"]) / statistics.median(seconds["tuneway"]), 3),
    }


class JobWatch:
    """Follows a job's SSE events on a thread: when training nears its end, and when it ended."""

    def __init__(self, http: httpx.Client, job_id: str) -> None:
        self.near_end = threading.Event()
        self.done = threading.Event()
        self.last_step_at = 0.0
        self._thread = threading.Thread(target=self._follow, args=(http, job_id), daemon=True)
        self._thread.start()

    def _follow(self, http: httpx.Client, job_id: str) -> None:
        try:
            with http.stream(
                "GET", f"/v1/fine_tuning/jobs/{job_id}/events", params={"stream": "true"}
            ) as events:
                for line in events.iter_lines():
                    if line == "data: [DONE]":
                        break
                    if not line.startswith("data: "):
                        continue
                    data = json.loads(line[6:]).get("data") or {}
                    if data.get("step", 0) >= 0.9 * data.get("total_steps", float("inf")):
                        self.near_end.set()
                    if "last_step_at" in data:
                        self.last_step_at = float(data["last_step_at"])
        finally:
            self.near_end.set()
            self.done.set()


def measure_registration(model: str, jobs: int, epochs: int) -> list[dict[str, Any]]:
    """Trains `jobs` adapters through the stack; for each, from its last training step to its first answer.

    The trainer records when the last optimizer step ended (epoch seconds, same machine clock); the
    client starts asking for chat completions with the job's model every 20 ms once the events show
    the last tenth of training, and notes when the first one succeeds.
    """
    results = []
    with temporary_stack("tw-bench-trainer-", model=model, bootstrap_key=BOOTSTRAP_KEY) as stack:
        admin = httpx.Client(base_url=stack.gateway_url, headers={"Authorization": f"Bearer {BOOTSTRAP_KEY}"})
        tenant = admin.post("/admin/tenants", json={"name": "bench"}).json()["id"]
        key = admin.post("/admin/keys", json={"tenant_id": tenant, "role": "member"}).json()["key"]
        http = httpx.Client(
            base_url=stack.gateway_url, headers={"Authorization": f"Bearer {key}"}, timeout=300
        )
        base = Path(model).name
        with DATASET.open("rb") as handle:
            file_id = http.post("/v1/files", data={"purpose": "fine-tune"}, files={"file": handle}).json()[
                "id"
            ]
        question = json.loads(DATASET.read_text().splitlines()[0])["messages"][:-1]
        for n in range(jobs):
            job = http.post(
                "/v1/fine_tuning/jobs",
                json={
                    "model": base,
                    "training_file": file_id,
                    "suffix": f"bench{n}",
                    "hyperparameters": {"n_epochs": epochs},
                },
            ).json()
            name = f"ft:{base}:{tenant}:bench{n}:{job['id']}"
            watch = JobWatch(http, job["id"])
            watch.near_end.wait(600)
            asked = 0
            while True:
                reply = http.post(
                    "/v1/chat/completions", json={"model": name, "messages": question, "max_tokens": 1}
                )
                answered_at = time.time()
                asked += 1
                if reply.status_code == 200:
                    break
                if reply.status_code != 404 or (watch.done.is_set() and asked > 100):
                    raise RuntimeError(f"{name}: {reply.status_code} {reply.text}")
                time.sleep(0.02)
            watch.done.wait(60)
            status = http.get(f"/v1/fine_tuning/jobs/{job['id']}").json()["status"]
            assert status == "succeeded" and watch.last_step_at, (status, watch.last_step_at)
            latency = answered_at - watch.last_step_at
            print(
                f"  job {n + 1}: first answer {latency * 1000:.0f} ms after the last training step",
                flush=True,
            )
            results.append({"job": job["id"], "first_answer_s": round(latency, 3), "chat_attempts": asked})
    return results


def main() -> int:
    """Runs both measurements, prints and writes them."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=4, help="training runs per side (default 4)")
    parser.add_argument("--epochs", type=int, default=None, help="epochs per throughput run (default: auto)")
    parser.add_argument("--jobs", type=int, default=3, help="fine-tuning jobs for the latency (default 3)")
    parser.add_argument("--job-epochs", type=int, default=3, help="epochs of each latency job (default 3)")
    parser.add_argument("--model", default=str(ROOT / "var" / "models" / "tuneway-tiny"))
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--only", choices=("throughput", "registration"), help="run one part")
    parser.add_argument("--check", action="store_true", help="exit 1 when a goal is missed")
    args = parser.parse_args()

    report: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": len(os.sched_getaffinity(0)), "platform": platform.platform()},
        "python": platform.python_version(),
        "goals": {"throughput_ratio": THROUGHPUT_GOAL, "registration_s": LATENCY_GOAL_S},
    }
    passed = True
    if args.only in (None, "throughput"):
        print(f"training throughput: {args.repeats} runs per side, alternating ...", flush=True)
        throughput = report["throughput"] = measure_throughput(Path(args.model), args.repeats, args.epochs)
    if args.only in (None, "registration"):
        print(f"hot registration: {args.jobs} jobs through the stack ...", flush=True)
        latencies = report["registration"] = measure_registration(args.model, args.jobs, args.job_epochs)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2))
    print()
    if "throughput" in report:
        tps = throughput["tokens_per_s"]
        ok = throughput["ratio"] >= THROUGHPUT_GOAL
        passed = passed and ok
        print(
            f"training tokens/s: tuneway {tps['tuneway']:.0f}, plain TRL {tps['plain_trl']:.0f}; "
            f"ratio {throughput['ratio']:.2f}x (paired {throughput['paired_ratios']}), "
            f"goal >= {THROUGHPUT_GOAL}x: {'PASS' if ok else 'MISS'}"
        )
    if "registration" in report:
        worst = max(r["first_answer_s"] for r in latencies)
        median = statistics.median(r["first_answer_s"] for r in latencies)
        ok = worst <= LATENCY_GOAL_S
        passed = passed and ok
        print(
            f"last training step -> first answer: median {median:.3f} s, "
            f"worst {worst:.3f} s, goal <= {LATENCY_GOAL_S} s: {'PASS' if ok else 'MISS'}"
        )
    print(f"results: {args.output}")
    return 1 if args.check and not passed else 0


if __name__ == "__main__":
    sys.exit(main())
