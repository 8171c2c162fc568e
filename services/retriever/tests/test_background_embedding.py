"""Ingestion embeds on a niced thread of its own, so that requests keep the cores (issue 14 §2: chats
while 50 MB ingest), with the vectors requests get."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tuneway.api.retriever.v1 import retriever_pb2 as pb
from tuneway.retriever.embedder import Embedder, load_embedder

from .conftest import DEFAULT_BACKEND, Replicas

pytestmark = pytest.mark.integration
NICE = 10
TEXTS = [
    f"Employees must submit travel request number {n} within ten working days, via the service desk."
    for n in range(256)
]


def _stat(tid: int) -> list[str]:
    # Fields after the command name, which may hold spaces: state is field 3 of proc(5).
    return Path(f"/proc/self/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()


def _cpu_ticks(tid: int) -> int:
    fields = _stat(tid)
    return int(fields[11]) + int(fields[12])  # utime and stime, fields 14 and 15


def _process_cpu_ticks() -> int:
    total = 0
    for tid in os.listdir("/proc/self/task"):
        try:
            total += _cpu_ticks(int(tid))
        except FileNotFoundError:  # the thread ended meanwhile
            pass
    return total


@pytest.fixture(scope="module")
def niced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Embedder]:
    embedder = load_embedder(DEFAULT_BACKEND, 32, tmp_path_factory.mktemp("embedders"), background_nice=NICE)
    yield embedder
    embedder.close()


async def test_background_embedding_does_its_work_on_a_niced_thread_with_the_same_vectors(
    niced: Embedder,
) -> None:
    lane = niced.background_thread_id
    assert lane is not None and int(_stat(lane)[16]) == NICE  # nice, field 19
    lane_before, process_before = _cpu_ticks(lane), _process_cpu_ticks()
    background = await niced.embed_in_background(TEXTS)
    lane_ticks, process_ticks = _cpu_ticks(lane) - lane_before, _process_cpu_ticks() - process_before
    # Not on a pool of threads at normal priority: nearly all the CPU went to the lane.
    assert process_ticks > 0 and lane_ticks >= 0.8 * process_ticks, (lane_ticks, process_ticks)
    foreground = niced.embed(TEXTS)
    cosines = np.sum(background * foreground, axis=1)
    assert cosines.min() > 0.9999


async def test_ingestion_embeds_in_the_background(niced: Embedder, sqlite_url: str, tmp_path: Path) -> None:
    replicas = Replicas(sqlite_url, tmp_path / "data", niced)
    stub = await replicas.start()
    try:
        kb = (
            await stub.CreateKnowledgeBase(pb.CreateKnowledgeBaseRequest(tenant_id="t", name="kb"))
        ).knowledge_base
        document = ("# Travel\n\n" + "\n\n".join(TEXTS)).encode()
        lane = niced.background_thread_id
        assert lane is not None
        lane_before = _cpu_ticks(lane)
        request = pb.AddDocumentRequest(
            tenant_id="t", knowledge_base_id=kb.id, data=document, filename="travel.md", wait=True
        )
        [added] = (await stub.AddDocument(request)).documents
        assert added.status == "completed" and added.chunk_count > 10
        assert _cpu_ticks(lane) - lane_before > 0
        search = pb.SearchRequest(tenant_id="t", knowledge_base_ids=[kb.id], query="travel request number 17")
        assert (await stub.Search(search)).hits
    finally:
        await replicas.stop()
