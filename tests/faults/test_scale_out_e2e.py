"""Scale-out on one machine: two inference replicas, two gateways and two trainer workers, started by the
launcher as `make run` starts replicas. Load spreads over the replicas; SIGKILL of one fails only its
own generations in flight; a registered adapter is served by both replicas within a second; a prompt
label moved through one gateway is what the other serves."""

from __future__ import annotations

import asyncio
import re
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tuneway.api.events.v1.events_pb2 import AdapterRegistration
from tuneway.api.inference.v1 import inference_pb2 as pb
from tuneway.api.inference.v1 import inference_pb2_grpc
from tuneway.core import nats as tnats
from tuneway.core.artifacts import directory_sha256
from tuneway.core.testing.lora import write_random_lora
from tuneway.devstack.launcher import Stack, StackConfig

pytestmark = [pytest.mark.e2e, pytest.mark.faults]
ADMIN_KEY = "sk-tw-scale-admin-0123456789abcdef0123456789abcdef"
BASE = "tuneway-tiny"
HELLO = [{"role": "user", "content": "Where is my parcel?"}]


@dataclass
class Scaled:
    stack: Stack
    tenant_id: str
    key: str

    def http(self, gateway: int) -> httpx.AsyncClient:
        """A client of gateway `gateway` (0 or 1) with the tenant's key."""
        return httpx.AsyncClient(
            base_url=self.stack.gateway_urls[gateway],
            headers={"Authorization": f"Bearer {self.key}"},
            timeout=60,
        )

    def grpc_targets(self) -> list[str]:
        """Each inference replica's gRPC address, in the launcher's order."""
        return self.stack.inference_targets().split(",")

    def finished(self) -> list[int]:
        """Generations each inference replica has finished, from its own /metrics."""
        counts = []
        for url in self.stack.metrics_urls()["inference"]:
            text = httpx.get(url, timeout=10).text
            found = re.findall(
                r'^tuneway_inference_requests_total\{[^}]*outcome="finished"[^}]*\} (\S+)$', text, re.M
            )
            counts.append(int(sum(float(value) for value in found)))
        return counts


def _chat(**extra: Any) -> dict[str, Any]:
    return {"model": BASE, "messages": HELLO, "temperature": 0, "max_tokens": 2, **extra}


async def _serving(target: str) -> bool:
    async with grpc.aio.insecure_channel(target) as channel:
        try:
            response = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=2
            )
        except grpc.aio.AioRpcError:
            return False
    return response.status == health_pb2.HealthCheckResponse.SERVING


async def _workers_waiting(nats_url: str) -> int:
    """Pull requests waiting on the trainer's durable consumer: one per idle worker."""
    connection = await tnats.connect(nats_url, "test")
    try:
        info = await connection.jetstream().consumer_info(tnats.TRAINING_STREAM.name or "", "trainer")
        return int(info.num_waiting or 0)
    finally:
        await connection.close()


@pytest.fixture(scope="module")
def scaled(nats_url: str, demo_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scaled]:
    """The replicas and what they need (prompt-svc, the trainer api), each replicated service started by
    the launcher's start_replicas; a tenant and its key."""
    config = StackConfig.on_free_ports(
        tmp_path_factory.mktemp("scaled"),
        nats_url=nats_url,
        model=str(demo_model),
        bootstrap_key=ADMIN_KEY,
        prometheus_port=0,
        replicas={"inference": 2, "gateway": 2, "trainer-worker": 2},
        env={
            "GATEWAY_ANALYTICS_ENABLED": "false",
            # vLLM 0.32's engine processes can miss the wake-up for work that arrives as they go idle
            # (a second after their last step) and sit until their poll times out, measured here at up
            # to 27 s; a replica that stalls so keeps its few requests while the other takes the rest.
            # A 1 s bound keeps such a stall from deciding the spread.
            "VLLM_RINGBUFFER_WARNING_INTERVAL": "1",
        },
    )
    stack = Stack(config)
    stack.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        stack.start_replicas("inference")
        stack.start_service("prompt-svc", "tuneway.prompt_svc")
        stack.start_service("trainer", "tuneway.trainer", "api")
        stack.start_replicas("trainer-worker")
        stack.start_replicas("gateway")
        deadline = time.monotonic() + 300
        targets = stack.inference_targets().split(",")
        while not all(asyncio.run(_serving(target)) for target in targets):
            stack.check_alive()
            assert time.monotonic() < deadline, "the inference replicas did not serve within 300 s"
            time.sleep(0.5)
        for url in stack.gateway_urls:
            admin = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=30)
            while True:
                stack.check_alive()
                try:
                    if admin.post("/v1/chat/completions", json=_chat(max_tokens=1)).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, f"{url} did not serve a chat within 300 s"
                time.sleep(0.5)
        tenant = admin.post("/admin/tenants", json={"name": "scaled"}).json()["id"]
        member = {"tenant_id": tenant, "role": "member", "name": "scaled"}
        key = admin.post("/admin/keys", json=member).json()["key"]
        admin.close()
        yield Scaled(stack, tenant, key)
    finally:
        stack.stop()


