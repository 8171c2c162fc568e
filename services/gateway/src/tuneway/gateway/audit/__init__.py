"""The audit log: who changed what users get (prompts, experiments, assistants, aliases, adapters,
schedules, knowledge, keys), when, and the resource before and after; GET /v1/audit per tenant."""
