"""POST /v1/completions (JSON or server-sent events)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from tuneway.core.logging import tenant_var
from tuneway.gateway.analytics.completion_ids import TEXT_COMPLETION_PREFIX
from tuneway.gateway.analytics.recorder import CompletionRecorder
from tuneway.gateway.completions.pipeline import complete_text
from tuneway.gateway.completions.responses import TextCompletion
from tuneway.gateway.completions.schemas import CompletionRequest
from tuneway.gateway.deps import AllServices, CurrentPrincipal
from tuneway.gateway.openapi import UPSTREAM, documented
from tuneway.gateway.rate_limits.dependency import enforce_rate_limits
from tuneway.gateway.request_ids import use_completion_id

# Generations count against the key's and tenant's rate limits.
router = APIRouter(tags=["completions"], dependencies=[Depends(enforce_rate_limits)])


@router.post(
    "/v1/completions",
    responses=documented(TextCompletion, 404, *UPSTREAM, events=TextCompletion),
    summary="Create a text completion (OpenAI-compatible legacy completions)",
)
async def create_completion(
    request: Request, body: CompletionRequest, principal: CurrentPrincipal, services: AllServices
) -> Response:
    """Continues each prompt (a string, strings, or token ids) with a base model or an adapter, without a
    chat template; `stream: true` answers with server-sent events."""
    completion_id = services.completion_ids.new(principal.tenant_id, TEXT_COMPLETION_PREFIX)
    # The response's x-request-id and the logs' request id, unless the caller sent its own.
    use_completion_id(request, completion_id)
    tenant_var.set(principal.tenant_id)
    body.model = await services.model_aliases.resolve(principal.tenant_id, body.model)
    first_prompt = body.prompts()[0]
    recorder = CompletionRecorder.for_text_completion(
        services.analytics_events,
        body.model,
        first_prompt if isinstance(first_prompt, str) else "",
        body.user,
        body.stream,
        principal,
        completion_id,
    )
    return await complete_text(body, principal.tenant_id, completion_id, services.inference, recorder)
