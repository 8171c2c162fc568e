"""The admission of requests to limited routes (chat completions, embeddings): a route dependency."""

from __future__ import annotations

from fastapi import Request

from tuneway.gateway.deps import CurrentPrincipal
from tuneway.gateway.rate_limits.headers import STATE_KEY, header_values


async def enforce_rate_limits(request: Request, principal: CurrentPrincipal) -> None:
    """Counts the request against its key's and tenant's quotas: 429 rate_limit_exceeded past one.
    The response carries the x-ratelimit-* headers either way."""
    limiter = request.app.state.services.rate_limiter
    admission = await limiter.admit(principal.key_id, principal.quotas)
    setattr(request.state, STATE_KEY, header_values(admission.requests, admission.tokens))
    if admission.refusal is not None:
        raise admission.refusal
