"""The inference replicas a gateway spreads its generations over: found from the target list (names
re-resolved every few seconds), each generation sent to the replica with the fewest in flight."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator

from tuneway.api.inference.v1 import inference_pb2 as pb
from tuneway.core.errors import DomainError
from tuneway.gateway.clients.base import unavailable
from tuneway.gateway.clients.inference_replica import InferenceReplica
from tuneway.gateway.clients.targets import Target, address, resolve

log = logging.getLogger(__name__)


class InferenceReplicas:
    """The replicas the targets stand for now. A replica that appears is probed and takes generations
    once it serves; one that disappears takes no new ones and closes once its own have ended.

    Built inside the event loop (its replicas watch their health from tasks)."""

    def __init__(self, targets: list[Target], connect_seconds: float, resolve_seconds: float) -> None:
        self._targets = targets
        self._connect_seconds = connect_seconds
        self._replicas: dict[str, InferenceReplica] = {}
        # Replicas gone from the targets whose generations may still run (closed at the latest with us).
        self._retired: list[InferenceReplica] = []
        # Breaks ties between replicas with as many in flight, so that they share sequential requests.
        self._turn = 0
        self._resolved = asyncio.Event()
        self._resolver: asyncio.Task[None] | None = None
        if all(target.is_address for target in targets):  # a fixed list: nothing to look up, ever
            for target in targets:
                self._add(address(target.host, target.port))
            self._resolved.set()
        else:
            self._resolver = asyncio.create_task(self._resolve_every(resolve_seconds))

    def pick(self) -> InferenceReplica:
        """The replica with the fewest generations in flight among those up (any known one while none
        is: it then answers as a lone replica would, e.g. 503 while it drains); 503 if none is known."""
        replicas = list(self._replicas.values())
        if len(replicas) < 2:  # one replica (make run, a fixed address): nothing to choose
            if not replicas:
                raise unavailable("inference")
            return replicas[0]
        candidates = [replica for replica in replicas if replica.up] or replicas
        self._turn += 1
        start = self._turn % len(candidates)
        return min(candidates[start:] + candidates[:start], key=lambda replica: replica.in_flight)

    async def generate(self, request: pb.GenerateRequest) -> AsyncGenerator[pb.GenerateResponse, None]:
        """The generation on the replica with the fewest in flight; closing this early aborts it."""
        await self.known()
        replica = self.pick()
        replica.in_flight += 1
        try:
            async with contextlib.aclosing(replica.generate(request)) as responses:
                async for response in responses:
                    yield response
        finally:
            await replica.ended()

    async def known(self) -> None:
        """Returns once the targets have been looked up at least once (at most the connect timeout)."""
        if not self._resolved.is_set():
            try:
                await asyncio.wait_for(self._resolved.wait(), self._connect_seconds)
            except TimeoutError:
                raise unavailable("inference") from None

    async def ready(self) -> bool:
        """Whether some replica is up or, when none is, reports SERVING."""
        try:
            await self.known()
        except DomainError:  # the names did not resolve in time
            return False
        replicas = list(self._replicas.values())
        if any(replica.up for replica in replicas):
            return True
        return any(await asyncio.gather(*(replica.serving() for replica in replicas)))

    def addresses(self) -> dict[str, bool]:
        """Each known replica's address and whether it is up."""
        return {name: replica.up for name, replica in self._replicas.items()}

    async def _resolve_every(self, seconds: float) -> None:
        while True:
            try:
                await self._update(await resolve(self._targets))
            except OSError as error:  # the resolver did not answer: keep the replicas known so far
                log.warning("could not resolve the inference targets", extra={"error": str(error)})
            self._resolved.set()
            await asyncio.sleep(seconds)

    def _add(self, name: str) -> None:
        self._replicas[name] = InferenceReplica(name, self._connect_seconds)
        log.info("inference replica added", extra={"replica": name})

    async def _update(self, addresses: set[str]) -> None:
        for name in addresses - self._replicas.keys():
            self._add(name)
        for name in self._replicas.keys() - addresses:
            log.info("inference replica removed", extra={"replica": name})
            replica = self._replicas.pop(name)
            await replica.retire()
            self._retired = [*(r for r in self._retired if r.in_flight), replica]

    async def close(self) -> None:
        """Stops looking the targets up and closes every replica."""
        if self._resolver is not None:
            self._resolver.cancel()
        await asyncio.gather(*(replica.close() for replica in [*self._replicas.values(), *self._retired]))
        self._replicas.clear()
        self._retired.clear()
