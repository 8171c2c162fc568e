"""One LoRA supervised fine-tuning run with TRL's SFTTrainer (blocking; the worker runs it on a thread)."""

from __future__ import annotations

import math
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from tuneway.trainer.domain import LoraSpec
from tuneway.trainer.hyperparams import DECAY_SHARE, Resolved

# Written into a checkpoint directory once the trainer has saved all of it: only such a checkpoint
# is resumed from (a worker killed mid-save leaves one without it).
COMPLETE_MARKER = "tuneway-complete"
# "auto" gradient checkpointing from this many base-model parameters on. TRL turns it on for every
# model; below this size activations are small and recomputing them only costs time.
CHECKPOINTING_FROM_PARAMETERS = 1_000_000_000
CHECKPOINT_PREFIX = "checkpoint-"


class Progress(Protocol):
    """How a run reports to the worker; called on the training thread, so implementations hand off."""

    def metrics(self, data: dict[str, float]) -> None: ...

    def checkpoint(self, step: int, path: Path, metrics: dict[str, float]) -> None: ...

    def stop_reason(self) -> str | None: ...


@dataclass(frozen=True)
class Plan:
    """Everything one run needs."""

    base_model: Path
    checkpoints_dir: Path
    adapter_dir: Path
    train: list[dict[str, Any]]
    validation: list[dict[str, Any]]
    hyper: Resolved
    lora: LoraSpec
    seed: int
    checkpoint_every: int
    max_seq_length: int
    resume_from: Path | None = None
    torch_threads: int = 0
    # "auto", "on" or "off" (settings.py).
    gradient_checkpointing: str = "auto"


def use_gradient_checkpointing(setting: str, parameters: int) -> bool:
    """Whether a run recomputes activations: "on", "off", or "auto" by the base model's size."""
    if setting == "auto":
        return parameters >= CHECKPOINTING_FROM_PARAMETERS
    return setting == "on"


@dataclass
class Outcome:
    """How a run ended: finished (stopped is None) or stopped for a reason at `step`."""

    step: int
    stopped: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    # Wall-clock time (epoch seconds) the last optimizer step ended: where hot registration starts.
    last_step_at: float = 0.0


def latest_checkpoint(checkpoints_dir: Path) -> tuple[int, Path] | None:
    """The newest complete checkpoint of a job, as (step, path)."""
    found = []
    for path in checkpoints_dir.glob(f"{CHECKPOINT_PREFIX}*"):
        suffix = path.name.removeprefix(CHECKPOINT_PREFIX)
        if suffix.isdigit() and (path / COMPLETE_MARKER).exists():
            found.append((int(suffix), path))
    return max(found) if found else None


def trained_tokens(plan: Plan) -> int:
    """Tokens the run processes: every training token once per epoch, like OpenAI bills them."""
    return sum(len(e["input_ids"]) for e in plan.train) * plan.hyper.n_epochs


def _trainer_callback(progress: Progress, total_steps: int) -> Any:
    from transformers import TrainerCallback

    class ProgressCallback(TrainerCallback):  # type: ignore[misc]
        """Turns trainer logs into metrics events, marks saved checkpoints, and stops on request."""

        def __init__(self) -> None:
            self.started = time.monotonic()
            self.first_step: int | None = None
            self.last: dict[str, float] = {}
            self.stopped: str | None = None
            self.last_step_at = 0.0

        def on_step_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if self.first_step is None:
                self.first_step, self.started = state.global_step, time.monotonic()

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.last_step_at = time.time()
            reason = progress.stop_reason()
            if reason:
                self.stopped = reason
                control.should_training_stop = True
                # A worker handing its job back saves where it is, so the next one resumes from here.
                control.should_save = reason == "handback"
                control.should_log = False

        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kwargs: Any) -> None:
            logs = logs or {}
            if "eval_loss" in logs:
                self.last["valid_loss"] = float(logs["eval_loss"])
            if "loss" not in logs:
                return
            step = state.global_step
            done = step - (self.first_step or 0)
            rate = (time.monotonic() - self.started) / done if done > 0 else 0.0
            self.last.update(
                train_loss=float(logs["loss"]), learning_rate=float(logs.get("learning_rate", 0.0))
            )
            data = {
                "step": step,
                "total_steps": total_steps,
                **self.last,
                "epoch": float(state.epoch or 0.0),
                "eta_seconds": round(rate * (total_steps - step), 1),
            }
            if "mean_token_accuracy" in logs:
                data["train_mean_token_accuracy"] = float(logs["mean_token_accuracy"])
            progress.metrics(data)

        def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            path = Path(args.output_dir) / f"{CHECKPOINT_PREFIX}{state.global_step}"
            if path.is_dir():
                (path / COMPLETE_MARKER).write_text(str(state.global_step))
                progress.checkpoint(state.global_step, path, dict(self.last))

    return ProgressCallback()


