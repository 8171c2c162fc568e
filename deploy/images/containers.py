"""The stack's containers, run as the dev overlay's pods run (user 10001, read-only root, no
capabilities, /tmp and the data dir writable), on the host's network: every service on free ports,
NATS and PostgreSQL on the host, one artifacts volume that the trainer writes adapters to and the
gateway and inference read, one models volume the demo model is built into."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import httpx
from engine import docker

from tuneway.core.testing.processes import free_port

MODELS = "/var/lib/tuneway/models"
ARTIFACTS = "/var/lib/tuneway/artifacts"
DATA = "/var/lib/tuneway/data"
MODEL_NAME = "tuneway-tiny"

# What every pod's securityContext says, in `docker run` flags.
HARDENED = [
    "--user",
    "10001:10001",
    "--read-only",
    "--cap-drop",
    "ALL",
    "--security-opt",
    "no-new-privileges",
]


@dataclass(frozen=True)
class Service:
    """One container: its image (by service and target), command and the volumes it mounts."""

    name: str
    image: str
    command: tuple[str, ...] = ()
    artifacts: bool = True
    models: bool = False
    extra: tuple[str, ...] = ()


# The dev overlay's Deployments (deploy/k8s/base), in start order.
SERVICES = [
    # vLLM's CPU engine shares memory between its processes through /dev/shm.
    Service("inference", "inference-cpu", models=True, extra=("--shm-size", "1g")),
    Service("prompt-svc", "prompt-svc", artifacts=False),
    Service("retriever", "retriever"),
    Service("trainer", "trainer", ("python", "-m", "tuneway.trainer", "api"), models=True),
    Service("trainer-worker", "trainer", ("python", "-m", "tuneway.trainer", "worker"), models=True),
    Service("analytics", "analytics", artifacts=False),
    Service("batch-worker", "gateway", ("python", "-m", "tuneway.gateway.batch_worker")),
    Service("gateway", "gateway"),
]


@dataclass
class Stack:
    """Containers and volumes of one run, all named tuneway-images-<run>-*."""

    run: str
    images: Mapping[str, str]  # "gateway", "inference-cpu", ... -> image reference
    nats_url: str
    database_url: str
    bootstrap_key: str
    ports: dict[str, int] = field(default_factory=dict)
    containers: list[str] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        for name in ("gateway", "gateway-metrics", "batch-worker-metrics", "inference", "inference-metrics",
                     "prompt", "prompt-metrics", "retriever", "retriever-metrics", "trainer",
                     "trainer-metrics", "worker-metrics", "analytics", "analytics-metrics"):  # fmt: skip
            self.ports[name] = free_port()

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['gateway']}"

    def env(self) -> dict[str, str]:
        """Every service's variables (each reads its own prefix), as the overlay's ConfigMaps and
        Secret give them, with 127.0.0.1 and this run's ports for the Services' names."""
        p, local, db = self.ports, "127.0.0.1", self.database_url
        return {
            "TUNEWAY_NATS_URL": self.nats_url,
            "TUNEWAY_LOG_LEVEL": "INFO",
            "TUNEWAY_BOOTSTRAP_KEY": self.bootstrap_key,
            "GATEWAY_PORT": str(p["gateway"]),
            "GATEWAY_METRICS_PORT": str(p["gateway-metrics"]),
            "GATEWAY_BATCH_WORKER_METRICS_PORT": str(p["batch-worker-metrics"]),
            "GATEWAY_DATABASE_URL": db,
            "GATEWAY_ARTIFACTS_DIR": ARTIFACTS,
            "GATEWAY_INFERENCE_TARGET": f"{local}:{p['inference']}",
            "GATEWAY_PROMPT_TARGET": f"{local}:{p['prompt']}",
            "GATEWAY_RETRIEVER_TARGET": f"{local}:{p['retriever']}",
            "GATEWAY_TRAINER_TARGET": f"{local}:{p['trainer']}",
            "GATEWAY_ANALYTICS_TARGET": f"{local}:{p['analytics']}",
            "INFERENCE_GRPC_PORT": str(p["inference"]),
            "INFERENCE_METRICS_PORT": str(p["inference-metrics"]),
            "INFERENCE_ARTIFACTS_DIR": ARTIFACTS,
            "INFERENCE_MODEL": f"{MODELS}/{MODEL_NAME}",
            "INFERENCE_SERVED_MODEL_NAME": MODEL_NAME,
            "PROMPT_SVC_GRPC_PORT": str(p["prompt"]),
            "PROMPT_SVC_METRICS_PORT": str(p["prompt-metrics"]),
            "PROMPT_SVC_DATABASE_URL": db,
            "RETRIEVER_GRPC_PORT": str(p["retriever"]),
            "RETRIEVER_METRICS_PORT": str(p["retriever-metrics"]),
            "RETRIEVER_DATABASE_URL": db,
            "RETRIEVER_ARTIFACTS_DIR": ARTIFACTS,
            "TRAINER_GRPC_PORT": str(p["trainer"]),
            "TRAINER_METRICS_PORT": str(p["trainer-metrics"]),
            "TRAINER_WORKER_METRICS_PORT": str(p["worker-metrics"]),
            "TRAINER_DATABASE_URL": db,
            "TRAINER_ARTIFACTS_DIR": ARTIFACTS,
            "TRAINER_BASE_MODEL": f"{MODELS}/{MODEL_NAME}",
            "TRAINER_BASE_MODEL_NAME": MODEL_NAME,
            "ANALYTICS_GRPC_PORT": str(p["analytics"]),
            "ANALYTICS_METRICS_PORT": str(p["analytics-metrics"]),
            "ANALYTICS_DATABASE_URL": db,
            "ANALYTICS_RETRIEVER_TARGET": f"{local}:{p['retriever']}",
        }

    def volume(self, name: str) -> str:
        full = f"tuneway-images-{self.run}-{name}"
        if full not in self.volumes:
            docker("volume", "create", full)
            self.volumes.append(full)
        return full

    def _run_args(self, name: str, image: str, models: str | None, artifacts: bool) -> list[str]:
        args = ["--network", "host", *HARDENED, "--tmpfs", "/tmp:rw,exec,size=1g"]
        args += ["-v", f"{self.volume('data-' + name)}:{DATA}"]
        if artifacts:
            args += ["-v", f"{self.volume('artifacts')}:{ARTIFACTS}"]
        if models:
            args += ["-v", f"{self.volume('models')}:{MODELS}:{models}"]
        for key, value in self.env().items():
            args += ["-e", f"{key}={value}"]
        return args

    def build_demo_model(self) -> str:
        """The dev overlay's demo-model Job: the trainer image builds the model into the volume."""
        docker(
            "run", "--rm", "--name", f"tuneway-images-{self.run}-demo-model",
            *self._run_args("demo-model", self.images["trainer"], "rw", artifacts=False),
            self.images["trainer"],
            "python", "-m", "tuneway.devstack.demo_model", "--out", f"{MODELS}/{MODEL_NAME}",
        )  # fmt: skip
        return f"{MODEL_NAME} built into the models volume"

    def start(self) -> None:
        for service in SERVICES:
            container = f"tuneway-images-{self.run}-{service.name}"
            image = self.images[service.image]
            args = self._run_args(service.name, image, "ro" if service.models else None, service.artifacts)
            docker("run", "-d", "--name", container, *args, *service.extra, image, *service.command)
            self.containers.append(container)

    def wait_ready(self, timeout: float) -> float:
        """Seconds until the gateway's /readyz says 200; fails early when a container exits."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            for container in self.containers:
                state = docker("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", container).stdout
                if not state.startswith("running"):
                    raise RuntimeError(f"{container} is {state.strip()}:\n{self.logs(container)}")
            try:
                if httpx.get(f"{self.gateway_url}/readyz", timeout=2).status_code == 200:
                    return time.monotonic() - started
            except httpx.HTTPError:
                pass
            time.sleep(1)
        raise RuntimeError(f"the gateway was not ready after {timeout:.0f} s\n{self.all_logs()}")

    def logs(self, container: str, lines: int = 40) -> str:
        result = docker("logs", "--tail", str(lines), container, check=False)
        return result.stdout + result.stderr

    def all_logs(self, lines: int = 40) -> str:
        return "\n".join(f"--- {c} ---\n{self.logs(c, lines)}" for c in self.containers)

    def save_logs(self, directory: str) -> None:
        from pathlib import Path

        for container in self.containers:
            result = docker("logs", container, check=False)
            (Path(directory) / f"{container}.log").write_text(result.stdout + result.stderr)

    def remove(self) -> str:
        """Stops (SIGTERM, as Kubernetes does, SIGKILL after 20 s) and removes the containers, then the
        volumes; says how each container exited."""
        exits = []
        for container in reversed(self.containers):
            docker("stop", "-t", "20", container, check=False)
            code = docker("inspect", "-f", "{{.State.ExitCode}}", container, check=False).stdout.strip()
            exits.append(f"{container.removeprefix(f'tuneway-images-{self.run}-')} {code}")
            docker("rm", "-f", container, check=False)
        self.containers.clear()
        for volume in self.volumes:
            docker("volume", "rm", "-f", volume, check=False)
        self.volumes.clear()
        return ", ".join(exits)
