"""tuneway's trainer: datasets, fine-tuning jobs, LoRA training workers, adapter registry, schedules.

Two processes share this package: `api/` serves the gRPC API and fires schedules, `worker/` trains
jobs from the work queue. The modules beside them (domain values, tables and their repository, the
foundation model, dataset preparation, the adapter registry, the work queue) are used by both.
"""
