"""Administration of tenants and their API keys (the /admin routes): create, list, retrieve, revoke."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tuneway.core.errors import AlreadyExistsError, InvalidArgumentError, NotFoundError
from tuneway.gateway.tenancy import repository as repo
from tuneway.gateway.tenancy.authentication import Authenticator
from tuneway.gateway.tenancy.keys import generate_key, new_api_key
from tuneway.gateway.tenancy.tables import DEFAULT_TENANT, ROLES, ApiKey, Tenant

# Tenant names and ids end up inside model names (ft:<base>:<tenant>:<suffix>:<id>), so no ':' or case.
_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_MAX_KEY_NAME = 256


def _check_slug(value: str, param: str) -> None:
    if not _SLUG.fullmatch(value):
        raise InvalidArgumentError(
            f"Invalid value for '{param}': use 1-64 characters from a-z, 0-9, '-' and '_', "
            "starting with a letter or digit.",
            param=param,
            code="invalid_value",
        )


class TenancyAdmin:
    """Tenants and API keys in the gateway's database; revoking a key also evicts it from `authenticator`."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], authenticator: Authenticator) -> None:
        self._sessions = sessions
        self._authenticator = authenticator

    async def create_tenant(self, name: str, tenant_id: str | None = None) -> Tenant:
        """Creates a tenant (its id is its name unless given); AlreadyExistsError for a taken name or id."""
        _check_slug(name, "name")
        if tenant_id is not None:
            _check_slug(tenant_id, "id")
        # The id appears in model names (ft:<base>:<tenant>:...), so the readable name is the default.
        tenant_id = tenant_id or name
        tenant = Tenant(id=tenant_id, name=name, created_at=int(time.time()))
        async with self._sessions() as session:
            if await repo.get_tenant_by_name(session, name) is not None:
                raise _tenant_exists(f"A tenant named '{name}' already exists.", "name")
            if await repo.get_tenant(session, tenant_id) is not None:
                raise _tenant_exists(f"A tenant with id '{tenant_id}' already exists.", "id")
            session.add(tenant)
            try:
                await session.commit()
            except IntegrityError as error:
                await session.rollback()
                raise _tenant_exists(
                    f"A tenant named '{name}' or with that id already exists.", "name"
                ) from error
        return tenant

    async def list_tenants(self) -> Sequence[Tenant]:
        """Every tenant, oldest first."""
        async with self._sessions() as session:
            return await repo.list_tenants(session)

    async def get_tenant(self, tenant_id: str) -> Tenant:
        """One tenant, or NotFoundError."""
        async with self._sessions() as session:
            tenant = await repo.get_tenant(session, tenant_id)
        if tenant is None:
            raise _tenant_not_found(tenant_id)
        return tenant

    async def create_key(
        self, tenant_id: str, role: str = "member", name: str = "", expires_at: int | None = None
    ) -> tuple[ApiKey, str]:
        """Creates a key: its row and the raw key, which is not stored and never shown again; it stops
        working at `expires_at` (unix seconds, in the future) when given."""
        if role not in ROLES:
            raise InvalidArgumentError(
                f"Invalid value for 'role': {role!r}; expected one of {', '.join(ROLES)}.",
                param="role",
                code="invalid_value",
            )
        if len(name) > _MAX_KEY_NAME:
            raise InvalidArgumentError(
                f"Invalid value for 'name': at most {_MAX_KEY_NAME} characters.",
                param="name",
                code="invalid_value",
            )
        if role == "admin" and tenant_id != DEFAULT_TENANT:
            # Admin keys manage every tenant, so only the operators' own tenant may hold them.
            raise InvalidArgumentError(
                f"Invalid value for 'role': admin keys belong to the operator tenant '{DEFAULT_TENANT}'.",
                param="role",
                code="invalid_value",
            )
        if expires_at is not None and expires_at <= time.time():
            raise InvalidArgumentError(
                f"Invalid value for 'expires_at': {expires_at} is not in the future.",
                param="expires_at",
                code="invalid_value",
            )
        raw_key = generate_key()
        key = new_api_key(tenant_id, role, name, raw_key, expires_at)
        async with self._sessions() as session:
            if await repo.get_tenant(session, tenant_id) is None:
                raise _tenant_not_found(tenant_id)
            session.add(key)
            await session.commit()
        return key, raw_key

    async def get_key(self, key_id: str) -> ApiKey:
        """One key (redacted in every answer that shows it), or NotFoundError."""
        async with self._sessions() as session:
            key = await repo.get_key(session, key_id)
        if key is None:
            raise _key_not_found(key_id)
        return key

    async def list_keys(self, tenant_id: str | None = None) -> Sequence[ApiKey]:
        """Keys of one tenant, or of all; revoked ones included, raw keys and hashes never."""
        async with self._sessions() as session:
            if tenant_id is not None and await repo.get_tenant(session, tenant_id) is None:
                raise _tenant_not_found(tenant_id)
            return await repo.list_keys(session, tenant_id)

    async def set_tenant_limits(
        self, tenant_id: str, requests_per_minute: int | None, tokens_per_minute: int | None
    ) -> Tenant:
        """Sets (or, with None, removes) the tenant's quotas; NotFoundError if unknown. This gateway
        applies them from the next request, other replicas within their key cache TTL."""
        async with self._sessions() as session:
            tenant = await repo.get_tenant(session, tenant_id)
            if tenant is None:
                raise _tenant_not_found(tenant_id)
            tenant.requests_per_minute = requests_per_minute
            tenant.tokens_per_minute = tokens_per_minute
            await session.commit()
        self._authenticator.forget_all()
        return tenant

    async def set_key_limits(
        self, key_id: str, requests_per_minute: int | None, tokens_per_minute: int | None
    ) -> ApiKey:
        """Sets (or, with None, removes) the key's own quotas; NotFoundError if unknown."""
        async with self._sessions() as session:
            key = await repo.get_key(session, key_id)
            if key is None:
                raise _key_not_found(key_id)
            key.requests_per_minute = requests_per_minute
            key.tokens_per_minute = tokens_per_minute
            await session.commit()
        self._authenticator.forget(key.key_hash)
        return key

    async def revoke_key(self, key_id: str) -> ApiKey:
        """Revokes a key (idempotent) and evicts it from this gateway's cache; NotFoundError if unknown."""
        async with self._sessions() as session:
            key = await repo.get_key(session, key_id)
            if key is None:
                raise _key_not_found(key_id)
            await repo.revoke_key(session, key, int(time.time()))
            await session.commit()
        self._authenticator.forget(key.key_hash)
        return key


def _tenant_exists(message: str, param: str) -> AlreadyExistsError:
    return AlreadyExistsError(message, param=param, code="tenant_exists")


def _tenant_not_found(tenant_id: str) -> NotFoundError:
    return NotFoundError(f"No tenant with id '{tenant_id}'.", param="tenant_id", code="tenant_not_found")


def _key_not_found(key_id: str) -> NotFoundError:
    return NotFoundError(f"No API key with id '{key_id}'.", param="key_id", code="key_not_found")
