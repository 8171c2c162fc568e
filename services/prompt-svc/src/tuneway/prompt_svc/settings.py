"""Settings of the prompt service (env prefix PROMPT_SVC_)."""

from __future__ import annotations

from tuneway.core.settings import DatabaseSettings, GrpcServiceSettings, service_config


class PromptSettings(GrpcServiceSettings, DatabaseSettings):
    """Serving, store, rendering limits, caching and language detection."""

    model_config = service_config("PROMPT_SVC_")
    database_name = "prompt-svc"

    grpc_port: int = 50051
    metrics_port: int = 9101
    # ISO 639-1 codes the detector chooses among; fewer candidates make short messages more accurate.
    languages: str = "en,de,fr,es,it,pt,nl"
    # Limits of one template, one render's output, its work (loop turns, calls) and its time.
    max_template_chars: int = 32_768
    max_output_chars: int = 65_536
    max_render_steps: int = 100_000
    render_timeout_ms: float = 100.0
    # Cached labels, assistants and experiments are dropped on NATS invalidation, and after this
    # long in any case (a safety net for a missed message).
    cache_ttl_seconds: float = 60.0

    def language_codes(self) -> list[str]:
        """The configured detector languages, lower case."""
        return [code.strip().lower() for code in self.languages.split(",") if code.strip()]
