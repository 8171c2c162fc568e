"""Prometheus metrics of the trainer (API and workers)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

JOBS = Counter("tuneway_trainer_jobs_total", "Jobs that reached a final status, by status", ["status"])
TRAINING_SECONDS = Histogram(
    "tuneway_trainer_training_seconds",
    "Wall time of one worker attempt at a job",
    buckets=(1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 14400),
)
REGISTRATION_SECONDS = Histogram(
    "tuneway_trainer_registration_seconds",
    "From the adapter's KV put to the first replica's loaded ack",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
SCHEDULE_FIRINGS = Counter("tuneway_trainer_schedule_firings_total", "Schedule firings this replica claimed")
REGISTRATIONS = Counter(
    "tuneway_trainer_registrations_total",
    "Adapter registrations by outcome (loaded: a replica confirmed it; unconfirmed: none did in time)",
    ["outcome"],
)
# Counted by the API from the jobs table (every replica counts the same table: take max, not sum).
JOBS_QUEUED = Gauge("tuneway_trainer_jobs_queued", "Jobs waiting for a worker (status queued)")
JOBS_RUNNING = Gauge("tuneway_trainer_jobs_running", "Jobs a worker is training (status running)")
# Updated by a worker from its training progress.
TRAINED_TOKENS = Counter(
    "tuneway_trainer_trained_tokens_total", "Training tokens processed (epochs counted), by logged steps"
)
TRAINING_LOSS = Gauge("tuneway_trainer_training_loss", "The latest logged training loss of this worker's job")