def test_two_trainer_workers_share_the_training_queue(scaled: Scaled, nats_url: str) -> None:
    deadline = time.monotonic() + 60
    while asyncio.run(_workers_waiting(nats_url)) < 2:
        scaled.stack.check_alive()
        assert time.monotonic() < deadline, "two workers did not pull from the TRAINING queue"
        time.sleep(0.2)


async def _load(scaled: Scaled, requests: int, concurrency: int) -> list[int]:
    """`requests` chats spread over both gateways, `concurrency` at a time; their statuses."""
    clients = [scaled.http(0), scaled.http(1)]
    queue = iter(range(requests))
    statuses: list[int] = []
    body = _chat(max_tokens=48, ignore_eos=True)

    async def worker(client: httpx.AsyncClient) -> None:
        for _ in queue:
            statuses.append((await client.post("/v1/chat/completions", json=body)).status_code)

    try:
        await asyncio.gather(*(worker(clients[n % 2]) for n in range(concurrency)))
    finally:
        for client in clients:
            await client.aclose()
    return statuses


def test_load_spreads_over_the_inference_replicas(scaled: Scaled) -> None:
    # Alike replicas take alike shares: each replica's processes run on their own share of the cores (the
    # launcher's TUNEWAY_CPU_CORES); sharing every core, the engine whose core the others' processes
    # landed on served slower and rightly got ~30%.
    # Both engines busy first: an engine's first steps after it idled are not what is measured here.
    assert asyncio.run(_load(scaled, 64, 16)) == [200] * 64
    before = scaled.finished()
    started = time.monotonic()
    statuses = asyncio.run(_load(scaled, 400, 16))
    print(f"400 chats over two gateways and two replicas in {time.monotonic() - started:.1f} s")
    assert statuses == [200] * 400
    served = [after - earlier for after, earlier in zip(scaled.finished(), before, strict=True)]
    print(f"served per replica: {served}")
    assert sum(served) == 400
    assert all(0.35 * 400 <= count <= 0.65 * 400 for count in served), served


@dataclass
class Outcome:
    started: float
    ended: float
    status: int
    code: str | None


async def _adapter_served(target: str, tenant_id: str, model: str, deadline: float) -> float:
    """Seconds until `target` lists `model` for the tenant and generates with it."""
    started = time.monotonic()
    async with grpc.aio.insecure_channel(target) as channel:
        stub = inference_pb2_grpc.InferenceServiceStub(channel)
        while model not in [
            m.id for m in (await stub.ListModels(pb.ListModelsRequest(tenant_id=tenant_id))).models
        ]:
            assert time.monotonic() < deadline, f"{target} did not list {model}"
            await asyncio.sleep(0.02)
        request = pb.GenerateRequest(
            tenant_id=tenant_id,
            model=model,
            messages=[pb.ChatMessage(role="user", content="How do I return a jacket?")],
            params=pb.SamplingParams(temperature=0, max_tokens=4, ignore_eos=True),
        )
        responses = [response async for response in stub.Generate(request)]
        assert responses[-1].finish_reason == "length"
    return time.monotonic() - started


def test_a_registered_adapter_is_served_by_both_replicas_within_a_second(
    scaled: Scaled, nats_url: str, demo_model: Path, tmp_path: Path
) -> None:
    adapter = write_random_lora(demo_model, tmp_path / "adapter", seed=7)
    model = f"ft:{BASE}:{scaled.tenant_id}:scaled:sc0001"
    registration = AdapterRegistration(
        model=model,
        tenant_id=scaled.tenant_id,
        base_model=BASE,
        artifact_uri=f"file://{adapter}",
        sha256=directory_sha256(adapter),
        created_at=int(time.time()),
        job_id="ftjob-sc0001",
    )

    async def register_and_serve() -> float:
        connection = await tnats.connect(nats_url, "test")
        try:
            kv = await tnats.ensure_kv(connection.jetstream(), tnats.ADAPTERS_BUCKET)
            registered = time.monotonic()
            await kv.put("ftjob-sc0001", registration.SerializeToString())
        finally:
            await connection.close()
        deadline = registered + 10
        await asyncio.gather(
            *(_adapter_served(target, scaled.tenant_id, model, deadline) for target in scaled.grpc_targets())
        )
        return time.monotonic() - registered

    assert asyncio.run(register_and_serve()) < 1.0, "the adapter was not served by both replicas within 1 s"

    async def through_the_gateways() -> list[int]:
        statuses = []
        for gateway in (0, 1):
            async with scaled.http(gateway) as http:
                statuses.append(
                    (await http.post("/v1/chat/completions", json=_chat(model=model))).status_code
                )
        return statuses

    assert asyncio.run(through_the_gateways()) == [200, 200]


