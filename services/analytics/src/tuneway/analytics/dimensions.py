"""The dimension values of a completion event, in DIMENSIONS' order."""

from __future__ import annotations

from tuneway.api.events.v1 import events_pb2


def prompt_version(event: events_pb2.CompletionEvent) -> str:
    return f"{event.prompt_name}:{event.prompt_version}" if event.prompt_name else ""


def experiment_arm(event: events_pb2.CompletionEvent) -> str:
    return f"{event.experiment_id}:{event.experiment_arm}" if event.experiment_id else ""


def dimensions(event: events_pb2.CompletionEvent, query_type: str) -> tuple[str, ...]:
    """query_type, channel, language, model (the base model), adapter, assistant, prompt_version,
    variant, experiment_arm, kind, endpoint."""
    return (
        query_type,
        event.channel,
        event.language,
        event.base_model,
        event.adapter,
        event.assistant,
        prompt_version(event),
        event.variant,
        experiment_arm(event),
        event.kind,
        event.endpoint,
    )


def knowledge_ran(event: events_pb2.CompletionEvent) -> bool:
    """The assistant's knowledge step ran: it gave sources to the prompt, or answered "I don't know"."""
    return event.knowledge_sources > 0 or event.knowledge_no_answer
