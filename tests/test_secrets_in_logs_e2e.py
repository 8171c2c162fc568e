"""Keys and secrets never reach a log: after every other e2e module has run its requests (failed
authentications, revoked keys and bad input among them), every log the stack wrote is searched for each
API key the session issued, the admin key and the completion id signing secret."""

from __future__ import annotations

import httpx

from tests.conftest import ISSUED_KEYS, RunningStack, Tenant

SERVICES = {"gateway", "inference", "prompt-svc", "retriever", "trainer", "trainer-worker", "analytics"}


def test_no_log_holds_a_key_or_a_secret(stack: RunningStack, acme: Tenant) -> None:
    # A key with one character too many: the gateway refuses it and may log it, redacted only.
    wrong = httpx.get(f"{stack.gateway_url}/v1/models", headers={"Authorization": f"Bearer {acme.key}x"})
    assert wrong.status_code == 401
    logs = sorted((stack.data_dir / "logs").glob("*.log"))
    assert {p.stem for p in logs} >= SERVICES
    secret = (stack.data_dir / "completion_id_secret").read_text().strip()
    secrets = {*ISSUED_KEYS, secret}
    # The session's other modules issued keys of their own (the scan covers every one of them).
    assert acme.key in ISSUED_KEYS and len(ISSUED_KEYS) > 2
    for path in logs:
        text = path.read_text(errors="replace")
        leaked = [s[:10] + "…" for s in secrets if s in text]
        assert not leaked, f"{path.name} holds {leaked}"
