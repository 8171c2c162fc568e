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
