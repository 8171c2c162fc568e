"""FastAPI dependency aliases: the wired services on app.state and the caller's principal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.openapi.models import HTTPBearer as HTTPBearerModel
from fastapi.security.base import SecurityBase
from sqlalchemy.ext.asyncio import AsyncEngine

from tuneway.core.errors import PermissionDeniedError
from tuneway.gateway.analytics.completion_ids import CompletionIds
from tuneway.gateway.analytics.events import AnalyticsEvents as AnalyticsEventSink
from tuneway.gateway.audit.service import AuditLog
from tuneway.gateway.batches.service import BatchService
from tuneway.gateway.clients.analytics import AnalyticsClient
from tuneway.gateway.clients.inference import InferenceClient
from tuneway.gateway.clients.prompt import PromptClient
from tuneway.gateway.clients.retriever import RetrieverClient
from tuneway.gateway.clients.trainer import TrainerClient
from tuneway.gateway.errors import AuthenticationError
from tuneway.gateway.files.service import FileService
from tuneway.gateway.models.aliases import ModelAliases
from tuneway.gateway.rate_limits.limiter import RateLimiter
from tuneway.gateway.settings import GatewaySettings
from tuneway.gateway.tenancy.admin import TenancyAdmin
from tuneway.gateway.tenancy.authentication import Authenticator
from tuneway.gateway.tenancy.keys import Principal


@dataclass
class Services:
    """What create_app wires; routes reach it through the aliases below."""

    settings: GatewaySettings
    db: AsyncEngine
    authenticator: Authenticator
    tenancy: TenancyAdmin
    inference: InferenceClient
    trainer: TrainerClient
    files: FileService
    prompts: PromptClient
    retriever: RetrieverClient
    analytics: AnalyticsClient
    analytics_events: AnalyticsEventSink
    completion_ids: CompletionIds
    rate_limiter: RateLimiter
    batches: BatchService
    model_aliases: ModelAliases
    audit: AuditLog


def _services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


async def get_services(request: Request) -> Services:
    return _services(request)


def _wired(attribute: str) -> Any:
    """`Depends` on one of the wired services. Providers are `async def` on purpose: FastAPI runs plain
    `def` dependencies in a worker thread, which costs a thread hop per request on the hot path."""

    async def provide(request: Request) -> Any:
        return getattr(_services(request), attribute)

    return Depends(provide)


AllServices = Annotated[Services, Depends(get_services)]
Settings = Annotated[GatewaySettings, _wired("settings")]
Tenancy = Annotated[TenancyAdmin, _wired("tenancy")]
Inference = Annotated[InferenceClient, _wired("inference")]
Trainer = Annotated[TrainerClient, _wired("trainer")]
Files = Annotated[FileService, _wired("files")]
Prompts = Annotated[PromptClient, _wired("prompts")]
Retriever = Annotated[RetrieverClient, _wired("retriever")]
Analytics = Annotated[AnalyticsClient, _wired("analytics")]
AnalyticsEvents = Annotated[AnalyticsEventSink, _wired("analytics_events")]
CompletionIdentities = Annotated[CompletionIds, _wired("completion_ids")]
Batches = Annotated[BatchService, _wired("batches")]
ModelAliasBook = Annotated[ModelAliases, _wired("model_aliases")]
AuditTrail = Annotated[AuditLog, _wired("audit")]


class BearerKey(SecurityBase):
    """The caller's principal, from the API key in `Authorization: Bearer <key>`. Being a security
    scheme, it shows in the OpenAPI document on every route that depends on it (as bearerAuth)."""

    def __init__(self) -> None:
        self.model = HTTPBearerModel(description="A tuneway API key (sk-tw-...), from /admin/keys.")
        self.scheme_name = "bearerAuth"

    async def __call__(self, request: Request) -> Principal:
        """The tenant and role behind the request's key."""
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationError(
                "You didn't provide an API key. You need to provide your API key in an Authorization "
                "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            )
        principal = await _services(request).authenticator.authenticate(token.strip())
        # For the request metrics' optional tenant label (MetricsMiddleware reads it from the scope).
        request.state.tenant_id = principal.tenant_id
        return principal


current_principal = BearerKey()


async def admin_principal(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
    """The principal, if its key has the admin role."""
    if principal.role != "admin":
        raise PermissionDeniedError("This endpoint requires an admin key.", code="insufficient_permissions")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
AdminPrincipal = Annotated[Principal, Depends(admin_principal)]
