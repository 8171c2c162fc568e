"""Writes the dashboards' JSON files, byte for byte what the tests compare with."""

from __future__ import annotations

import json
from pathlib import Path

from tuneway.devstack.dashboards.catalog import DASHBOARDS

# Relative to the repository root, where `make dashboards` runs.
DASHBOARDS_DIR = Path("deploy/grafana/dashboards")
COMMAND = "make dashboards"


def render() -> dict[str, str]:
    """File name → file text of every dashboard."""
    return {
        f"{dashboard.uid}.json": json.dumps(dashboard.to_json(), indent=2, ensure_ascii=False) + "\n"
        for dashboard in DASHBOARDS
    }


def write(out: Path) -> list[Path]:
    """Writes every dashboard into `out` and removes JSON files there that no dashboard makes."""
    out.mkdir(parents=True, exist_ok=True)
    files = render()
    for stale in out.glob("*.json"):
        if stale.name not in files:
            stale.unlink()
    written = []
    for name, text in files.items():
        path = out / name
        path.write_text(text)
        written.append(path)
    return written
