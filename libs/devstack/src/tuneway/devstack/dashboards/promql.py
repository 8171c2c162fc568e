"""The few PromQL shapes the dashboards repeat: rates, shares and histogram quantiles."""

from __future__ import annotations

from tuneway.devstack.dashboards.model import Query

# Grafana widens this to at least four scrape intervals, so a rate always spans two samples.
WINDOW = "$__rate_interval"


def rate(metric: str, by: str = "", selector: str = "") -> str:
    """Per-second rate of a counter, summed (by `by`, comma-separated labels)."""
    grouping = f" by ({by}) " if by else ""
    labels = f"{{{selector}}}" if selector else ""
    return f"sum{grouping}(rate({metric}{labels}[{WINDOW}]))"


def share(metric: str, by: str) -> str:
    """Each value of `by`'s share of a counter's rate (0-1); there is a series as soon as one value has."""
    return f"{rate(metric, by)} / ignoring({by}) group_left {rate(metric)}"


def quantiles(
    histogram: str, by: str = "", levels: tuple[float, ...] = (0.5, 0.95, 0.99)
) -> tuple[Query, ...]:
    """Queries of a histogram's quantiles (`histogram` without `_bucket`), one per level."""
    grouping = ", ".join(["le", *([by] if by else [])])
    suffix = f" {{{{{by}}}}}" if by else ""
    return tuple(
        Query(
            f"histogram_quantile({level}, sum by ({grouping}) (rate({histogram}_bucket[{WINDOW}])))",
            f"p{round(level * 100)}{suffix}",
        )
        for level in levels
    )
