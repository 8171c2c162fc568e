"""Request bodies of /v1/fine_tuning: OpenAI's job fields plus tuneway's LoRA, cleaning and schedules."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from tuneway.api.trainer.v1 import trainer_pb2 as pb
from tuneway.core.errors import InvalidArgumentError

SUFFIX_PATTERN = r"^[a-z0-9_-]{1,40}$"


def _auto_or(kind: type[int] | type[float], low: float, high: float) -> Any:
    """ "auto" or a number in [low, high]; one type rather than a union, so errors name just the field."""

    def check(value: Any) -> Any:
        if value is None or value == "auto":
            return "auto"
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError('expected "auto" or a number')
        if kind is int and value != int(value):
            raise ValueError('expected "auto" or an integer')
        if not low <= value <= high:
            raise ValueError(f"must be between {low:g} and {high:g}")
        return kind(value)

    schema = {"anyOf": [{"const": "auto"}, {"type": "integer" if kind is int else "number"}]}
    return Annotated[Any, BeforeValidator(check), WithJsonSchema(schema)]


class _Strict(BaseModel):
    # A misspelt option must not be dropped silently: 400 naming it instead.
    model_config = ConfigDict(extra="forbid")


class Hyperparameters(_Strict):
    """OpenAI's hyperparameters: each "auto" (the trainer picks) or a number."""

    n_epochs: _auto_or(int, 1, 100) = "auto"  # type: ignore[valid-type]
    batch_size: _auto_or(int, 1, 256) = "auto"  # type: ignore[valid-type]
    learning_rate_multiplier: _auto_or(float, 1e-6, 100) = "auto"  # type: ignore[valid-type]

    def to_proto(self) -> pb.Hyperparameters:
        """Unset fields mean "auto" to the trainer."""
        message = pb.Hyperparameters()
        if self.n_epochs != "auto":
            message.n_epochs = self.n_epochs
        if self.batch_size != "auto":
            message.batch_size = self.batch_size
        if self.learning_rate_multiplier != "auto":
            message.learning_rate_multiplier = self.learning_rate_multiplier
        return message

    def is_auto(self) -> bool:
        """Whether every value is "auto"."""
        return self.n_epochs == self.batch_size == self.learning_rate_multiplier == "auto"


class Supervised(_Strict):
    hyperparameters: Hyperparameters | None = None


class Method(_Strict):
    """OpenAI's method; tuneway trains `supervised` only."""

    type: Literal["supervised", "dpo", "reinforcement"]
    supervised: Supervised | None = None
    dpo: dict[str, Any] | None = None
    reinforcement: dict[str, Any] | None = None


class Lora(_Strict):
    """tuneway extension: LoRA rank, alpha, target modules and dropout (unset: the trainer's defaults)."""

    rank: Annotated[int, Field(ge=1, le=256)] | None = None
    alpha: Annotated[int, Field(ge=1, le=4096)] | None = None
    target_modules: Annotated[list[Annotated[str, Field(min_length=1)]], Field(max_length=32)] | None = None
    dropout: Annotated[float, Field(ge=0, lt=1)] | None = None

    def to_proto(self) -> pb.LoraConfig:
        """The trainer's LoRA message."""
        message = pb.LoraConfig(target_modules=self.target_modules or [])
        if self.rank is not None:
            message.rank = self.rank
        if self.alpha is not None:
            message.alpha = self.alpha
        if self.dropout is not None:
            message.dropout = self.dropout
        return message


class Cleaning(_Strict):
    """tuneway extension: PII scrubbing and the held-out validation share."""

    scrub_pii: bool = False
    validation_split: Annotated[float, Field(ge=0, le=0.5)] | None = None

    def to_proto(self) -> pb.CleaningOptions:
        """The trainer's cleaning message."""
        message = pb.CleaningOptions(scrub_pii=self.scrub_pii)
        if self.validation_split is not None:
            message.validation_split = self.validation_split
        return message


