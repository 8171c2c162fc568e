"""GATEWAY_INFERENCE_TARGET: a list of host:port targets, names looked up to every address they have."""

from __future__ import annotations

import pytest

from tuneway.gateway.clients.targets import Target, parse_targets, resolve


def test_a_list_of_targets_with_names_addresses_and_ipv6() -> None:
    spec = "inference-headless.tuneway.svc.cluster.local:50053, 10.0.0.7:50053,[::1]:7000,dns:///a:1"
    assert parse_targets(spec, "X") == [
        Target("inference-headless.tuneway.svc.cluster.local", 50053),
        Target("10.0.0.7", 50053),
        Target("::1", 7000),
        Target("a", 1),
    ]
    assert [target.is_address for target in parse_targets(spec, "X")] == [False, True, True, False]


@pytest.mark.parametrize("spec", ["inference", "inference:", ":50053", "a:1,,b:2", "a:http", "a:70000"])
def test_an_entry_that_is_not_host_port_names_the_setting(spec: str) -> None:
    with pytest.raises(ValueError, match="GATEWAY_INFERENCE_TARGET"):
        parse_targets(spec, "GATEWAY_INFERENCE_TARGET")


async def test_names_resolve_to_their_addresses_and_a_missing_name_to_none() -> None:
    targets = parse_targets("localhost:50053,10.0.0.7:50053,[::1]:7000,no-such-replica.invalid:50053", "X")
    # localhost is 127.0.0.1 here, and perhaps ::1 too; the missing name (NXDOMAIN, as a headless
    # Service without ready pods answers) adds nothing and is no error.
    assert {"127.0.0.1:50053", "10.0.0.7:50053", "[::1]:7000"} <= await resolve(targets)
    assert await resolve(targets) <= {"127.0.0.1:50053", "10.0.0.7:50053", "[::1]:7000", "[::1]:50053"}
