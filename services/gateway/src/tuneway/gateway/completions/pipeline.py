"""A text completion: generate (one inference request per prompt, merged) -> write the response or the
stream. Base models and the tenant's adapters only: an assistant renders a conversation, which a raw
prompt is not. The recorder notes the generation for the request's analytics event."""

from __future__ import annotations

from starlette.responses import Response

from tuneway.core.errors import InvalidArgumentError
from tuneway.gateway.analytics.recorder import CompletionRecorder
from tuneway.gateway.chat.generation import first_response
from tuneway.gateway.clients.inference import InferenceClient
from tuneway.gateway.completions.generation import generate_requests, merged
from tuneway.gateway.completions.responses import ChunkWriter, collect_completion, stream_completion
from tuneway.gateway.completions.schemas import CompletionRequest
from tuneway.gateway.prompts.assistant_names import is_assistant
from tuneway.gateway.streaming import event_stream_response


async def complete_text(
    body: CompletionRequest,
    tenant_id: str,
    completion_id: str,
    inference: InferenceClient,
    recorder: CompletionRecorder,
) -> Response:
    """The text completion of `body` for `tenant_id`, as JSON or (with `stream`) server-sent events."""
    try:
        return await _complete_text(body, tenant_id, completion_id, inference, recorder)
    except BaseException as error:
        recorder.failed(error)
        raise


async def _complete_text(
    body: CompletionRequest,
    tenant_id: str,
    completion_id: str,
    inference: InferenceClient,
    recorder: CompletionRecorder,
) -> Response:
    if is_assistant(body.model):
        raise InvalidArgumentError(
            "assistants answer conversations: use /v1/chat/completions with an assistant, or name a base "
            "model or an adapter here",
            param="model",
        )
    requests = generate_requests(body, tenant_id, completion_id)
    # Generate, and wait for every prompt's first response before choosing the status.
    responses = recorder.observe(merged([inference.generate(r) for r in requests], body.n))
    first = await first_response(responses)
    logprobs = body.logprobs is not None
    if not body.stream:
        completion = await collect_completion(
            first, responses, completion_id, body.model, n=body.n, logprobs=logprobs
        )
        recorder.succeeded()
        return Response(completion, media_type="application/json")
    include_usage = bool(body.stream_options and body.stream_options.include_usage)
    writer = ChunkWriter(completion_id, body.model, n=body.n, logprobs=logprobs, include_usage=include_usage)
    return event_stream_response(
        recorder.observe_stream(stream_completion(first, responses, writer, include_usage)), {}
    )
