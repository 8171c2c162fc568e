"""Settings of the trainer API and workers (env prefix TRAINER_)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field

from tuneway.core.settings import DatabaseSettings, GrpcServiceSettings, service_config


class TrainerSettings(GrpcServiceSettings, DatabaseSettings):
    """Serving, store, base model, queue timing and training defaults; one class for api and worker."""

    model_config = service_config("TRAINER_")
    database_name = "trainer"

    grpc_port: int = 50054
    metrics_port: int = 9104
    # Each worker process serves its own metrics; 0 turns them off (several workers on one host).
    worker_metrics_port: int = 9114
    # Empty means SQLite under the data dir (var/trainer.db), shared by the API and local workers.
    # TRAINER_DB_URL, the name of early releases, is still read.
    database_url: str = Field(
        "", validation_alias=AliasChoices("TRAINER_DATABASE_URL", "TRAINER_DB_URL", "database_url")
    )
    # A Hugging Face model directory; empty means the demo model under the data dir.
    base_model: str = ""
    # The name clients use for the base model; empty means the model directory's name.
    base_model_name: str = ""
    # JetStream redelivers a job whose worker sent no heartbeat for this long (a dead worker).
    ack_wait_seconds: float = 30.0
    heartbeat_seconds: float = 5.0
    # A job whose worker died this many times fails with the reason instead of looping.
    max_attempts: int = 3
    # Checkpoint every N optimizer steps; 0 means about every quarter of the job.
    checkpoint_steps: int = 0
    # How long a finished job waits for an inference replica to report the adapter loaded.
    registration_wait_seconds: float = 10.0
    # How often the API retries publishing queued jobs to the TRAINING stream (while NATS is down).
    dispatch_retry_seconds: float = 2.0
    # How often the schedule loop looks for due schedules.
    scheduler_tick_seconds: float = 5.0
    # How often a training worker looks for a cancel request (cancel then stops at the next step).
    cancel_poll_seconds: float = 0.25
    # Tokens per training example; longer examples are truncated (with a warning).
    max_seq_length: int = 1024
    # Torch threads of one training run; 0 means every core the process may use.
    torch_threads: int = 0
    # Recompute activations in the backward pass to save memory: "auto" turns it on for base models
    # of CHECKPOINTING_FROM_PARAMETERS (worker/training.py) and more, where activations fill memory; below
    # that it only costs time.
    gradient_checkpointing: Literal["auto", "on", "off"] = "auto"

    def base_model_path(self) -> Path:
        """The base model directory: TRAINER_BASE_MODEL, or the demo model built by `make model`."""
        return Path(self.base_model or self.data_dir / "models" / "tuneway-tiny")

    def base_model_id(self) -> str:
        """The base model's public name (matches the inference service's served name)."""
        return self.base_model_name or Path(str(self.base_model_path()).rstrip("/")).name
