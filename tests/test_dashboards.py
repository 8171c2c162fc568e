"""The committed Grafana dashboards are what the generator writes, and read only metrics the code exports."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from tuneway.devstack.dashboards.catalog import DASHBOARDS
from tuneway.devstack.dashboards.generate import COMMAND, DASHBOARDS_DIR, render

REPO_ROOT = Path(__file__).resolve().parents[1]
# Every module that defines a service's Prometheus metrics (importing it registers them).
METRICS_MODULES = (
    "tuneway.gateway.middleware",
    "tuneway.inference.metrics",
    "tuneway.prompt_svc.metrics",
    "tuneway.retriever.metrics",
    "tuneway.trainer.metrics",
    "tuneway.analytics.metrics",
)
# The series names each metric type exposes, from the name prometheus_client registers it under.
SUFFIXES = {
    "counter": ("_total",),
    "histogram": ("_bucket", "_sum", "_count"),
    "summary": ("_sum", "_count", ""),
    "gauge": ("",),
    "info": ("_info",),
    "stateset": ("",),
    "enum": ("",),
}


def exported_metric_names() -> set[str]:
    """The series names the services' metrics modules register, labelled or not, sampled or not."""
    missing = []
    for module in METRICS_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as error:
            missing.append(f"{module} ({error})")
    assert not missing, f"metrics modules the dashboards read from are missing: {missing}"
    names = set()
    for family in REGISTRY.collect():
        names.update(family.name + suffix for suffix in SUFFIXES.get(family.type, ("",)))
    return names


def test_committed_dashboards_are_what_the_generator_writes() -> None:
    committed_dir = REPO_ROOT / DASHBOARDS_DIR
    committed = {path.name: path.read_text() for path in committed_dir.glob("*.json")}
    generated = render()
    stale = sorted(
        name for name in generated.keys() | committed.keys() if generated.get(name) != committed.get(name)
    )
    assert not stale, f"{DASHBOARDS_DIR} is stale ({', '.join(stale)}): run `{COMMAND}` and commit the result"


def test_every_panel_reads_metrics_the_code_exports() -> None:
    exported = exported_metric_names()
    unknown = [
        f"{dashboard.title} / {panel.title}: {name}"
        for dashboard in DASHBOARDS
        for panel in dashboard.panels
        for name in sorted(panel.metric_names())
        if name not in exported
    ]
    assert not unknown, "panels read metrics no service exports:\n" + "\n".join(unknown)


@pytest.mark.parametrize("dashboard", DASHBOARDS, ids=lambda d: d.uid)
def test_every_panel_queries_the_datasource_variable_with_a_unit(dashboard: object) -> None:
    body = dashboard.to_json()  # type: ignore[attr-defined]
    assert body["templating"]["list"][0]["name"] == "datasource"
    for panel in body["panels"]:
        assert panel["targets"], panel["title"]
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        assert panel["fieldConfig"]["defaults"]["unit"], panel["title"]
        for target in panel["targets"]:
            assert "tuneway_" in target["expr"], panel["title"]
            # Fixed windows break at other scrape intervals; Grafana sizes $__rate_interval to them.
            if "rate(" in target["expr"]:
                assert "[$__rate_interval]" in target["expr"], panel["title"]
