"""The launcher takes its ports and defaults from the services' own settings classes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tuneway.devstack.launcher import CORES_VARIABLE, Stack, StackConfig
from tuneway.gateway.settings import GatewaySettings
from tuneway.inference.settings import InferenceSettings
from tuneway.trainer.settings import TrainerSettings


def test_defaults_are_the_services_defaults() -> None:
    config = StackConfig()
    assert config.inference_port == InferenceSettings.model_fields["grpc_port"].default == 50053
    assert config.trainer_worker_metrics_port == TrainerSettings.model_fields["worker_metrics_port"].default
    assert config.gateway_metrics_port == GatewaySettings.model_fields["metrics_port"].default
    assert config.metrics_urls()["gateway"] == f"http://127.0.0.1:{config.gateway_metrics_port}/metrics"


def test_the_services_variables_move_the_stack(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TUNEWAY_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("GATEWAY_PORT", "18080")
    monkeypatch.setenv("GATEWAY_METRICS_PORT", "19106")
    monkeypatch.setenv("PROMPT_SVC_GRPC_PORT", "15051")
    monkeypatch.setenv("TRAINER_WORKER_METRICS_PORT", "0")
    monkeypatch.setenv("INFERENCE_MODEL", "/models/x")
    config = StackConfig.from_env()
    assert (config.data_dir, config.gateway_port, config.prompt_port) == (tmp_path, 18080, 15051)
    assert config.trainer_worker_metrics_port == 0
    assert config.gateway_metrics_port == 19106
    assert config.model == "/models/x"
    assert config.retriever_port == 50052


def test_replicas_get_their_own_ports_and_the_gateways_every_inference_replica(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TUNEWAY_REPLICAS_INFERENCE", "2")
    monkeypatch.setenv("TUNEWAY_REPLICAS_GATEWAY", "3")
    config = StackConfig.from_env()
    assert config.replicas == {"inference": 2, "trainer-worker": 1, "gateway": 3}
    stack = Stack(StackConfig.on_free_ports(tmp_path, replicas=config.replicas))
    inference = stack.replicas["inference"]
    assert [r.name for r in inference] == ["inference", "inference-2"]
    assert inference[0].env["INFERENCE_GRPC_PORT"] == str(stack.config.inference_port)
    ports = {r.env["INFERENCE_GRPC_PORT"] for r in inference} | {
        r.env["GATEWAY_PORT"] for r in stack.replicas["gateway"]
    }
    assert len(ports) == 5
    targets = stack.inference_targets().split(",")
    assert targets == [f"127.0.0.1:{r.env['INFERENCE_GRPC_PORT']}" for r in inference]
    assert len(stack.gateway_urls) == 3 and len(stack.metrics_urls()["gateway"]) == 3
    assert [r.name for r in stack.replicas["trainer-worker"]] == ["trainer-worker"]


def test_a_replica_count_below_one_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUNEWAY_REPLICAS_TRAINER_WORKER", "0")
    with pytest.raises(ValueError, match="TUNEWAY_REPLICAS_TRAINER_WORKER"):
        StackConfig.from_env()


def test_replicas_get_a_share_of_the_cores_each(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("VLLM_CPU_OMP_THREADS_BIND", raising=False)
    monkeypatch.setattr("tuneway.devstack.launcher.os.sched_getaffinity", lambda _: {0, 1, 2, 3, 4})
    replicas = {"inference": 2, "gateway": 2, "trainer-worker": 3}
    stack = Stack(StackConfig.on_free_ports(tmp_path, replicas=replicas))
    inference = stack.replicas["inference"]
    assert [r.env["VLLM_CPU_OMP_THREADS_BIND"] for r in inference] == ["0,1", "2,3"]
    assert [r.env[CORES_VARIABLE] for r in inference] == ["0,1", "2,3"]
    assert [r.env[CORES_VARIABLE] for r in stack.replicas["gateway"]] == ["0,1", "2,3"]
    assert [r.env[CORES_VARIABLE] for r in stack.replicas["trainer-worker"]] == ["0", "1", "2"]
    assert all("VLLM_CPU_OMP_THREADS_BIND" not in r.env for r in stack.replicas["gateway"])
    # One replica keeps every core (and vLLM's own binding); so do more replicas than cores, and
    # inference replicas whose binding the environment chose.
    one = Stack(StackConfig.on_free_ports(tmp_path))
    assert all(
        not ({CORES_VARIABLE, "VLLM_CPU_OMP_THREADS_BIND"} & r.env.keys()) for r in one.replicas["inference"]
    )
    many = Stack(StackConfig.on_free_ports(tmp_path, replicas={"gateway": 6}))
    assert all(CORES_VARIABLE not in r.env for r in many.replicas["gateway"])
    chosen = Stack(
        StackConfig.on_free_ports(tmp_path, replicas={"inference": 2}, env={"VLLM_CPU_OMP_THREADS_BIND": "0"})
    )
    assert all(
        not ({CORES_VARIABLE, "VLLM_CPU_OMP_THREADS_BIND"} & r.env.keys())
        for r in chosen.replicas["inference"]
    )
