"""Dashboards and panels as values, and their Grafana JSON (schema of Grafana 10/11)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

# Every panel queries the Prometheus the dashboard's `datasource` variable names.
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
# Panels per row and their size on Grafana's 24-column grid.
WIDTH, HEIGHT = 12, 8
# tuneway's metric names all start so; PromQL functions and labels never do.
_METRIC = re.compile(r"\btuneway_[a-z0-9_]+")


@dataclass(frozen=True)
class Query:
    """One PromQL target and the legend of its series."""

    expr: str
    legend: str = ""


@dataclass(frozen=True)
class Panel:
    """A time series (or a single number, `stat`) of one or more queries, in `unit` (Grafana's ids:
    reqps, s, percentunit, short, ...)."""

    title: str
    queries: tuple[Query, ...]
    unit: str = "short"
    kind: Literal["timeseries", "stat"] = "timeseries"
    description: str = ""

    def metric_names(self) -> set[str]:
        """The metric names its queries read."""
        return {name for query in self.queries for name in _METRIC.findall(query.expr)}


@dataclass(frozen=True)
class Dashboard:
    """A dashboard: its file name is `<uid>.json`."""

    uid: str
    title: str
    description: str
    panels: tuple[Panel, ...]

    def to_json(self) -> dict[str, Any]:
        """The dashboard as Grafana imports it (file provisioning or Dashboards → Import)."""
        return {
            "uid": self.uid,
            "title": self.title,
            "description": self.description,
            "tags": ["tuneway"],
            "timezone": "browser",
            "editable": True,
            "schemaVersion": 39,
            "version": 1,
            "refresh": "30s",
            "time": {"from": "now-1h", "to": "now"},
            "templating": {
                "list": [
                    {
                        "name": "datasource",
                        "label": "Prometheus",
                        "type": "datasource",
                        "query": "prometheus",
                        "current": {},
                        "hide": 0,
                    }
                ]
            },
            "panels": [_panel_json(panel, index) for index, panel in enumerate(self.panels)],
        }


def _panel_json(panel: Panel, index: int) -> dict[str, Any]:
    per_row = 24 // WIDTH
    body: dict[str, Any] = {
        "id": index + 1,
        "type": panel.kind,
        "title": panel.title,
        "description": panel.description,
        "datasource": DATASOURCE,
        "gridPos": {
            "x": (index % per_row) * WIDTH,
            "y": (index // per_row) * HEIGHT,
            "w": WIDTH,
            "h": HEIGHT,
        },
        "fieldConfig": {"defaults": {"unit": panel.unit}, "overrides": []},
        "targets": [
            {"refId": chr(ord("A") + n), "datasource": DATASOURCE, "expr": q.expr, "legendFormat": q.legend}
            for n, q in enumerate(panel.queries)
        ],
    }
    if panel.kind == "stat":
        body["options"] = {"reduceOptions": {"calcs": ["lastNotNull"]}, "colorMode": "value"}
    else:
        body["options"] = {"legend": {"displayMode": "list", "placement": "bottom"}}
    return body
