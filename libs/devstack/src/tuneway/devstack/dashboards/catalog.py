"""The five dashboards: overview, customisation, fine-tuning, knowledge, inference."""

from __future__ import annotations

from tuneway.devstack.dashboards.model import Dashboard, Panel, Query
from tuneway.devstack.dashboards.promql import WINDOW, quantiles, rate, share

GATEWAY_REQUESTS = "tuneway_gateway_requests_total"
TOKENS = "tuneway_inference_tokens_total"
CUSTOMISATION = "tuneway_analytics_customisation_requests_total"
FEEDBACK = "tuneway_analytics_feedback_total"
COMPLETIONS = "tuneway_analytics_completions_total"
ANSWERS = "tuneway_analytics_knowledge_answers_total"


def _by(label: str) -> str:
    return "{{" + label + "}}"


OVERVIEW = Dashboard(
    uid="tuneway-overview",
    title="tuneway / Overview",
    description="Traffic, errors, latency, time to first token and tokens across the API.",
    panels=(
        Panel("Requests by status", (Query(rate(GATEWAY_REQUESTS, "status"), _by("status")),), "reqps"),
        Panel(
            "Server errors (5xx share of requests)",
            (
                Query(
                    f'(sum(rate({GATEWAY_REQUESTS}{{status=~"5.."}}[{WINDOW}])) or vector(0))'
                    f" / {rate(GATEWAY_REQUESTS)}",
                    "5xx",
                ),
            ),
            "percentunit",
        ),
        Panel("Request latency", quantiles("tuneway_gateway_request_seconds"), "s"),
        Panel(
            "Busiest routes",
            (Query(f"topk(10, {rate(GATEWAY_REQUESTS, 'route, method')})", "{{method}} {{route}}"),),
            "reqps",
        ),
        Panel("Time to first token", quantiles("tuneway_inference_time_to_first_token_seconds"), "s"),
        Panel("Tokens per second", (Query(rate(TOKENS, "type"), _by("type")),), "short"),
    ),
)

CUSTOMISATION_DASHBOARD = Dashboard(
    uid="tuneway-customisation",
    title="tuneway / Customisation",
    description=(
        "Requests and satisfaction by assistant, prompt version, variant and adapter; the analytics pipeline."
    ),
    panels=(
        Panel("Requests by assistant", (Query(rate(CUSTOMISATION, "assistant"), _by("assistant")),), "reqps"),
        Panel(
            "Requests by prompt version",
            (Query(rate(CUSTOMISATION, "assistant, prompt_version"), "{{assistant}} v{{prompt_version}}"),),
            "reqps",
        ),
        Panel("Requests by variant", (Query(rate(CUSTOMISATION, "variant"), _by("variant")),), "reqps"),
        Panel("Requests by adapter", (Query(rate(CUSTOMISATION, "adapter"), _by("adapter")),), "reqps"),
        Panel(
            "Satisfaction by assistant and prompt version",
            (
                Query(
                    f"sum by (assistant, prompt_version) "
                    f'(increase({FEEDBACK}{{sentiment="positive"}}[$__range]))'
                    f" / sum by (assistant, prompt_version) "
                    f'(increase({FEEDBACK}{{sentiment=~"positive|negative"}}[$__range]))',
                    "{{assistant}} v{{prompt_version}}",
                ),
            ),
            "percentunit",
            description="Positive share of rated feedback (neutral left out) over the dashboard's range.",
        ),
        Panel("Feedback by sentiment", (Query(rate(FEEDBACK, "sentiment"), _by("sentiment")),), "short"),
        Panel(
            "Completions by endpoint, kind and status",
            (Query(rate(COMPLETIONS, "endpoint, kind, status"), "{{endpoint}} {{kind}} {{status}}"),),
            "reqps",
        ),
        Panel(
            "Completions by query type", (Query(rate(COMPLETIONS, "query_type"), _by("query_type")),), "reqps"
        ),
        Panel(
            "Completions by channel and language",
            (Query(rate(COMPLETIONS, "channel, language"), "{{channel}} {{language}}"),),
            "reqps",
        ),
        Panel(
            "Analytics: events ingested and duplicates",
            (
                Query(rate("tuneway_analytics_events_ingested_total", "type"), "ingested {{type}}"),
                Query(rate("tuneway_analytics_events_duplicate_total", "type"), "duplicate {{type}}"),
            ),
            "short",
        ),
        Panel(
            "Analytics: ingest lag and pending events",
            (
                Query("max(tuneway_analytics_ingest_lag_seconds)", "lag (s)"),
                Query("max(tuneway_analytics_consumer_pending)", "pending"),
            ),
            "short",
        ),
        Panel(
            "Analytics: ingest batch size",
            quantiles("tuneway_analytics_ingest_batch_size", levels=(0.5, 0.95)),
            "short",
        ),
    ),
)

