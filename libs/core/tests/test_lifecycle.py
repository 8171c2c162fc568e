"""run_until_stopped in a real process: SIGTERM stops a started server, and cancels one still starting."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

import pytest

# A server whose start either returns or waits forever (a dependency that never answers).
SCRIPT = textwrap.dedent(
    """
    import asyncio, sys
    from tuneway.core.lifecycle import run_until_stopped

    class Server:
        async def start(self):
            print("starting", flush=True)
            try:
                if sys.argv[1] == "hang":
                    await asyncio.Event().wait()
            except asyncio.CancelledError:
                print("start cancelled", flush=True)
                raise
            print("started", flush=True)

        async def stop(self):
            print("stopped", flush=True)

    asyncio.run(run_until_stopped(Server, metrics_port=0))
    print("exited", flush=True)
    """
)


def _run_until_sigterm(mode: str, wait_for: str) -> list[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, mode], stdout=subprocess.PIPE, text=True, bufsize=1
    )
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        lines.append(line.strip())
        if line.strip() == wait_for:
            break
    process.send_signal(signal.SIGTERM)
    out, _ = process.communicate(timeout=30)
    assert process.returncode == 0
    return lines + out.split()


@pytest.mark.parametrize(
    ("mode", "wait_for", "expected"),
    [
        ("ok", "started", ["starting", "started", "stopped", "exited"]),
        ("hang", "starting", ["starting", "start cancelled", "stopped", "exited"]),
    ],
)
def test_sigterm_stops_the_server(mode: str, wait_for: str, expected: list[str]) -> None:
    lines = _run_until_sigterm(mode, wait_for)
    # communicate() splits on whitespace: join the two-word line back.
    text = " ".join(lines)
    assert text == " ".join(expected)


# A server whose RPC left work on a worker thread that never ends (a native call that cannot be
# interrupted); its stop returns at once, as a drained gRPC server's does.
STUCK_SCRIPT = textwrap.dedent(
    """
    import asyncio, threading, time
    from tuneway.core.lifecycle import run_until_stopped

    class Server:
        async def start(self):
            self.call = asyncio.ensure_future(asyncio.to_thread(time.sleep, 3600))
            queued = [asyncio.ensure_future(asyncio.to_thread(time.sleep, 3600)) for _ in range(50)]
            await asyncio.sleep(0.2)
            print("started", flush=True)

        async def stop(self):
            print("stopped", flush=True)

    asyncio.run(run_until_stopped(Server, metrics_port=0))
    print("exited", flush=True)
    """
)


def test_sigterm_exits_despite_work_stuck_on_a_worker_thread() -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", STUCK_SCRIPT], stdout=subprocess.PIPE, text=True, bufsize=1
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "started"
    process.send_signal(signal.SIGTERM)
    try:
        # A hang, not a timing: before, asyncio.run waited for the thread's hour-long call.
        out, _ = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 0
    # It left without the normal end of asyncio.run (that would have joined the stuck thread).
    assert out.split() == ["stopped"]
