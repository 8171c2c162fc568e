"""Columns as domain values and back: the JSON settings columns of jobs and schedules, and rows whose
columns are named like the fields of a domain value."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, TypeVar

from tuneway.trainer import domain as d
from tuneway.trainer.models import JobRow, ScheduleRow

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

Value = TypeVar("Value", bound="DataclassInstance")


def from_columns(kind: type[Value], row: object, **converted: Any) -> Value:
    """A `kind` with each field from the row's column of that name, or from `converted` where given."""
    return kind(
        **{
            field.name: converted[field.name] if field.name in converted else getattr(row, field.name)
            for field in dataclasses.fields(kind)
        }
    )


def hyperparameters_from(data: dict[str, Any]) -> d.Hyperparameters:
    """Hyperparameters from their JSON column."""
    return d.Hyperparameters(
        n_epochs=data.get("n_epochs"),
        batch_size=data.get("batch_size"),
        learning_rate_multiplier=data.get("learning_rate_multiplier"),
    )


def lora_from(data: dict[str, Any]) -> d.LoraSpec:
    """A LoRA spec from its JSON column."""
    return d.LoraSpec(
        rank=data.get("rank"),
        alpha=data.get("alpha"),
        target_modules=tuple(data.get("target_modules") or ()),
        dropout=data.get("dropout"),
    )


def cleaning_from(data: dict[str, Any]) -> d.Cleaning:
    """Cleaning options from their JSON column."""
    return d.Cleaning(scrub_pii=bool(data.get("scrub_pii")), validation_split=data.get("validation_split"))


def hyperparameters_json(hyperparameters: d.Hyperparameters) -> dict[str, Any]:
    """Hyperparameters for their JSON column."""
    return dataclasses.asdict(hyperparameters)


def lora_json(lora: d.LoraSpec) -> dict[str, Any]:
    """A LoRA spec for its JSON column (the modules as a list, as JSON reads them back)."""
    return {**dataclasses.asdict(lora), "target_modules": list(lora.target_modules)}


def cleaning_json(cleaning: d.Cleaning) -> dict[str, Any]:
    """Cleaning options for their JSON column."""
    return dataclasses.asdict(cleaning)


def training_settings_from(row: JobRow | ScheduleRow) -> dict[str, Any]:
    """The hyperparameters, LoRA spec and cleaning options of a job or schedule row, as domain values."""
    return {
        "hyperparameters": hyperparameters_from(row.hyperparameters),
        "lora": lora_from(row.lora),
        "cleaning": cleaning_from(row.cleaning),
    }


def training_settings_json(
    hyperparameters: d.Hyperparameters, lora: d.LoraSpec, cleaning: d.Cleaning
) -> dict[str, Any]:
    """The JSON columns of a job or schedule row that hold its hyperparameters, LoRA spec and cleaning."""
    return {
        "hyperparameters": hyperparameters_json(hyperparameters),
        "lora": lora_json(lora),
        "cleaning": cleaning_json(cleaning),
    }
