"""Datasets as the worker and the API read them: the base model's tokenizer and prepare_dataset."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from pathlib import Path
from typing import Any

from tuneway.core.artifacts import local_path
from tuneway.core.errors import FailedPreconditionError, InvalidArgumentError
from tuneway.trainer.datasets import PreparedDataset, PrepareOptions, prepare_dataset
from tuneway.trainer.domain import Cleaning, Dataset

# How many of a report's errors go into a failed job's message (the report keeps them all).
ERRORS_IN_MESSAGE = 5


class BaseModel:
    """The one base model this deployment trains: its public name, directory and (lazy) tokenizer."""

    def __init__(self, name: str, path: Path) -> None:
        self.name = name
        self.path = path
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    def check(self, model: str, param: str = "model") -> str:
        """The base model's name when `model` names it (or is empty); an error naming `param` otherwise."""
        if model and model != self.name:
            raise InvalidArgumentError(
                f"Model {model!r} is not available for fine-tuning; "
                f"this deployment fine-tunes {self.name!r}.",
                param=param,
                code="model_not_available",
            )
        return self.name

    def tokenizer(self) -> Any:
        """The base model's tokenizer, loaded once per process (thread-safe)."""
        with self._lock:
            if self._tokenizer is None:
                from transformers import AutoTokenizer

                if not self.path.is_dir():
                    raise FailedPreconditionError(
                        f"the base model directory {self.path} does not exist (run `make model`)"
                    )
                self._tokenizer = AutoTokenizer.from_pretrained(str(self.path))
            return self._tokenizer


def prepare_sync(
    base: BaseModel,
    dataset: Dataset,
    cleaning: Cleaning,
    max_seq_length: int,
    seed: int,
    *,
    split: bool,
    validation_file: bool = False,
) -> PreparedDataset:
    """Parses, cleans, validates and tokenizes a dataset (blocking: tokenization is CPU work).

    `split`: hold out part of it for validation (no separate validation file); `validation_file`: it
    is one, so it is kept whole and held to no minimum size.
    """
    options = PrepareOptions(
        scrub_pii=cleaning.scrub_pii,
        validation_split=cleaning.validation_split if split and not validation_file else 0.0,
        max_seq_length=max_seq_length,
        seed=seed,
        **({"min_examples": 1} if validation_file else {}),
    )
    path = local_path(dataset.uri)
    if not path.is_file():
        raise FailedPreconditionError(f"the bytes of {dataset.file_id} are missing from the artifact store")
    return prepare_dataset(path, filename=dataset.filename, tokenizer=base.tokenizer(), options=options)


async def prepare(
    base: BaseModel,
    dataset: Dataset,
    cleaning: Cleaning,
    max_seq_length: int,
    seed: int,
    *,
    split: bool,
    validation_file: bool = False,
) -> PreparedDataset:
    """prepare_sync on a thread, so the event loop keeps serving."""
    return await asyncio.to_thread(
        prepare_sync,
        base,
        dataset,
        cleaning,
        max_seq_length,
        seed,
        split=split,
        validation_file=validation_file,
    )


def report_dict(prepared: PreparedDataset, base: str, max_seq_length: int, steps: int = 0) -> dict[str, Any]:
    """The report as a dict mirroring the proto message, with the fields the trainer knows added."""
    report = dataclasses.asdict(prepared.report)  # type: ignore[call-overload]
    report.update(base_model=base, max_seq_length=max_seq_length, estimated_steps=steps)
    return dict(report)


def failure_message(report: dict[str, Any], filename: str) -> str:
    """A failed job's message: the first line-numbered errors of its file."""
    errors = report.get("errors") or []
    shown = "; ".join(str(e.get("message", "")) for e in errors[:ERRORS_IN_MESSAGE])
    more = f" (and {len(errors) - ERRORS_IN_MESSAGE} more)" if len(errors) > ERRORS_IN_MESSAGE else ""
    return f"The file {filename} failed validation: {shown}{more}."
