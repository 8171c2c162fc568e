"""schemathesis against the running stack (issue 12 §6): every operation in the gateway's /openapi.json,
derandomized and bounded, with a member key and then with the admin key on /admin. No response may be a
5xx, and each status, content type and body (each server-sent event's too) must be one the document
promises for that operation. Last, ids holding NUL and control bytes on every route with a path id.

The schemathesis CLI runs it (its pytest loader for fixtures does not work with pytest 9.2): its report
names each failing operation and check with a curl command that reproduces it. Generated ids would only
ever meet 404s, so dictionaries offer real ones (a prompt, an assistant, a knowledge base and its
document, a file, an experiment, a completion id) in place of half the fuzzing phase's draws, and bodies'
`model` is a real model in half of them. Nothing offered starts heavy work: no training or batch input
file id is offered in a body, so no fine-tuning job or batch runs. tests/schemathesis_hooks.py sends the
coverage phase's valid chat and completions requests to the demo model and keeps every generation a few
tokens long. Nothing is excluded: streamed responses are read to their end and each event is checked.
The stateful phase runs on its own (issue 14 §4): chains of operations along the links schemathesis infers
from the document, with its checks that a created resource can be read and a deleted one cannot.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import REPO_ROOT, RunningStack, Tenant, make_tenant

pytestmark = pytest.mark.e2e

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
BASE = "tuneway-tiny"
EMBEDDER = "all-MiniLM-L6-v2"
# Fuzzing draws per operation; the coverage phase adds its boundary and type-confusion cases on top
# (~4,500 of them). The whole module takes ~1.5 min on a quiet 2-core machine, ~3 min on a loaded one.
MAX_EXAMPLES = 5
# Scenarios of the stateful phase: ~200 chains over ~50 operations in ~15 s.
STATEFUL_EXAMPLES = 300


def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _toml_value(value: Any) -> str:
    # JSON's strings, numbers, booleans and arrays are TOML's; objects become inline tables.
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(value)


def _fuzz(
    stack: RunningStack,
    key: str,
    config_dir: Path,
    dictionaries: dict[str, list[Any]],
    parameters: dict[str, str],
    *filters: str,
    phases: str = "examples,coverage,fuzzing",
    checks: str = CHECKS,
    max_examples: int = MAX_EXAMPLES,
) -> None:
    """Runs schemathesis over the operations `filters` select; `parameters` maps a parameter (`path.kb_id`,
    `body.model`) to the dictionary whose values replace half its draws."""
    config = {
        "headers": {"Authorization": f"Bearer {key}"},
        "hooks": "tests.schemathesis_hooks",
        "request-timeout": 60,
        # Derandomized (the same cases every run, so no seed is used); no example database or crash
        # cache is written.
        "generation": {"deterministic": True, "database": "none"},
        "cache": {"enabled": False},
        "dictionaries": {name: {"values": values} for name, values in dictionaries.items()},
        "parameters": {
            parameter: {"dictionary": dictionary, "probability": 0.5}
            for parameter, dictionary in parameters.items()
        },
    }
    path = config_dir / "schemathesis.toml"
    path.write_text("".join(f"{json.dumps(k)} = {_toml_value(v)}\n" for k, v in config.items()))
    command = [
        *(sys.executable, "-m", "schemathesis.cli", "--no-color", "--config-file", str(path), "run"),
        f"{stack.gateway_url}/openapi.json",
        *("--checks", checks, "--phases", phases, "--mode", "all"),
        *("--max-examples", str(max_examples), "--workers", "1"),
        *("--output-truncate", "false", *filters),
    ]
    # Hypothesis's own caches (unicode tables, constants) go under the test's directory, not the tree's.
    env = {**os.environ, "HYPOTHESIS_STORAGE_DIRECTORY": str(config_dir / "hypothesis")}
    result = subprocess.run(
        command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=540, check=False
    )
    assert result.returncode == 0, result.stdout[-30000:] + result.stderr[-5000:]


def test_member_routes_answer_as_documented(stack: RunningStack, tmp_path: Path) -> None:
    tenant: Tenant = make_tenant(stack, "schemathesis")
    headers = {"Authorization": f"Bearer {tenant.key}"}
    with httpx.Client(base_url=stack.gateway_url, headers=headers, timeout=120) as http:
        system = [{"role": "system", "content": "Answer in one word."}]
        _ok(http.post("/v1/prompts", json={"name": "fuzz-prompt", "messages": system}), 201)
        _ok(http.post("/v1/prompts/fuzz-prompt/versions", json={"messages": system}), 201)
        _ok(http.put("/v1/prompts/fuzz-prompt/labels/production", json={"version": 1}))
        _ok(
            http.post(
                "/v1/assistants", json={"name": "fuzz-bot", "base_model": BASE, "prompt": "fuzz-prompt"}
            ),
            201,
        )
        kb_id = _ok(http.post("/v1/knowledge_bases", json={"name": "fuzz-kb"}), 201)["id"]
        text = ("notes.txt", b"Refunds are paid within 14 days of the return.")
        document = http.post(
            f"/v1/knowledge_bases/{kb_id}/documents", files={"file": text}, data={"wait": "true"}
        )
        line = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}
        training = ("train.jsonl", (json.dumps(line) + "\n").encode())
        file_id = _ok(http.post("/v1/files", files={"file": training}, data={"purpose": "fine-tune"}))["id"]
        variants = [{"name": "a", "version": 1, "weight": 1}, {"name": "b", "version": 2, "weight": 1}]
        experiment = {"name": "fuzz-exp", "prompt": "fuzz-prompt", "variants": variants}
        experiment_id = _ok(http.post("/v1/experiments", json=experiment), 201)["id"]
        chat = {"model": BASE, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 1}
        completion_id = _ok(http.post("/v1/chat/completions", json=chat))["id"]
    dictionaries = {
        "models": [BASE, "assistant:fuzz-bot", EMBEDDER],
        "names": ["fuzz-prompt", "fuzz-bot"],
        "kb_ids": [kb_id],
        "document_ids": [_ok(document, 201)["id"]],
        "file_ids": [file_id],
        "experiment_ids": [experiment_id],
        "completion_ids": [completion_id],
        "labels": ["production"],
        "versions": ["1", "2"],
    }
    parameters = {
        "body.model": "models",
        "path.model": "models",
        "path.name": "names",
        "body.prompt": "names",
        "query.prompt": "names",
        "path.kb_id": "kb_ids",
        "path.document_id": "document_ids",
        "path.file_id": "file_ids",
        "body.file_id": "file_ids",
        "path.experiment_id": "experiment_ids",
        "body.completion_id": "completion_ids",
        "path.label": "labels",
        "path.version": "versions",
    }
    _fuzz(stack, tenant.key, tmp_path, dictionaries, parameters, "--exclude-path-regex", "^/admin/")


def test_linked_member_operations_answer_as_documented(stack: RunningStack, tmp_path: Path) -> None:
    # schemathesis' stateful phase: it infers the links between operations from the document (a create's
    # `id` feeds the paths that name it) and runs chains of them, each step checked as above; a resource
    # must be readable once created and gone once deleted.
    tenant = make_tenant(stack, "schemathesis-stateful")
    checks = f"{CHECKS},ensure_resource_availability,use_after_free"
    _fuzz(
        stack,
        tenant.key,
        tmp_path,
        {},
        {},
        "--exclude-path-regex",
        "^/admin/",
        phases="stateful",
        checks=checks,
        max_examples=STATEFUL_EXAMPLES,
    )


def test_admin_routes_answer_as_documented(stack: RunningStack, tmp_path: Path) -> None:
    # A tenant and a key of its own, so that what the fuzzer changes (limits, names, revocations) touches
    # nothing another test uses; the bootstrap admin key's id is never offered.
    tenant = make_tenant(stack, "schemathesis-admin")
    with stack.admin() as admin:
        key_id = _ok(admin.get("/admin/keys", params={"tenant_id": tenant.id}))["data"][0]["id"]
    dictionaries = {"tenant_ids": [tenant.id], "key_ids": [key_id]}
    parameters = {
        "path.tenant_id": "tenant_ids",
        "body.tenant_id": "tenant_ids",
        "query.tenant_id": "tenant_ids",
        "path.key_id": "key_ids",
    }
    _fuzz(stack, stack.admin_key, tmp_path, dictionaries, parameters, "--include-path-regex", "^/admin/")


# An id no route could have made: a NUL byte (PostgreSQL refuses it in text), other control characters,
# and a lone UTF-8 continuation byte.
ODD_IDS = ("%00", "a%00b", "%01%1F%7F", "%C2")


def test_odd_bytes_in_path_ids_are_documented_client_errors(stack: RunningStack) -> None:
    tenant = make_tenant(stack, "odd-ids")
    document = httpx.get(f"{stack.gateway_url}/openapi.json").json()
    keys = {"/admin/": stack.admin_key, "/v1/": tenant.key}
    asked, wrong = 0, []
    with httpx.Client(base_url=stack.gateway_url, timeout=60) as http:
        for template, operations in document["paths"].items():
            if "{" not in template:
                continue
            key = next(key for prefix, key in keys.items() if template.startswith(prefix))
            for method, operation in operations.items():
                for odd in ODD_IDS:
                    path = re.sub(r"\{[^}]+\}", odd, template)
                    response = http.request(method, path, json={}, headers={"Authorization": f"Bearer {key}"})
                    asked += 1
                    status = response.status_code
                    if not 400 <= status < 500 or str(status) not in operation["responses"]:
                        wrong.append(f"{method.upper()} {path}: {status} {response.text[:200]}")
    assert asked >= len(ODD_IDS) * 40
    assert not wrong, "\n".join(wrong)
