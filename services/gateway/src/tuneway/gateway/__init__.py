"""tuneway gateway: the OpenAI-compatible HTTP API in front of every service."""
