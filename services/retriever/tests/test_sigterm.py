"""A real retriever process, started as `make run` starts it, stops on SIGTERM under embedding load."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import httpx
import pytest

from tuneway.api.retriever.v1 import retriever_pb2 as pb
from tuneway.api.retriever.v1 import retriever_pb2_grpc
from tuneway.core.testing.processes import free_port, port_open, wait_for_port
from tuneway.devstack.launcher import Stack, StackConfig
from tuneway.retriever.settings import RetrieverSettings

DRAIN_SECONDS = RetrieverSettings.model_fields["drain_seconds"].default
# Each call embeds minutes of work on this machine: far more than the drain window.
TEXT = "The reimbursement policy covers hotels, meals and travel within the stated limits. " * 12
INPUTS = 512
CLIENTS = 6

pytestmark = [pytest.mark.integration, pytest.mark.faults]


@pytest.fixture
def retriever(tmp_path: Path) -> Iterator[tuple[Stack, int, int]]:
    """The launcher's Stack with just the retriever (SQLite and local Qdrant under tmp_path)."""
    grpc_port, metrics_port = free_port(), free_port()
    config = StackConfig(tmp_path / "stack", retriever_port=grpc_port, retriever_metrics_port=metrics_port)
    stack = Stack(config)
    try:
        yield stack, grpc_port, metrics_port
    finally:
        stack.stop()


def _embed_load(port: int, stop: threading.Event, sent: list[int]) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = retriever_pb2_grpc.RetrieverServiceStub(channel)
        while not stop.is_set():
            sent.append(1)
            try:
                stub.Embed(pb.EmbedRequest(tenant_id="t", inputs=[f"{TEXT}{i}" for i in range(INPUTS)]))
            except grpc.RpcError:
                time.sleep(0.2)


def _serving(stack: Stack, grpc_port: int, metrics_port: int) -> None:
    wait_for_port("127.0.0.1", grpc_port, 180)
    with grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
        stub = retriever_pb2_grpc.RetrieverServiceStub(channel)
        models = stub.ListEmbeddingModels(pb.ListEmbeddingModelsRequest(tenant_id="t"), timeout=30)
        assert models.models[0].dimensions == 384
    assert httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).status_code == 200
    stack.check_alive()


def test_sigterm_under_embedding_load_drains_exits_and_frees_the_ports(
    retriever: tuple[Stack, int, int],
) -> None:
    stack, grpc_port, metrics_port = retriever
    stack.start_service("retriever", "tuneway.retriever")
    _serving(stack, grpc_port, metrics_port)
    process = stack.processes["retriever"]

    stop, sent = threading.Event(), []
    load = (grpc_port, stop, sent)
    clients = [threading.Thread(target=_embed_load, args=load, daemon=True) for _ in range(CLIENTS)]
    for client in clients:
        client.start()
    try:
        while len(sent) < CLIENTS:
            time.sleep(0.1)
        time.sleep(2)  # every call in flight, inside the embedder
        # As the launcher stops a service: SIGTERM to its process group.
        signalled = time.monotonic()
        stack.stop_service("retriever", signal.SIGTERM, timeout=120)
        took = time.monotonic() - signalled
    finally:
        stop.set()
    # A hang-detecting bound, not a timing: before, the process went on embedding every input of
    # every call after its drain (~20-40 s here), and a replacement found its ports taken.
    assert took < DRAIN_SECONDS + 10, f"the retriever took {took:.1f} s to exit after SIGTERM"
    assert process.returncode == 0
    assert not port_open("127.0.0.1", grpc_port) and not port_open("127.0.0.1", metrics_port)

    stack.start_service("retriever", "tuneway.retriever")
    _serving(stack, grpc_port, metrics_port)
    with pytest.raises(subprocess.TimeoutExpired):  # it stays up: no "address already in use"
        stack.processes["retriever"].wait(2)