def test_a_label_moved_through_one_gateway_is_served_by_both(scaled: Scaled) -> None:
    version = {
        "messages": [{"role": "system", "content": "You help customers."}],
        "parameters": {"max_tokens": 2},
    }

    async def served_versions(http: list[httpx.AsyncClient]) -> list[int]:
        body = {"model": "assistant:label-bot", "messages": HELLO}
        responses = [await client.post("/v1/chat/completions", json=body) for client in http]
        assert all(response.status_code == 200 for response in responses), [r.text for r in responses]
        return [int(response.json()["tuneway"]["prompt_version"]) for response in responses]

    async def scenario() -> None:
        http = [scaled.http(0), scaled.http(1)]
        try:
            assert (await http[0].post("/v1/prompts", json={"name": "label", **version})).status_code == 201
            assert (await http[0].post("/v1/prompts/label/versions", json=version)).status_code == 201
            bot = {"name": "label-bot", "base_model": BASE, "prompt": "label"}
            assert (await http[1].post("/v1/assistants", json=bot)).status_code == 201
            assert await served_versions(http) == [1, 1]
            moved = await http[0].put("/v1/prompts/label/labels/production", json={"version": 2})
            assert moved.status_code == 200, moved.text
            assert await served_versions(http) == [2, 2]
            moved = await http[1].put("/v1/prompts/label/labels/production", json={"version": 1})
            assert moved.status_code == 200, moved.text
            assert await served_versions(http) == [1, 1]
        finally:
            for client in http:
                await client.aclose()

    asyncio.run(scenario())


async def _inference_in_flight(url: str) -> int:
    async with httpx.AsyncClient() as client:
        text = (await client.get(url, timeout=10)).text
    match = re.search(r"^tuneway_inference_requests_in_flight (\S+)$", text, re.M)
    return int(float(match.group(1))) if match else 0


def test_sigkill_of_a_replica_fails_only_its_own_generations(scaled: Scaled) -> None:
    """Runs last in this module: it leaves one inference replica."""
    stack = scaled.stack
    outcomes: list[Outcome] = []
    # Workers start no new request while it is closed: the replica's in-flight count read then is exact.
    admitting = asyncio.Event()
    stopping = asyncio.Event()

    async def worker(client: httpx.AsyncClient) -> None:
        while not stopping.is_set():
            await admitting.wait()
            started = time.monotonic()
            # Long enough (seconds) that both replicas still run some when the victim dies.
            response = await client.post("/v1/chat/completions", json=_chat(max_tokens=600, ignore_eos=True))
            code = response.json()["error"]["code"] if response.status_code != 200 else None
            outcomes.append(Outcome(started, time.monotonic(), response.status_code, code))

    async def scenario() -> tuple[float, int]:
        clients = [scaled.http(0), scaled.http(1)]
        admitting.set()
        workers = [asyncio.create_task(worker(clients[n % 2])) for n in range(8)]
        try:
            await asyncio.sleep(2.0)
            survivor_metrics, victim_metrics = stack.metrics_urls()["inference"]
            while True:  # until both replicas run generations of ours
                admitting.clear()
                await asyncio.sleep(0.3)  # what was admitted reaches its replica
                in_flight = await _inference_in_flight(victim_metrics)
                if in_flight and await _inference_in_flight(survivor_metrics):
                    break
                admitting.set()
                await asyncio.sleep(0.2)
            killed = time.monotonic()
            await asyncio.to_thread(stack.stop_service, "inference-2", signal.SIGKILL)
            admitting.set()
            await asyncio.sleep(6.0)
            stopping.set()
            await asyncio.gather(*workers)
            return killed, in_flight
        finally:
            for client in clients:
                await client.aclose()

    killed, victim_in_flight = asyncio.run(scenario())
    failed = [o for o in outcomes if o.status != 200]
    in_flight_at_kill = [o for o in outcomes if o.started < killed < o.ended]
    print(f"{len(outcomes)} chats, {len(in_flight_at_kill)} in flight at the kill, {len(failed)} failed")
    assert failed, "the killed replica had generations in flight, which must fail"
    assert all((o.status, o.code) == (503, "service_unavailable") for o in failed), failed
    # Only the victim's own generations failed: those it ran when it died ...
    assert len([o for o in failed if o.started < killed]) <= victim_in_flight
    assert [o for o in in_flight_at_kill if o.status == 200], "the other replica's generations failed too"
    # ... and none that started a second after it.
    assert not [o for o in failed if o.started > killed + 1.0]
    assert len([o for o in outcomes if o.started > killed + 1.0 and o.status == 200]) >= 8
