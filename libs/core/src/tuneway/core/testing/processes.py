"""Starting and stopping real helper processes (NATS, services) in tests and the dev launcher."""

from __future__ import annotations

import json
import random
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

_handed_out: set[int] = set()
# Not the `random` module's shared state: a test that seeds it would make every process pick alike.
_pick = random.SystemRandom()
# Below the kernel's ephemeral range (where outgoing connections take their source ports) so that a
# port chosen here cannot be taken by some client's connection before the service binds it: with
# several stacks starting at once, a port from bind(0) was taken that way in between.
_FALLBACK_EPHEMERAL_LOW = 32768
_LOWEST = 15000


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return _FALLBACK_EPHEMERAL_LOW


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        # As the servers bind: a connection of an earlier user still in TIME_WAIT does not block them.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("0.0.0.0", port))
        except OSError:
            return False
        return True


def free_port() -> int:
    """A TCP port that nothing listens on right now, outside the ephemeral range, and not handed out
    before by this process (a stack takes a dozen at once, before any is bound)."""
    high = _ephemeral_low()
    low = _LOWEST if high > _LOWEST + 1000 else 1024
    for _ in range(1000):
        port = _pick.randrange(low, high)
        if port not in _handed_out and _bindable(port):
            _handed_out.add(port)
            return port
    raise RuntimeError(f"no free TCP port between {low} and {high}")


def port_open(host: str, port: int, timeout: float = 0.2) -> bool:
    """Whether something accepts TCP connections at host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for_port(host: str, port: int, timeout: float) -> None:
    """Blocks until host:port accepts connections, or raises TimeoutError."""
    deadline = time.monotonic() + timeout
    while not port_open(host, port):
        if time.monotonic() > deadline:
            raise TimeoutError(f"nothing listens on {host}:{port} after {timeout:.0f} s")
        time.sleep(0.05)


def nats_server_binary() -> str:
    """The nats-server installed beside this interpreter (`make install` puts a release that knows
    `sync_interval` into the virtualenv), else the one on PATH."""
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return str(beside)
    binary = shutil.which("nats-server")
    if binary is None:
        raise FileNotFoundError("nats-server is not installed (make install installs it)")
    return binary


def _syncs_every_write(binary: str) -> bool:
    """Whether this nats-server takes `sync_interval` (2.10 and later)."""
    output = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False).stdout
    found = re.search(r"v(\d+)\.(\d+)", output)
    return found is not None and (int(found[1]), int(found[2])) >= (2, 10)


def start_nats_server(
    port: int, store_dir: Path, log_file: Path, monitor_port: int | None = None
) -> subprocess.Popen[bytes]:
    """Starts nats-server with JetStream on 127.0.0.1:port, storing under store_dir and syncing every
    write to disk before it is acknowledged (`sync_interval: always`, as in the manifests: with the
    default interval an acknowledged job or event can be lost to a power cut), monitored on
    monitor_port when given."""
    binary = nats_server_binary()
    store_dir.mkdir(parents=True, exist_ok=True)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    sync = "\n  sync_interval: always" if _syncs_every_write(binary) else ""
    config = f"listen: 127.0.0.1:{port}\njetstream {{\n  store_dir: {json.dumps(str(store_dir))}{sync}\n}}\n"
    if monitor_port is not None:
        config += f"http: 127.0.0.1:{monitor_port}\n"
    config_file = store_dir.parent / f"nats-{port}.conf"
    config_file.write_text(config)
    process = subprocess.Popen(
        [binary, "-c", str(config_file), "-l", str(log_file)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port("127.0.0.1", port, timeout=15)
    except TimeoutError:
        process.kill()
        raise
    return process


class NatsServer:
    """A private nats-server that a test may stop and start again on the same port and JetStream
    store (an outage the services must ride out, with the streams intact afterwards)."""

    def __init__(self, root: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.root = root
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """nats:// URL of the server."""
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Starts the server (again); returns once it accepts connections."""
        if self._process is None or self._process.poll() is not None:
            self._process = start_nats_server(self.port, self.root / "store", self.root / "nats.log")

    def stop(self) -> None:
        """Stops the server; its JetStream store stays for the next start."""
        if self._process is not None:
            stop_process(self._process)
            self._process = None


def stop_process(process: subprocess.Popen[bytes], timeout: float = 15) -> None:
    """SIGTERM, then SIGKILL if it has not exited within `timeout`."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