class _TrainingOptions(_Strict):
    model: Annotated[str, Field(min_length=1)]
    suffix: Annotated[str, Field(pattern=SUFFIX_PATTERN)] | None = None
    hyperparameters: Hyperparameters | None = None
    method: Method | None = None
    lora: Lora | None = None
    cleaning: Cleaning | None = None

    def resolved_hyperparameters(self) -> pb.Hyperparameters:
        """`method.supervised.hyperparameters`, or the deprecated top-level `hyperparameters`."""
        method_hp = None
        if self.method is not None:
            if self.method.type != "supervised":
                raise InvalidArgumentError(
                    f"Invalid value for 'method.type': '{self.method.type}' is not supported; "
                    "tuneway trains 'supervised' (LoRA SFT).",
                    param="method.type",
                    code="invalid_value",
                )
            method_hp = self.method.supervised.hyperparameters if self.method.supervised else None
        if method_hp is not None and self.hyperparameters is not None and not self.hyperparameters.is_auto():
            raise InvalidArgumentError(
                "Pass hyperparameters in 'method.supervised.hyperparameters' or the deprecated "
                "'hyperparameters', not both.",
                param="hyperparameters",
                code="invalid_value",
            )
        chosen = method_hp or self.hyperparameters or Hyperparameters()
        return chosen.to_proto()


class CreateJob(_TrainingOptions):
    """Body of POST /v1/fine_tuning/jobs (OpenAI's fields; `lora` and `cleaning` are extensions)."""

    training_file: Annotated[str, Field(min_length=1)]
    validation_file: str | None = None
    seed: Annotated[int, Field(ge=0, le=2**31 - 1)] | None = None
    integrations: list[dict[str, Any]] | None = None
    metadata: dict[str, str] | None = None

    def to_proto(self, tenant_id: str) -> pb.CreateJobRequest:
        """The trainer's request; unsupported OpenAI options are refused rather than ignored."""
        if self.integrations:
            raise InvalidArgumentError(
                "Invalid value for 'integrations': integrations are not supported.",
                param="integrations",
                code="invalid_value",
            )
        if self.metadata:
            raise InvalidArgumentError(
                "Invalid value for 'metadata': job metadata is not supported.",
                param="metadata",
                code="invalid_value",
            )
        request = pb.CreateJobRequest(
            tenant_id=tenant_id,
            model=self.model,
            training_file=self.training_file,
            validation_file=self.validation_file or "",
            suffix=self.suffix or "",
            hyperparameters=self.resolved_hyperparameters(),
            method="supervised",
            lora=(self.lora or Lora()).to_proto(),
            cleaning=(self.cleaning or Cleaning()).to_proto(),
        )
        if self.seed is not None:
            request.seed = self.seed
        return request


class CreateSchedule(_TrainingOptions):
    """Body of POST /v1/fine_tuning/schedules: a cron expression and what each firing trains."""

    cron: Annotated[str, Field(min_length=9, max_length=120, description="Five fields, UTC.")]
    training_file: str | None = Field(None, description="A fixed file id.")
    training_filename: str | None = Field(None, description="The newest fine-tune file with this name.")

    def to_proto(self, tenant_id: str) -> pb.Schedule:
        """The trainer's schedule message."""
        if bool(self.training_file) == bool(self.training_filename):
            raise InvalidArgumentError(
                "Give exactly one of 'training_file' and 'training_filename'.",
                param="training_file",
                code="invalid_value",
            )
        return pb.Schedule(
            tenant_id=tenant_id,
            cron=self.cron,
            training_file=self.training_file or "",
            training_filename=self.training_filename or "",
            model=self.model,
            suffix=self.suffix or "",
            hyperparameters=self.resolved_hyperparameters(),
            lora=(self.lora or Lora()).to_proto(),
            cleaning=(self.cleaning or Cleaning()).to_proto(),
        )


class SetAlias(_Strict):
    """Body of PUT /v1/fine_tuning/aliases/{alias}."""

    target: Annotated[str, Field(min_length=1, description="An adapter version's model name.")]
