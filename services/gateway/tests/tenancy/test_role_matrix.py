"""The role matrix, generated from the OpenAPI document so that a new route is covered without a new
test: every operator operation (everything under /admin) answers a member key 403, whatever the
method, path parameters or body, and changes nothing; the admin key is let through to the route."""

from __future__ import annotations

import re
from typing import Any

# The `gateway` fixture comes from the parent directory's conftest.
Gateway = Any
METHODS = ("get", "post", "put", "patch", "delete")


def _operator_operations(document: dict[str, Any]) -> list[tuple[str, str]]:
    """(method, path) of every operation under /admin, path parameters filled with a plausible id."""
    operations = []
    for path, item in document["paths"].items():
        if not path.startswith("/admin"):
            continue
        concrete = re.sub(r"\{[^}]+\}", "acme", path)
        operations += [(method, concrete) for method in METHODS if method in item]
    return operations


async def test_member_keys_get_403_on_every_operator_operation(gateway: Gateway) -> None:
    client = gateway.app_client
    operations = _operator_operations((await client.get("/openapi.json")).json())
    # The operator surface as it stands; the test reads it from the document, not from this list.
    assert {path.split("/")[2] for _, path in operations} >= {"tenants", "keys"}
    before = (await client.get("/admin/tenants", headers=gateway.auth(gateway.settings.bootstrap_key))).json()
    for method, path in operations:
        for body in (None, {}, {"name": "intruder", "tenant_id": "acme", "role": "admin"}):
            response = await client.request(method, path, headers=gateway.auth(gateway.acme_key), json=body)
            assert response.status_code == 403, (method, path, body, response.text)
            error = response.json()["error"]
            assert error["code"] == "insufficient_permissions" and error["type"] == "permission_error"
    admin = gateway.auth(gateway.settings.bootstrap_key)
    assert (await client.get("/admin/tenants", headers=admin)).json() == before
    keys = (await client.get("/admin/keys", headers=admin)).json()["data"]
    assert {k["role"] for k in keys if k["tenant_id"] == "acme"} == {"member"}
    # The admin key passes the same check: the 403 above is the role, not the route.
    assert (await client.get("/admin/tenants/acme", headers=admin)).status_code == 200
