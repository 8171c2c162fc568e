"""`make run` restarts a service that exits, as Kubernetes restarts a pod, and gives up on one that
keeps crashing."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tuneway.core.testing.processes import free_port, port_open
from tuneway.devstack.launcher import CORES_VARIABLE, Stack, StackConfig, StackError


def _wait(predicate: Callable[[], bool], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_killed_service_is_restarted_under_a_new_pid(tmp_path: Path) -> None:
    stack = Stack(StackConfig(data_dir=tmp_path))
    port = free_port()
    # Any long-running module stands in for a service; a real HTTP server shows it serves again.
    stack.start_service("web", "http.server", "--bind", "127.0.0.1", str(port))
    try:
        _wait(lambda: port_open("127.0.0.1", port))
        pid_file = tmp_path / "run" / "web.pid"
        first = int(pid_file.read_text())
        os.killpg(first, signal.SIGKILL)
        _wait(lambda: stack.processes["web"].poll() is not None)
        stack.supervise()
        second = int(pid_file.read_text())
        assert second != first
        _wait(lambda: port_open("127.0.0.1", port))
    finally:
        stack.stop_service("web")
    assert not (tmp_path / "run" / "web.pid").exists()


def test_a_replica_runs_on_its_share_of_the_cores_and_is_restarted_on_it(tmp_path: Path) -> None:
    stack = Stack(StackConfig(data_dir=tmp_path))
    port = free_port()
    first_core = min(os.sched_getaffinity(0))
    stack.start_service(
        "web", "http.server", "--bind", "127.0.0.1", str(port), env={CORES_VARIABLE: str(first_core)}
    )
    try:
        _wait(lambda: port_open("127.0.0.1", port))
        assert os.sched_getaffinity(stack.processes["web"].pid) == {first_core}
        os.killpg(stack.processes["web"].pid, signal.SIGKILL)
        _wait(lambda: stack.processes["web"].poll() is not None)
        stack.supervise()
        _wait(lambda: port_open("127.0.0.1", port))
        assert os.sched_getaffinity(stack.processes["web"].pid) == {first_core}
    finally:
        stack.stop_service("web")


def test_a_service_that_keeps_exiting_stops_the_stack(tmp_path: Path) -> None:
    stack = Stack(StackConfig(data_dir=tmp_path))
    stack.start_service("broken", "tuneway.devstack.no_such_module")
    with pytest.raises(StackError, match="broken keeps exiting"):
        for _ in range(20):
            _wait(lambda: stack.processes["broken"].poll() is not None)
            stack.supervise(max_restarts=2)
