"""tuneway's analytics service: completion and feedback events in, summaries and experiment results out."""
