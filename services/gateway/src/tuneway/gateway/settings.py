"""Settings of the gateway (env prefix GATEWAY_; the bootstrap key is the shared TUNEWAY_BOOTSTRAP_KEY)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import orjson
from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import NoDecode

from tuneway.core.settings import DatabaseSettings, service_config


class GatewaySettings(DatabaseSettings):
    """HTTP serving, the gateway's own database, and where the other services are."""

    model_config = service_config("GATEWAY_")
    database_name = "gateway"

    host: str = "0.0.0.0"
    port: int = 8080
    # Prometheus scrapes /metrics here, apart from the public API port (whose callers need not see
    # every route's counters); 0 serves none. 9106, not 9100: node_exporter's port on many hosts.
    metrics_port: int = 9106
    # Also serve /metrics on the API port (for a scraper that reaches only that port).
    metrics_on_api_port: bool = False
    # The inference replicas: host:port, comma-separated; a name may resolve to several addresses (a
    # headless Service: each ready pod). Generations go to the replica with the fewest in flight.
    inference_target: str = "127.0.0.1:50053"
    trainer_target: str = "127.0.0.1:50054"
    prompt_target: str = "127.0.0.1:50051"
    retriever_target: str = "127.0.0.1:50052"
    # Requests with a larger body get 413 before it is read.
    max_body_bytes: int = 4 * 1024 * 1024
    # Uploads to /v1/files have their own limit on the file's bytes (413 past it, nothing kept).
    max_file_bytes: int = 512 * 1024 * 1024
    # Deadline of unary calls to other services; generations are bounded by their tokens instead.
    rpc_timeout_seconds: float = 10.0
    # How long a request waits for the inference service's connection when the generation stream has
    # to be opened (at first and after the service restarted) before it gets 503.
    inference_connect_seconds: float = 2.0
    # How often names in inference_target are looked up again (replicas that came or went).
    inference_resolve_seconds: float = Field(5.0, gt=0)
    # Dataset validation tokenizes the whole file, so it gets a longer deadline than other calls.
    validation_timeout_seconds: float = 120.0
    # Adding a knowledge base document with `wait` returns once it is embedded, which takes a while.
    ingest_timeout_seconds: float = 600.0
    # SSE comment sent while a job's event stream is quiet, so proxies keep the connection open.
    sse_keepalive_seconds: float = 15.0
    # How long a verified API key is trusted without asking the database again (revocation delay).
    key_cache_seconds: float = 5.0
    # How long a replica resolves model aliases from its copy before refreshing it (in the background):
    # how late other replicas see an alias changed on one.
    model_alias_cache_seconds: float = 5.0
    # Seconds open requests (streams included) get to finish on SIGTERM, after the gateway stops
    # accepting connections; what is still open then is closed. Whole seconds, as uvicorn takes them.
    drain_seconds: int = Field(10, ge=0)
    # How long an idle client connection stays open. Longer than clients keep theirs (httpx, so the OpenAI
    # SDK: 5 s; aiohttp: 15 s; load balancers: 60 s), so that the client closes it first: a server that
    # closes first races the client's next request on that connection, which then fails with a reset.
    keep_alive_seconds: int = Field(75, ge=1)
    # Suggested wait, sent as Retry-After with 503 and 429.
    retry_after_seconds: int = 1
    # The analytics service (summaries, drill-down, experiment results) behind /v1/analytics.
    analytics_target: str = "127.0.0.1:50055"
    # Publish a CompletionEvent per request and feedback to NATS (EVENTS); false publishes nothing.
    analytics_enabled: bool = True
    # Events wait in an on-disk outbox while NATS is unreachable; past this many the oldest are dropped.
    outbox_max_events: int = Field(100_000, ge=1)
    # Signs completion ids with their tenant, so feedback on another tenant's id is a 404 without a
    # lookup. Replicas must share it; empty: generated once into a 0600 file in the data dir.
    completion_id_secret: str = ""
    # Redis holding the rate limits' counters, shared by every gateway replica, e.g.
    # redis://127.0.0.1:6379/0. Empty: each replica counts on its own, in memory.
    redis_url: str = ""
    bootstrap_key: str = Field("", validation_alias=AliasChoices("TUNEWAY_BOOTSTRAP_KEY", "bootstrap_key"))
    # Browser origins allowed to call the API (CORS), comma-separated or a JSON list, e.g.
    # "https://app.example.com"; "*" allows any. Empty: CORS off, no other site's page reads an answer.
    cors_origins: Annotated[list[str], NoDecode] = []
    # JSON (and other text) responses of at least this many bytes are gzipped for clients that accept it;
    # smaller ones gain too little for the CPU it costs. 0: never. Event streams are never compressed.
    gzip_minimum_bytes: int = Field(4096, ge=0)
    # Batches (/v1/batches), run by `python -m tuneway.gateway.batch_worker` processes. Lines a worker
    # runs at once: few, so a batch fills the engine's idle capacity and not its queue.
    batch_concurrency: int = Field(2, ge=1, le=256)
    # vLLM priority of batch lines (interactive requests are 0; a larger value is served later).
    batch_priority: int = Field(10, ge=0)
    # A worker silent this long (it died) has its batch redelivered to another; heartbeats go 6x as often.
    batch_ack_wait_seconds: float = Field(30.0, gt=0)
    # A batch accepted while NATS was down is published again this often until it is.
    batch_dispatch_retry_seconds: float = Field(5.0, gt=0)
    batch_worker_metrics_port: int = 9116

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _origins(cls, value: Any) -> Any:
        """GATEWAY_CORS_ORIGINS as a JSON list or comma-separated origins."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                value = orjson.loads(text)
            else:
                value = text.split(",")
        # Browsers send an origin without a trailing slash: "https://a.example/" would never match.
        return [str(origin).strip().rstrip("/") for origin in value if str(origin).strip()]

    def files_dir(self) -> Path:
        """Root of uploaded files in the artifact store: <artifacts>/files/<tenant>/<file id>."""
        return self.artifacts_root() / "files"

    def admin_key_file(self) -> Path:
        """Where a generated bootstrap admin key is written (readable by the owner only)."""
        return self.data_dir / "admin_key"

    def outbox_file(self) -> Path:
        """The on-disk outbox of analytics events waiting for NATS (kept across restarts)."""
        return self.data_dir / "analytics-outbox.db"

    def completion_id_secret_file(self) -> Path:
        """Where a generated completion id secret is kept (readable by the owner only)."""
        return self.data_dir / "completion_id_secret"
