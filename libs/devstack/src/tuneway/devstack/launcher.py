"""Starts the whole stack as `make run` does: NATS if none answers, then every service, then waits."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
from pydantic_settings import BaseSettings

from tuneway.analytics.settings import AnalyticsSettings
from tuneway.core.testing.processes import free_port, port_open, start_nats_server, stop_process
from tuneway.core.testing.prometheus import PrometheusServer, prometheus_binary
from tuneway.gateway.settings import GatewaySettings
from tuneway.inference.settings import InferenceSettings
from tuneway.prompt_svc.settings import PromptSettings
from tuneway.retriever.settings import RetrieverSettings
from tuneway.trainer.settings import TrainerSettings

# The services `make run` can start several processes of (TUNEWAY_REPLICAS_INFERENCE=2 and so on):
# each replica listens on ports of its own; the gateways share one database and the inference replicas'
# list (GATEWAY_INFERENCE_TARGET); the trainer workers share the TRAINING work queue.
REPLICATED = {
    "inference": ("tuneway.inference",),
    "trainer-worker": ("tuneway.trainer", "worker"),
    "gateway": ("tuneway.gateway",),
}


def _default(settings: type[BaseSettings], name: str) -> Any:
    """A setting's default, from the service's own settings class (the one place it is written)."""
    return settings.model_fields[name].default


@dataclass
class StackConfig:
    """Where the stack keeps its data and which ports its services take (the services' defaults)."""

    data_dir: Path = Path("var")
    nats_url: str = _default(GatewaySettings, "nats_url")
    gateway_host: str = "127.0.0.1"
    gateway_port: int = _default(GatewaySettings, "port")
    gateway_metrics_port: int = _default(GatewaySettings, "metrics_port")
    inference_port: int = _default(InferenceSettings, "grpc_port")
    inference_metrics_port: int = _default(InferenceSettings, "metrics_port")
    prompt_port: int = _default(PromptSettings, "grpc_port")
    prompt_metrics_port: int = _default(PromptSettings, "metrics_port")
    retriever_port: int = _default(RetrieverSettings, "grpc_port")
    retriever_metrics_port: int = _default(RetrieverSettings, "metrics_port")
    trainer_port: int = _default(TrainerSettings, "grpc_port")
    trainer_metrics_port: int = _default(TrainerSettings, "metrics_port")
    trainer_worker_metrics_port: int = _default(TrainerSettings, "worker_metrics_port")
    analytics_port: int = _default(AnalyticsSettings, "grpc_port")
    analytics_metrics_port: int = _default(AnalyticsSettings, "metrics_port")
    batch_worker_metrics_port: int = _default(GatewaySettings, "batch_worker_metrics_port")
    # Prometheus scraping every service (when the binary is installed); 0 starts none.
    prometheus_port: int = 9090
    model: str = ""
    bootstrap_key: str = ""
    # Extra environment for every service (tests pass engine and timeout settings here).
    env: dict[str, str] = field(default_factory=dict)
    # Processes of each service in REPLICATED (missing: one); the first takes the ports above.
    replicas: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> StackConfig:
        """The embedded defaults, overridden by the same variables the services read (read by the
        services' own settings classes, so the launcher and the services always agree)."""
        gateway, inference, prompt = GatewaySettings(), InferenceSettings(), PromptSettings()
        retriever, trainer, analytics = RetrieverSettings(), TrainerSettings(), AnalyticsSettings()
        return cls(
            data_dir=gateway.data_dir,
            nats_url=gateway.nats_url,
            gateway_port=gateway.port,
            gateway_metrics_port=gateway.metrics_port,
            inference_port=inference.grpc_port,
            inference_metrics_port=inference.metrics_port,
            prompt_port=prompt.grpc_port,
            prompt_metrics_port=prompt.metrics_port,
            retriever_port=retriever.grpc_port,
            retriever_metrics_port=retriever.metrics_port,
            trainer_port=trainer.grpc_port,
            trainer_metrics_port=trainer.metrics_port,
            trainer_worker_metrics_port=trainer.worker_metrics_port,
            analytics_port=analytics.grpc_port,
            analytics_metrics_port=analytics.metrics_port,
            batch_worker_metrics_port=gateway.batch_worker_metrics_port,
            prometheus_port=int(os.environ.get("TUNEWAY_PROMETHEUS_PORT", "9090")),
            model=inference.model,
            bootstrap_key=gateway.bootstrap_key,
            replicas={name: _replica_count(name) for name in REPLICATED},
        )

    @classmethod
    def on_free_ports(cls, data_dir: Path, **values: Any) -> StackConfig:
        """A private stack (benchmarks, tests): its own NATS and every port free, `values` on top."""
        chosen: dict[str, Any] = {
            f.name: free_port() for f in fields(cls) if f.name.endswith("_port") and f.name not in values
        }
        chosen["nats_url"] = values.pop("nats_url", f"nats://127.0.0.1:{free_port()}")
        return cls(data_dir=data_dir, **chosen, **values)

    def metrics_urls(self) -> dict[str, str]:
        """Each process's Prometheus endpoint, by the job name Prometheus gives its series."""
        local = "http://127.0.0.1"
        return {
            "gateway": f"{local}:{self.gateway_metrics_port}/metrics",
            "inference": f"{local}:{self.inference_metrics_port}/metrics",
            "prompt-svc": f"{local}:{self.prompt_metrics_port}/metrics",
            "retriever": f"{local}:{self.retriever_metrics_port}/metrics",
            "trainer": f"{local}:{self.trainer_metrics_port}/metrics",
            "trainer-worker": f"{local}:{self.trainer_worker_metrics_port}/metrics",
            "analytics": f"{local}:{self.analytics_metrics_port}/metrics",
            "batch-worker": f"{local}:{self.batch_worker_metrics_port}/metrics",
        }


def _replica_count(service: str) -> int:
    variable = "TUNEWAY_REPLICAS_" + service.upper().replace("-", "_")
    value = os.environ.get(variable, "1")
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{variable} must be a whole number of at least 1, not {value!r}")
    return int(value)


@dataclass(frozen=True)
class Replica:
    """One process of a replicated service: its name (the service's, then <service>-2, -3 ...) and the
    variables that give it its own ports."""

    name: str
    env: dict[str, str]


def _replicas(service: str, count: int, ports: Mapping[str, int]) -> list[Replica]:
    """The first replica takes the configured ports, the others free ones (0, which turns a metrics
    port off, stays 0)."""
    replicas = [Replica(service, {variable: str(port) for variable, port in ports.items()})]
    for number in range(2, count + 1):
        own = {variable: str(free_port() if port else 0) for variable, port in ports.items()}
        replicas.append(Replica(f"{service}-{number}", own))
    return replicas


# The cores the launcher pins a replica's process (and every thread and child it starts) to.
CORES_VARIABLE = "TUNEWAY_CPU_CORES"


def _core_shares(service: str, count: int, env: Mapping[str, str]) -> list[dict[str, str]]:
    """Each replica's share of this process's cores, where there are at least as many cores as
    replicas (and, for inference, nobody chose vLLM's binding): TUNEWAY_CPU_CORES, which start_service
    pins the process to, and for inference VLLM_CPU_OMP_THREADS_BIND for vLLM's CPU worker.

    Replicas on one machine otherwise share every core, and whichever the other processes happen to
    land on beside it serves slower: with two inference replicas and two gateways on 2 cores, one engine
    took 60 ms a request, the other 83 ms, and fewest-in-flight routing rightly gave the faster ~70% of
    the requests (each replica's processes, gateway included, on a core of their own: 199 and 201 of
    400), much as pods get CPU of their own on a cluster. vLLM's automatic binding, too, would put
    every replica's worker (and our pinned engine core) on the same cores, where one engine starved the
    other for seconds. On GPUs vLLM ignores the binding; the process keeps its share of the cores."""
    cores = sorted(os.sched_getaffinity(0))
    chosen = service == "inference" and "VLLM_CPU_OMP_THREADS_BIND" in env
    if count < 2 or len(cores) < count or chosen:
        return [{} for _ in range(count)]
    share = len(cores) // count
    shares = [",".join(map(str, cores[n * share : (n + 1) * share])) for n in range(count)]
    if service == "inference":
        return [{CORES_VARIABLE: cores_of, "VLLM_CPU_OMP_THREADS_BIND": cores_of} for cores_of in shares]
    return [{CORES_VARIABLE: cores_of} for cores_of in shares]


def _pinned(cores: str | None) -> Callable[[], None] | None:
    """What the child runs before exec to take the cores `cores` ("0,1"), if any: from its first
    instruction, so every thread and process it starts inherits them."""
    if not cores:
        return None
    chosen = {int(core) for core in cores.split(",")}
    return lambda: os.sched_setaffinity(0, chosen)


class StackError(RuntimeError):
    """A service could not start; the message holds the end of its log."""


class Stack:
    """The running processes of one stack; `start()` returns once the gateway is ready."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.data_dir = config.data_dir.resolve()
        self.log_dir = self.data_dir / "logs"
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.pid_dir = self.data_dir / "run"
        # What each service was started with, and when it was restarted (for `supervise`).
        self._commands: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {}
        self._restarts: dict[str, list[float]] = {}
        self._nats: subprocess.Popen[bytes] | None = None
        self.prometheus: PrometheusServer | None = None
        ports: dict[str, dict[str, int]] = {
            "inference": {
                "INFERENCE_GRPC_PORT": config.inference_port,
                "INFERENCE_METRICS_PORT": config.inference_metrics_port,
            },
            "trainer-worker": {"TRAINER_WORKER_METRICS_PORT": config.trainer_worker_metrics_port},
            "gateway": {
                "GATEWAY_PORT": config.gateway_port,
                "GATEWAY_METRICS_PORT": config.gateway_metrics_port,
            },
        }
        self.replicas: dict[str, list[Replica]] = {}
        for service, own_ports in ports.items():
            count = config.replicas.get(service, 1)
            shares = _core_shares(service, count, {**os.environ, **config.env})
            self.replicas[service] = [
                Replica(replica.name, {**replica.env, **share})
                for replica, share in zip(_replicas(service, count, own_ports), shares, strict=True)
            ]

    @property
    def gateway_url(self) -> str:
        """Base URL of the (first) gateway."""
        return f"http://{self.config.gateway_host}:{self.config.gateway_port}"

    @property
    def gateway_urls(self) -> list[str]:
        """Base URL of every gateway replica."""
        return [
            f"http://{self.config.gateway_host}:{r.env['GATEWAY_PORT']}" for r in self.replicas["gateway"]
        ]

    def inference_targets(self) -> str:
        """GATEWAY_INFERENCE_TARGET: every inference replica's gRPC address."""
        return ",".join(f"127.0.0.1:{r.env['INFERENCE_GRPC_PORT']}" for r in self.replicas["inference"])

    def metrics_urls(self) -> dict[str, list[str]]:
        """Each job's Prometheus endpoints: one per process, every replica's under its service's job."""
        urls = {job: [url] for job, url in self.config.metrics_urls().items()}
        port_variables = {
            "inference": "INFERENCE_METRICS_PORT",
            "trainer-worker": "TRAINER_WORKER_METRICS_PORT",
        }
        port_variables["gateway"] = "GATEWAY_METRICS_PORT"
        for service, variable in port_variables.items():
            urls[service] = [f"http://127.0.0.1:{r.env[variable]}/metrics" for r in self.replicas[service]]
        return urls

    def admin_key(self) -> str:
        """The bootstrap key if configured, else the one the gateway generated into the data dir."""
        if self.config.bootstrap_key:
            return self.config.bootstrap_key
        key_file = self.data_dir / "admin_key"
        return key_file.read_text().strip() if key_file.exists() else ""

    def _service_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "TUNEWAY_DATA_DIR": str(self.data_dir),
                "TUNEWAY_NATS_URL": self.config.nats_url,
                "GATEWAY_HOST": self.config.gateway_host,
                "GATEWAY_PORT": str(self.config.gateway_port),
                "GATEWAY_METRICS_PORT": str(self.config.gateway_metrics_port),
                "GATEWAY_INFERENCE_TARGET": self.inference_targets(),
                "INFERENCE_GRPC_PORT": str(self.config.inference_port),
                "INFERENCE_METRICS_PORT": str(self.config.inference_metrics_port),
                "GATEWAY_PROMPT_TARGET": f"127.0.0.1:{self.config.prompt_port}",
                "PROMPT_SVC_GRPC_PORT": str(self.config.prompt_port),
                "PROMPT_SVC_METRICS_PORT": str(self.config.prompt_metrics_port),
                "GATEWAY_RETRIEVER_TARGET": f"127.0.0.1:{self.config.retriever_port}",
                "RETRIEVER_GRPC_PORT": str(self.config.retriever_port),
                "RETRIEVER_METRICS_PORT": str(self.config.retriever_metrics_port),
                "GATEWAY_TRAINER_TARGET": f"127.0.0.1:{self.config.trainer_port}",
                "TRAINER_GRPC_PORT": str(self.config.trainer_port),
                "TRAINER_METRICS_PORT": str(self.config.trainer_metrics_port),
                "TRAINER_WORKER_METRICS_PORT": str(self.config.trainer_worker_metrics_port),
                "GATEWAY_ANALYTICS_TARGET": f"127.0.0.1:{self.config.analytics_port}",
                "ANALYTICS_GRPC_PORT": str(self.config.analytics_port),
                "ANALYTICS_METRICS_PORT": str(self.config.analytics_metrics_port),
                "ANALYTICS_RETRIEVER_TARGET": f"127.0.0.1:{self.config.retriever_port}",
                "GATEWAY_BATCH_WORKER_METRICS_PORT": str(self.config.batch_worker_metrics_port),
                "PYTHONUNBUFFERED": "1",
            }
        )
        if self.config.model:
            env["INFERENCE_MODEL"] = self.config.model
            # The trainer fine-tunes the model inference serves.
            env["TRAINER_BASE_MODEL"] = self.config.model
        if self.config.bootstrap_key:
            env["TUNEWAY_BOOTSTRAP_KEY"] = self.config.bootstrap_key
        env.update(self.config.env)
        return env

    def _ensure_nats(self) -> None:
        url = urlparse(self.config.nats_url)
        host, port = url.hostname or "127.0.0.1", url.port or 4222
        if port_open(host, port):
            return
        if host not in ("127.0.0.1", "localhost"):
            raise StackError(f"NATS does not answer at {self.config.nats_url}")
        nats_dir = self.data_dir / "nats"
        self._nats = start_nats_server(port, nats_dir / "jetstream", self.log_dir / "nats.log")

    def start_service(self, name: str, module: str, *args: str, env: Mapping[str, str] | None = None) -> None:
        """Starts `python -m module args` in its own process group, logging to data_dir/logs/<name>.log,
        with `env` over the stack's environment; its pid is in data_dir/run/<name>.pid while it runs."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.pid_dir.mkdir(parents=True, exist_ok=True)
        log = (self.log_dir / f"{name}.log").open("ab")
        # Own process group: stopping a service also stops the engine processes vLLM spawned.
        service_env = {**self._service_env(), **(env or {})}
        process = subprocess.Popen(
            [sys.executable, "-m", module, *args],
            env=service_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_pinned(service_env.get(CORES_VARIABLE)),
        )
        self.processes[name] = process
        self._commands[name] = ((module, *args), dict(env or {}))
        (self.pid_dir / f"{name}.pid").write_text(f"{process.pid}\n")

    def start(self, timeout: float = 300) -> None:
        """Starts NATS (if needed) and every service, and waits until the gateway is ready."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._ensure_nats()
        self.start_replicas("inference")
        self.start_service("prompt-svc", "tuneway.prompt_svc")
        self.start_service("retriever", "tuneway.retriever")
        self.start_service("trainer", "tuneway.trainer", "api")
        # More workers scale training out (each pulls jobs from the TRAINING work queue).
        self.start_replicas("trainer-worker")
        self.start_service("analytics", "tuneway.analytics")
        # Runs /v1/batches from the BATCHES work queue; more workers run more batches at once.
        self.start_service("batch-worker", "tuneway.gateway.batch_worker")
        # Gateways that start together race to migrate their database; the loser retries.
        self.start_replicas("gateway")
        try:
            self.wait_ready(timeout)
        except BaseException:
            self.stop()
            raise

    def start_replicas(self, service: str) -> None:
        """Starts every replica of `service` (one of REPLICATED)."""
        for replica in self.replicas[service]:
            self.start_service(replica.name, *REPLICATED[service], env=replica.env)

    def start_prometheus(self) -> str:
        """Starts Prometheus scraping every service, if installed; says what happened (the stack runs
        without it: metrics are an aid, not a dependency)."""
        if not self.config.prometheus_port:
            return "not started (TUNEWAY_PROMETHEUS_PORT=0)"
        if prometheus_binary() is None:
            return "not installed (make install installs it); running without it"
        server = PrometheusServer(
            self.data_dir / "prometheus", self.config.prometheus_port, self.metrics_urls()
        )
        try:
            server.start()
        except RuntimeError as error:
            return f"did not start ({str(error).splitlines()[0]}); running without it"
        self.prometheus = server
        return server.url

    def wait_ready(self, timeout: float) -> None:
        """Polls every gateway's /readyz; fails early, with the log, if a service exits."""
        deadline = time.monotonic() + timeout
        waiting = list(self.gateway_urls)
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                if httpx.get(f"{waiting[0]}/readyz", timeout=2).status_code == 200:
                    waiting.pop(0)
                    if not waiting:
                        return
                    continue
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        raise StackError(f"the stack was not ready after {timeout:.0f} s\n{self._log_tails()}")

    def check_alive(self) -> None:
        """Raises StackError if any service has exited."""
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise StackError(f"{name} exited with code {process.returncode}\n{self.log_tail(name)}")

    def supervise(self, max_restarts: int = 3, window_seconds: float = 60) -> None:
        """Restarts a service that exited, as Kubernetes restarts a failed pod; raises StackError when
        one exits more than `max_restarts` times within `window_seconds` (it is crashing, not crashed)."""
        for name, process in list(self.processes.items()):
            if process.poll() is None:
                continue
            now = time.monotonic()
            recent = [t for t in self._restarts.get(name, []) if now - t < window_seconds]
            if len(recent) >= max_restarts:
                raise StackError(f"{name} keeps exiting (code {process.returncode})\n{self.log_tail(name)}")
            self._restarts[name] = [*recent, now]
            print(f"{name} exited with code {process.returncode}; restarting it", flush=True)
            self.restart_service(name)

    def restart_service(self, name: str) -> None:
        """Starts `name` again with the command and environment it was first started with (after it
        exited, or was stopped with `stop_service`)."""
        command, env = self._commands[name]
        self.start_service(name, *command, env=env)

    def log_tail(self, name: str, lines: int = 40) -> str:
        """The end of a service's log."""
        path = self.log_dir / f"{name}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def _log_tails(self) -> str:
        return "\n".join(f"--- {name} ---\n{self.log_tail(name)}" for name in self.processes)

    def stop_service(self, name: str, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
        """Signals a service's process group and waits; SIGKILL if it does not exit in time."""
        process = self.processes.pop(name, None)
        (self.pid_dir / f"{name}.pid").unlink(missing_ok=True)
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, sig)
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        except ProcessLookupError:
            pass

    def stop(self) -> None:
        """Stops the gateway first (no new requests), then the rest, then a NATS we started."""
        gateways = [replica.name for replica in self.replicas["gateway"]]
        for name in [*gateways, *[n for n in self.processes if n not in gateways]]:
            self.stop_service(name)
        if self.prometheus is not None:
            self.prometheus.stop()
            self.prometheus = None
        if self._nats is not None:
            stop_process(self._nats)
            self._nats = None
