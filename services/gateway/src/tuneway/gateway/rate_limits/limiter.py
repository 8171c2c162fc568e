"""Admission against per-minute quotas, and token charges once a request's usage is known.

Counts live in sliding-window counters (the `limits` library): in Redis when one is configured, so
every gateway replica enforces the same limits, else in this process. Requests are counted at
admission. Tokens are counted when the engine has reported them (a stream's usage is known only at
its end), so a request is admitted while its holder has tokens left in the window, and what it used
is charged afterwards, as OpenAI does for the output tokens it cannot know in advance.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.errors import StorageError

from tuneway.gateway.errors import RateLimitExceededError
from tuneway.gateway.rate_limits.headers import Window
from tuneway.gateway.rate_limits.quotas import Quota

log = logging.getLogger(__name__)

# A charge is recorded whatever the window holds: the tokens were spent already.
_UNBOUNDED = 2**62
# Key ids whose quotas are remembered for charging; past this many the oldest are forgotten.
_MAX_REMEMBERED_KEYS = 10_000


@dataclass(frozen=True)
class Admission:
    """The binding request and token windows after admission (None: not limited), for the headers,
    and the 429 to answer when a quota is used up (None: admitted)."""

    requests: Window | None
    tokens: Window | None
    refusal: RateLimitExceededError | None = None


NOT_LIMITED = Admission(None, None)


@dataclass(frozen=True)
class _Check:
    """One quota's windows after admission, and whether the request fitted its request window."""

    requests: Window | None
    request_fitted: bool
    tokens: Window | None


def _items(quota: Quota) -> tuple[RateLimitItem | None, RateLimitItem | None]:
    requests = quota.requests_per_minute
    tokens = quota.tokens_per_minute
    return (
        RateLimitItemPerMinute(requests, namespace="requests") if requests is not None else None,
        RateLimitItemPerMinute(tokens, namespace="tokens") if tokens is not None else None,
    )


def _tightest(windows: list[Window]) -> Window | None:
    return min(windows, key=lambda w: (w.remaining, -w.reset_seconds), default=None)


class RateLimiter:
    """Admits requests against their key's and tenant's quotas and charges the tokens they used."""

    def __init__(self, storage: Storage) -> None:
        self._storage = storage
        self._windows = SlidingWindowCounterRateLimiter(storage)
        # key id -> the quotas its last admission checked: what its tokens are charged to.
        self._quotas: dict[str, tuple[Quota, ...]] = {}
        self._charges: set[asyncio.Task[None]] = set()

    @classmethod
    def from_url(cls, redis_url: str | None, timeout_seconds: float = 0.5) -> RateLimiter:
        """Counters in Redis at `redis_url` (shared by replicas), or in this process when None."""
        if not redis_url:
            return cls(MemoryStorage())
        storage = RedisStorage(
            "async+" + redis_url,
            implementation="redispy",
            wrap_exceptions=True,
            # A slow or absent Redis must not hold requests up: the limiter then lets them through.
            socket_timeout=timeout_seconds,
            socket_connect_timeout=timeout_seconds,
        )
        return cls(storage)

    async def admit(self, key_id: str, quotas: tuple[Quota, ...]) -> Admission:
        """Counts one request against every quota; the admission's `refusal` is set when one is used up.

        When the counters cannot be reached the request is let through (logged): losing the limits
        for a while is better than refusing every customer's traffic.
        """
        if not quotas:
            return NOT_LIMITED
        self._remember(key_id, quotas)
        try:
            checked = await asyncio.gather(*(self._admit_one(quota) for quota in quotas))
        except StorageError as error:
            log.warning("rate limits not enforced: their store is unreachable (%s)", error.storage_error)
            return NOT_LIMITED
        refusal = None
        for quota, check in zip(quotas, checked, strict=True):
            if check.tokens is not None and check.tokens.remaining <= 0:
                refusal = _exceeded(quota, "tokens", check.tokens)
            elif check.requests is not None and not check.request_fitted:
                refusal = _exceeded(quota, "requests", check.requests)
            if refusal is not None:
                break
        return Admission(
            _tightest([c.requests for c in checked if c.requests is not None]),
            _tightest([c.tokens for c in checked if c.tokens is not None]),
            refusal,
        )

    def charge(self, key_id: str, tokens: int) -> None:
        """Charges `tokens` to the quotas of the key's last admission, in the background."""
        quotas = self._quotas.get(key_id)
        if tokens <= 0 or not quotas:
            return
        task = asyncio.get_running_loop().create_task(self._charge(quotas, tokens))
        self._charges.add(task)
        task.add_done_callback(self._charges.discard)

    async def close(self) -> None:
        """Waits for the charges in flight."""
        if self._charges:
            await asyncio.gather(*self._charges, return_exceptions=True)

    async def _admit_one(self, quota: Quota) -> _Check:
        """Checks `quota`'s tokens, then counts the request against its requests."""
        request_item, token_item = _items(quota)
        tokens = None
        if token_item is not None:
            tokens = await self._window(token_item, quota)
            if tokens.remaining <= 0:
                # Refused for tokens: the request is not counted.
                return _Check(None, True, tokens)
        if request_item is None:
            return _Check(None, True, tokens)
        fitted = await self._windows.hit(request_item, quota.scope, quota.holder)
        return _Check(await self._window(request_item, quota), fitted, tokens)

    async def _window(self, item: RateLimitItem, quota: Quota) -> Window:
        stats = await self._windows.get_window_stats(item, quota.scope, quota.holder)
        return Window(item.amount, stats.remaining, max(0.0, stats.reset_time - time.time()))

    async def _charge(self, quotas: tuple[Quota, ...], tokens: int) -> None:
        try:
            for quota in quotas:
                _, item = _items(quota)
                if item is not None:
                    await self._storage.acquire_sliding_window_entry(  # type: ignore[attr-defined]
                        item.key_for(quota.scope, quota.holder), _UNBOUNDED, item.get_expiry(), tokens
                    )
        except StorageError as error:
            log.warning("tokens not charged: the rate limits' store is unreachable (%s)", error.storage_error)

    def _remember(self, key_id: str, quotas: tuple[Quota, ...]) -> None:
        self._quotas.pop(key_id, None)
        if len(self._quotas) >= _MAX_REMEMBERED_KEYS:
            del self._quotas[next(iter(self._quotas))]
        self._quotas[key_id] = quotas


def _exceeded(quota: Quota, kind: str, window: Window) -> RateLimitExceededError:
    """The 429 of a used-up window, worded as OpenAI's."""
    wait = max(1, math.ceil(window.reset_seconds))
    if kind == "requests":
        detail = f"requests per min (RPM) on {quota.describe()}: Limit {window.limit}, Used {window.limit}, "
        detail += "Requested 1"
    else:
        # The window's count past its limit is not reported by the library, only that nothing remains.
        detail = f"tokens per min (TPM) on {quota.describe()}: Limit {window.limit}, all used"
    return RateLimitExceededError(
        f"Rate limit reached for {detail}. Please try again in {wait}s.", kind=kind, retry_after=wait
    )