FINE_TUNING = Dashboard(
    uid="tuneway-fine-tuning",
    title="tuneway / Fine-tuning",
    description="The training queue, running jobs, throughput, loss and adapter registrations.",
    panels=(
        Panel(
            "Jobs queued and running",
            (
                # Every trainer process exports the gauges; the api counts them, so take the max.
                Query("max(tuneway_trainer_jobs_queued)", "queued"),
                Query("max(tuneway_trainer_jobs_running)", "running"),
            ),
            "short",
        ),
        Panel(
            "Training throughput", (Query(rate("tuneway_trainer_trained_tokens_total"), "tokens/s"),), "short"
        ),
        Panel(
            "Training loss",
            (Query("max(tuneway_trainer_training_loss)", "latest loss"),),
            "short",
            description="The latest logged training loss (the highest among workers training at once).",
        ),
        Panel(
            "Finished jobs by status",
            (Query(rate("tuneway_trainer_jobs_total", "status"), _by("status")),),
            "short",
        ),
        Panel(
            "Adapter registrations by outcome",
            (Query(rate("tuneway_trainer_registrations_total", "outcome"), _by("outcome")),),
            "short",
        ),
        Panel("Registration time (KV put to loaded)", quantiles("tuneway_trainer_registration_seconds"), "s"),
        Panel(
            "Training attempt wall time",
            quantiles("tuneway_trainer_training_seconds", levels=(0.5, 0.95)),
            "s",
        ),
        Panel(
            "Schedule firings", (Query(rate("tuneway_trainer_schedule_firings_total"), "firings"),), "short"
        ),
    ),
)

KNOWLEDGE = Dashboard(
    uid="tuneway-knowledge",
    title="tuneway / Knowledge",
    description="Document ingestion, search latency and how often the assistant had no answer.",
    panels=(
        Panel(
            "Chunks ingested", (Query(rate("tuneway_retriever_chunks_ingested_total"), "chunks/s"),), "short"
        ),
        Panel(
            "Ingestions by outcome",
            (Query(rate("tuneway_retriever_ingestions_total", "outcome"), _by("outcome")),),
            "short",
        ),
        Panel("Search latency", quantiles("tuneway_retriever_search_seconds"), "s"),
        Panel(
            "Answered and no-answer share",
            (Query(share(ANSWERS, "outcome"), _by("outcome")),),
            "percentunit",
            description="Knowledge-backed chats answered from the knowledge base vs. 'I don't know'.",
        ),
        Panel(
            "Texts embedded (embeddings API)",
            (Query(rate("tuneway_retriever_embedded_texts_total"), "texts/s"),),
            "short",
        ),
    ),
)

INFERENCE = Dashboard(
    uid="tuneway-inference",
    title="tuneway / Inference",
    description="The engine: generations in flight, outcomes, latency, first token, tokens, adapters.",
    panels=(
        Panel(
            "Generations in flight",
            (Query("sum(tuneway_inference_requests_in_flight)", "in flight"),),
            "short",
        ),
        Panel(
            "Generations by outcome and kind",
            (Query(rate("tuneway_inference_requests_total", "outcome, kind"), "{{outcome}} {{kind}}"),),
            "reqps",
        ),
        Panel("Generation latency", quantiles("tuneway_inference_request_seconds"), "s"),
        Panel("Time to first token", quantiles("tuneway_inference_time_to_first_token_seconds"), "s"),
        Panel("Tokens per second", (Query(rate(TOKENS, "type"), _by("type")),), "short"),
        Panel(
            "Loaded adapters",
            (Query("tuneway_inference_loaded_adapters", "{{instance}}"),),
            "short",
            description="LoRA adapters registered in each replica's engine.",
        ),
        Panel(
            "Adapter reconciliation",
            (
                Query(
                    rate("tuneway_inference_adapter_events_total", "action, outcome"),
                    "{{action}} {{outcome}}",
                ),
            ),
            "short",
        ),
    ),
)

DASHBOARDS = (OVERVIEW, CUSTOMISATION_DASHBOARD, FINE_TUNING, KNOWLEDGE, INFERENCE)
