"""tuneway's trainer: datasets, fine-tuning jobs, LoRA training workers, adapter registry, schedules."""
