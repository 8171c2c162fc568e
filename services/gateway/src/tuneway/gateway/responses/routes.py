"""POST /v1/responses (JSON or server-sent events)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from tuneway.core.logging import tenant_var
from tuneway.gateway.analytics.completion_ids import RESPONSE_PREFIX
from tuneway.gateway.analytics.recorder import CompletionRecorder
from tuneway.gateway.chat.pipeline import generate
from tuneway.gateway.chat.schemas import ChatCompletionRequest
from tuneway.gateway.deps import AllServices, CurrentPrincipal, Services
from tuneway.gateway.openapi import UPSTREAM, documented
from tuneway.gateway.request_ids import use_completion_id
from tuneway.gateway.responses.conversation import chat_request
from tuneway.gateway.responses.events import ResponseStreamEvent, stream_response
from tuneway.gateway.responses.objects import ResponseObject, ResponseShell, collect_response
from tuneway.gateway.responses.schemas import ResponseRequest
from tuneway.gateway.streaming import event_stream_response

router = APIRouter(tags=["responses"])
STREAM = (
    "`event` names its type. The stream ends with `response.completed` (or `response.incomplete`); an "
    "error after it started arrives as an `error` event, then `response.failed`."
)


@router.post(
    "/v1/responses",
    responses=documented(
        ResponseObject,
        404,
        409,
        *UPSTREAM,
        events=ResponseStreamEvent,
        stream=STREAM,
    ),
    summary="Create a model response (OpenAI's Responses API: text and function calls)",
)
async def create_response(
    request: Request, body: ResponseRequest, principal: CurrentPrincipal, services: AllServices
) -> Response:
    """Generates with a base model, an adapter, or an assistant (`assistant:<name>`) through the chat
    pipeline; `stream: true` answers with the Responses API's server-sent events. Nothing is stored:
    `previous_response_id` is refused, and a past response cannot be retrieved."""
    chat = chat_request(body)
    # Tenant-bound as a chat completion's id is, so that feedback can name it.
    response_id = services.completion_ids.new(principal.tenant_id, RESPONSE_PREFIX)
    use_completion_id(request, response_id)
    tenant_var.set(principal.tenant_id)
    # An alias the application sends (gpt-4o-mini) stands for the tenant's model, as in chat.
    body.model = chat.model = await services.model_aliases.resolve(principal.tenant_id, body.model)
    recorder = CompletionRecorder.for_chat(
        services.analytics_events, chat, principal, response_id, endpoint="responses"
    )
    try:
        return await _respond(body, chat, principal.tenant_id, response_id, services, recorder)
    except BaseException as error:
        recorder.failed(error)
        raise


async def _respond(
    body: ResponseRequest,
    chat: ChatCompletionRequest,
    tenant_id: str,
    response_id: str,
    services: Services,
    recorder: CompletionRecorder,
) -> Response:
    generation = await generate(
        chat, tenant_id, response_id, services.inference, services.prompts, services.retriever, recorder
    )
    served = generation.served
    shell = ResponseShell(response_id, body, served.body if served else None)
    headers = served.headers if served else {}
    if not body.stream:
        content = await collect_response(generation.first, generation.rest, shell)
        recorder.succeeded()
        return Response(content, media_type="application/json", headers=headers)
    # The stream records its analytics event when it ends (or the client goes away).
    events = stream_response(generation.first, generation.rest, shell)
    return event_stream_response(recorder.observe_stream(events), headers)
