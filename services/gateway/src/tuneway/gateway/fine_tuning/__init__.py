"""Fine-tuning: jobs and their events, the adapter registry and retraining schedules (trainer service)."""