def run(plan: Plan, progress: Progress) -> Outcome:
    """Trains (or resumes) a LoRA adapter; saves it to plan.adapter_dir unless stopped early."""
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer, PrinterCallback
    from trl import SFTConfig, SFTTrainer

    if plan.torch_threads > 0:
        torch.set_num_threads(plan.torch_threads)
    tokenizer = AutoTokenizer.from_pretrained(str(plan.base_model))
    model = AutoModelForCausalLM.from_pretrained(str(plan.base_model), dtype=torch.float32)
    every = plan.checkpoint_every
    checkpointing = use_gradient_checkpointing(plan.gradient_checkpointing, model.num_parameters())
    config = SFTConfig(
        output_dir=str(plan.checkpoints_dir),
        num_train_epochs=plan.hyper.n_epochs,
        per_device_train_batch_size=plan.hyper.batch_size,
        per_device_eval_batch_size=plan.hyper.batch_size,
        learning_rate=plan.hyper.learning_rate,
        # Constant rate, then a cosine decay over the last 30% of steps. Constant all the way was
        # unstable at the end (token accuracy falling from 1.0 to 0.99; greedy answers 36/42 after
        # 660 steps); decaying from the start needs about twice the steps (hyperparams.py).
        lr_scheduler_type="warmup_stable_decay",
        lr_scheduler_kwargs={"num_decay_steps": math.ceil(plan.hyper.total_steps * DECAY_SHARE)},
        warmup_steps=0,
        weight_decay=0.0,
        gradient_checkpointing=checkpointing,
        logging_steps=max(1, plan.hyper.total_steps // 50),
        logging_first_step=True,
        save_strategy="steps",
        save_steps=every,
        eval_strategy="steps" if plan.validation else "no",
        eval_steps=every if plan.validation else None,
        seed=plan.seed,
        data_seed=plan.seed,
        max_length=plan.max_seq_length,
        report_to=[],
        disable_tqdm=True,
        dataloader_num_workers=0,
        save_only_model=False,
        # TRL defaults to bf16, which CPUs without it refuse; mixed precision only where CUDA has it.
        bf16=bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported()),
    )
    lora = LoraConfig(
        r=plan.lora.rank or 8,
        lora_alpha=plan.lora.alpha or 16,
        lora_dropout=plan.lora.dropout or 0.0,
        target_modules=list(plan.lora.target_modules),
        task_type="CAUSAL_LM",
    )
    callback = _trainer_callback(progress, plan.hyper.total_steps)
    # Pre-tokenized examples: TRL turns assistant_masks into labels, so loss is on trained tokens only.
    columns = ("input_ids", "assistant_masks")
    train = Dataset.from_list([{k: e[k] for k in columns} for e in plan.train])
    valid = (
        Dataset.from_list([{k: e[k] for k in columns} for e in plan.validation]) if plan.validation else None
    )
    trainer = SFTTrainer(
        model=model,
        args=config,
        train_dataset=train,
        eval_dataset=valid,
        processing_class=tokenizer,
        peft_config=lora,
        callbacks=[callback],
    )
    trainer.remove_callback(PrinterCallback)  # progress goes to job events, not stdout
    result = trainer.train(resume_from_checkpoint=str(plan.resume_from) if plan.resume_from else None)
    step = trainer.state.global_step
    metrics = dict(callback.last)
    metrics.update(steps=float(step), train_runtime=float(result.metrics.get("train_runtime", 0.0)))
    if "train_loss" not in metrics and math.isfinite(result.training_loss):
        metrics["train_loss"] = float(result.training_loss)
    if callback.stopped:
        return Outcome(step=step, stopped=callback.stopped, metrics=metrics)
    _save_adapter(trainer.model, plan.adapter_dir)
    return Outcome(step=step, metrics=metrics, last_step_at=callback.last_step_at)


def _save_adapter(model: Any, adapter_dir: Path) -> None:
    """Writes the adapter next to its final place, then renames it, so readers never see half of it."""
    partial = adapter_dir.with_name(adapter_dir.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    try:
        model.save_pretrained(str(partial))
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)  # a full store keeps nothing of a half-written adapter
        raise
    shutil.rmtree(adapter_dir, ignore_errors=True)
    partial.rename(adapter_dir)
