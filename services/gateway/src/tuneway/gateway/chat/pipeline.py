"""A chat completion, one step after another: retrieve -> render the prompt -> generate -> write the
response or the stream. Only assistants (`assistant:<name>`) take the first two steps; each step is a
module below this one that calls nothing above it. The recorder notes what each step learned for the
request's analytics event, sent when the reply is done (it never waits on NATS)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass

from starlette.responses import Response

from tuneway.api.inference.v1 import inference_pb2 as pb
from tuneway.gateway.analytics.recorder import CompletionRecorder
from tuneway.gateway.chat.generation import apply_rendered, first_response, fixed_answer, generate_request
from tuneway.gateway.chat.responses import (
    ChunkWriter,
    ServedBy,
    collect_completion,
    served_by,
    stream_completion,
)
from tuneway.gateway.chat.schemas import ChatCompletionRequest
from tuneway.gateway.clients.inference import InferenceClient
from tuneway.gateway.clients.prompt import PromptClient
from tuneway.gateway.clients.retriever import RetrieverClient
from tuneway.gateway.knowledge.retrieval import retrieve_for_assistant
from tuneway.gateway.prompts.assistant_names import assistant_name, is_assistant
from tuneway.gateway.prompts.rendering import render_for_assistant
from tuneway.gateway.streaming import event_stream_response


async def complete(
    body: ChatCompletionRequest,
    tenant_id: str,
    completion_id: str,
    inference: InferenceClient,
    prompts: PromptClient,
    retriever: RetrieverClient,
    recorder: CompletionRecorder,
) -> Response:
    """The chat completion of `body` for `tenant_id`, as JSON or (with `stream`) server-sent events."""
    try:
        generation = await generate(body, tenant_id, completion_id, inference, prompts, retriever, recorder)
        return await _write(body, completion_id, generation, recorder)
    except BaseException as error:
        recorder.failed(error)
        raise


@dataclass
class Generation:
    """A generation under way: its first response (which already settled the HTTP status), the rest,
    and what served an assistant request (None for a base model or an adapter)."""

    first: pb.GenerateResponse
    rest: AsyncGenerator[pb.GenerateResponse, None]
    served: ServedBy | None


async def generate(
    body: ChatCompletionRequest,
    tenant_id: str,
    completion_id: str,
    inference: InferenceClient,
    prompts: PromptClient,
    retriever: RetrieverClient,
    recorder: CompletionRecorder,
) -> Generation:
    """The steps before the write: retrieve -> render (assistants only) -> generate, up to the first
    response. Other writers of a generation (the responses API) share them through here."""
    request = generate_request(body, tenant_id, completion_id)
    served: ServedBy | None = None
    answer: str | None = None
    if is_assistant(body.model):
        assistant = assistant_name(body.model)
        # Retrieve: the assistant's knowledge bases, searched with the latest user message.
        retrieved = await retrieve_for_assistant(prompts, retriever, tenant_id, assistant, request.messages)
        recorder.retrieved(retrieved)
        # Render: the assistant's prompt over the conversation, with the retrieved chunks as `context`.
        variables = {**(body.variables or {}), **retrieved.variables}
        rendered = await render_for_assistant(
            prompts, tenant_id, assistant, request.messages, variables, body.user, body.metadata
        )
        recorder.rendered(rendered)
        apply_rendered(request, rendered, body)
        served = served_by(rendered, retrieved.served())
        answer = retrieved.answer
    # Generate, and wait for the first response before choosing the status: unknown models, bad
    # parameters and an unreachable engine become proper HTTP errors instead of a 200 stream that fails.
    responses = recorder.observe(
        fixed_answer(answer, body.n) if answer is not None else inference.generate(request)
    )
    first = await first_response(responses)
    return Generation(first, responses, served)


async def _write(
    body: ChatCompletionRequest, completion_id: str, generation: Generation, recorder: CompletionRecorder
) -> Response:
    """The write step: OpenAI's chat.completion, or its chunk events as they are generated."""
    first, responses, served = generation.first, generation.rest, generation.served
    served_body = served.body if served else None
    headers = served.headers if served else {}
    if not body.stream:
        completion = await collect_completion(
            first, responses, completion_id, body.model, served_body, logprobs=bool(body.logprobs)
        )
        recorder.succeeded()
        return Response(completion, media_type="application/json", headers=headers)
    include_usage = bool(body.stream_options and body.stream_options.include_usage)
    writer = ChunkWriter(
        completion_id, body.model, include_usage, served_body, n=body.n, logprobs=bool(body.logprobs)
    )
    events = stream_completion(first, responses, writer, include_usage)
    return event_stream_response(recorder.observe_stream(events), headers)
