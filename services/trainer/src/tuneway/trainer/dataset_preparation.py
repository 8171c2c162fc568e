"""A registered dataset prepared with the foundation model's tokenizer, for validation and for training."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from tuneway.core.artifacts import local_path
from tuneway.core.errors import FailedPreconditionError
from tuneway.trainer.datasets import PreparedDataset, PrepareOptions, prepare_dataset
from tuneway.trainer.domain import Cleaning, Dataset
from tuneway.trainer.foundation_model import FoundationModel

# How many of a report's errors go into a failed job's message (the report keeps them all).
ERRORS_IN_MESSAGE = 5


async def prepare(
    base: FoundationModel,
    dataset: Dataset,
    cleaning: Cleaning,
    max_seq_length: int,
    seed: int,
    *,
    split: bool,
    validation_file: bool = False,
) -> PreparedDataset:
    """Parses, cleans, validates and tokenizes a dataset on a thread, so the event loop keeps serving.

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
    return await asyncio.to_thread(_prepare_file, base, dataset, options)


def _prepare_file(base: FoundationModel, dataset: Dataset, options: PrepareOptions) -> PreparedDataset:
    # Blocking: loading the tokenizer and tokenizing are CPU work.
    path = local_path(dataset.uri)
    if not path.is_file():
        raise FailedPreconditionError(f"the bytes of {dataset.file_id} are missing from the artifact store")
    return prepare_dataset(path, filename=dataset.filename, tokenizer=base.tokenizer(), options=options)


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
