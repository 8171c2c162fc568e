"""Grafana dashboards as code: `python -m tuneway.devstack.dashboards` writes deploy/grafana/dashboards."""
