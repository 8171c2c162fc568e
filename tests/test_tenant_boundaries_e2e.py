"""Tenant boundaries, generated from the gateway's /openapi.json (issue 14 §3).

Tenant A owns one resource of every kind a path names: a prompt with two versions and a label, an
experiment, an assistant, a knowledge base and its document, files, a finished batch, a fine-tuning job and
its adapter (one step on ten lines), both kinds of alias, a paused schedule, a query type. Then tenant B:
- for every operation whose path takes an id (every method, each value of an enumerated segment, streamed
  and not), sent with a body valid apart from whose resource it names, gets 404 in OpenAI's error envelope
  showing nothing of A's beyond what B itself sent;
- walks every list (a GET without path parameters whose answer has `data`) page by page, also filtered by
  A's names, and finds none of A's ids, names or its tenant id;
- gets 404 (or a 400 naming the field) for requests whose body names A's model, assistant, prompt, file,
  knowledge base, adapter or completion;
- may PUT a name A uses where names are per tenant (model aliases, query types): that makes B's own.
Last, A's every GET (each resource, each list but the time-windowed reports) reads as it did before B came.

A route added later is covered without editing this module unless its path names a parameter the table of A's
values does not know, or it takes a body the table of bodies lacks: then the first test fails and says which
value or body to add. /admin is out of scope (members get 403 there; the schemathesis module covers it).
The tests run in the order written: the last one compares with what A read before the first.
"""

from __future__ import annotations

import itertools
import json
import re
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.conftest import REPO_ROOT, RunningStack, Tenant, make_tenant

pytestmark = pytest.mark.e2e

BASE = "tuneway-tiny"
EMBEDDER = "all-MiniLM-L6-v2"
DATASET = REPO_ROOT / "examples" / "datasets" / "shop-support.jsonl"
TRAINING_LINES = 10  # the trainer's minimum; one epoch in one batch is a single step
TERMINAL = ("succeeded", "failed", "cancelled")
BATCH = {"endpoint": "/v1/embeddings", "completion_window": "24h"}
ARM_A = {"name": "a", "version": 1}

# Path parameters whose values are the same for every tenant: nothing of a tenant's to guard.
SHARED_PARAMETERS = {"template_id": "the built-in role templates"}
# Reports over a time window that ends now and fills in as analytics events arrive: they may differ between
# two reads for reasons of their own. B's reads of them are still checked for A's data.
TIME_WINDOWED = {"/v1/analytics/summary", "/v1/analytics/timeseries", "/v1/analytics/events"}
# Required query parameters, by name.
QUERY_VALUES = {"from_version": "1", "to_version": "2"}
# Upserts into the caller's own namespace: B's PUT makes B's own object of that name (200), never touches
# A's. Sent after every other attempt and the list walk, then deleted again.
OWN_NAMESPACE_UPSERTS = {("put", "/v1/model_aliases/{alias}"), ("put", "/v1/analytics/query_types/{name}")}

# A request body per operation, valid for that operation apart from whose resource the path names. Each
# entry builds the httpx keyword arguments of one or more requests from B's own resources; the operation
# is tried with each.
Body = Callable[["Intruder"], list[dict[str, Any]]]


def _json(body: dict[str, Any]) -> Body:
    return lambda _: [{"json": body}]


def _document(intruder: Intruder) -> list[dict[str, Any]]:
    text = ("notes.txt", b"Parcels ship within two days.")
    return [
        {"files": {"file": text}, "data": {"wait": "true"}},
        {"json": {"file_id": intruder.file_id, "wait": True}},
    ]


BODIES: dict[tuple[str, str], Body] = {
    ("put", "/v1/model_aliases/{alias}"): _json({"target": BASE}),
    ("post", "/v1/prompts/{name}/versions"): _json(
        {"messages": [{"role": "system", "content": "Be brief."}]}
    ),
    ("put", "/v1/prompts/{name}/labels/{label}"): _json({"version": 1}),
    ("post", "/v1/prompts/{name}/render"): _json({"variables": {}}),
    ("post", "/v1/experiments/{experiment_id}/promote"): _json({"variant": "b"}),
    ("post", "/v1/assistants/{name}"): _json({"description": "changed by another tenant"}),
    ("post", "/v1/knowledge_bases/{kb_id}/documents"): _document,
    ("put", "/v1/knowledge_bases/{kb_id}/documents/{document_id}"): _document,
    ("post", "/v1/knowledge_bases/{kb_id}/search"): _json({"query": "refund"}),
    # B owns no adapter version: whatever it names, 404 is the answer.
    ("put", "/v1/fine_tuning/aliases/{alias}"): lambda intruder: [
        {"json": {"target": intruder.foreign_model}}
    ],
    ("put", "/v1/analytics/query_types/{name}"): _json({"examples": ["where is my parcel"]}),
}


@dataclass
class Owner:
    """Tenant A, its resources' values by path parameter name, and the strings only A's data holds."""

    tenant: Tenant
    values: dict[str, str]
    tokens: set[str]
    completion_id: str
    batch_file_id: str
    before: dict[str, tuple[int, Any]] = field(default_factory=dict)


@dataclass
class Intruder:
    tenant: Tenant
    file_id: str
    foreign_model: str


def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, (
        f"{response.request.method} {response.request.url}: {response.text}"
    )
    return response.json()


def _http(stack: RunningStack, key: str) -> httpx.Client:
    return httpx.Client(base_url=stack.gateway_url, headers={"Authorization": f"Bearer {key}"}, timeout=120)


def _wait(http: httpx.Client, path: str, done: Callable[[dict[str, Any]], bool], timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = _ok(http.get(path))
        if done(found):
            return found
        time.sleep(0.5)
    raise AssertionError(f"{path} still {found} after {timeout} s")


def _document_paths(stack: RunningStack) -> dict[str, dict[str, Any]]:
    paths = httpx.get(f"{stack.gateway_url}/openapi.json").json()["paths"]
    return {template: operations for template, operations in paths.items() if template.startswith("/v1/")}


def _path_parameters(operation: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in operation.get("parameters", []) if p["in"] == "path"]


def _fill(template: str, values: dict[str, str]) -> str:
    return re.sub(r"\{([^}]+)\}", lambda m: quote(values[m.group(1)], safe=":"), template)


def _required_query(operation: dict[str, Any]) -> dict[str, str]:
    required = [
        p["name"] for p in operation.get("parameters", []) if p["in"] == "query" and p.get("required")
    ]
    return {name: QUERY_VALUES[name] for name in required}


def _json_or_text(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


@pytest.fixture(scope="module")
def owner(stack: RunningStack) -> Iterator[Owner]:
    """Tenant A with one resource of every kind, and its every GET read once before B tries anything."""
    tenant = make_tenant(stack, "boundary-a")
    tag = f"tb{secrets.token_hex(4)}"  # in every name A gives, so that B's lists can be searched for it
    name = f"{tag}-a"
    with _http(stack, tenant.key) as http:
        lines = DATASET.read_text().splitlines()[:TRAINING_LINES]
        training = ("train.jsonl", ("\n".join(lines) + "\n").encode())
        file_id = _ok(http.post("/v1/files", files={"file": training}, data={"purpose": "fine-tune"}))["id"]
        job = {
            "model": BASE,
            "training_file": file_id,
            "suffix": tag,
            "seed": 1,
            "hyperparameters": {"n_epochs": 1, "batch_size": TRAINING_LINES},
        }
        job_id = _ok(http.post("/v1/fine_tuning/jobs", json=job))["id"]

        # Everything else while the job trains.
        system = [{"role": "system", "content": "Answer in one word."}]
        _ok(http.post("/v1/prompts", json={"name": name, "messages": system}), 201)
        _ok(http.post(f"/v1/prompts/{name}/versions", json={"messages": system}), 201)
        variants = [{"name": "a", "version": 1, "weight": 1}, {"name": "b", "version": 2, "weight": 1}]
        experiment = {"name": f"{tag}-exp", "prompt": name, "variants": variants}
        experiment_id = _ok(http.post("/v1/experiments", json=experiment), 201)["id"]
        _ok(http.post("/v1/assistants", json={"name": name, "base_model": BASE, "prompt": name}), 201)
        kb_id = _ok(http.post("/v1/knowledge_bases", json={"name": f"{tag}-kb"}), 201)["id"]
        text = ("refunds.txt", f"Refunds for {tag} are paid within 14 days of the return.".encode())
        document = http.post(
            f"/v1/knowledge_bases/{kb_id}/documents", files={"file": text}, data={"wait": "true"}
        )
        document_id = _ok(document, 201)["id"]
        _ok(http.put(f"/v1/analytics/query_types/{name}", json={"examples": ["how do refunds work"]}))
        _ok(http.put(f"/v1/model_aliases/{name}", json={"target": f"assistant:{name}"}))
        chat = {"model": name, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 1}
        completion_id = _ok(http.post("/v1/chat/completions", json=chat))["id"]
        embedding = {"model": EMBEDDER, "input": "refunds"}
        line = {"custom_id": "one", "method": "POST", "url": "/v1/embeddings", "body": embedding}
        batch_input = {"file": ("requests.jsonl", (json.dumps(line) + "\n").encode())}
        batch_file_id = _ok(http.post("/v1/files", files=batch_input, data={"purpose": "batch"}))["id"]
        batch_id = _ok(http.post("/v1/batches", json={**BATCH, "input_file_id": batch_file_id}))["id"]
        # Fires on 1 January only, and paused: it never trains during the session.
        schedule = {"model": BASE, "cron": "0 0 1 1 *", "training_file": file_id, "suffix": tag}
        schedule_id = _ok(http.post("/v1/fine_tuning/schedules", json=schedule))["id"]
        _ok(http.post(f"/v1/fine_tuning/schedules/{schedule_id}/pause"))

        batch = _wait(http, f"/v1/batches/{batch_id}", lambda b: b["status"] in ("completed", "failed"), 120)
        assert batch["status"] == "completed", batch
        trained = _wait(http, f"/v1/fine_tuning/jobs/{job_id}", lambda j: j["status"] in TERMINAL, 240)
        assert trained["status"] == "succeeded", trained
        model = trained["fine_tuned_model"]
        _ok(http.put(f"/v1/fine_tuning/aliases/{name}", json={"target": model}))

    values = {
        "name": name,
        "alias": name,
        "version": "1",
        "label": "production",
        "experiment_id": experiment_id,
        "kb_id": kb_id,
        "document_id": document_id,
        "file_id": file_id,
        "batch_id": batch_id,
        "fine_tuning_job_id": job_id,
        "model": model,
        "schedule_id": schedule_id,
        "template_id": "",  # shared: never sent
    }
    ids = [experiment_id, kb_id, document_id, file_id, batch_file_id, batch_id, job_id, model, schedule_id]
    ids += [completion_id, batch["output_file_id"]]
    owned = Owner(tenant, values, {tenant.id, tag, *ids}, completion_id, batch_file_id)
    owned.before = _snapshot(stack, owned)
    yield owned


@pytest.fixture(scope="module")
def intruder(stack: RunningStack, owner: Owner) -> Intruder:
    """Tenant B, with a file of its own (for bodies that name one)."""
    tenant = make_tenant(stack, "boundary-b")
    with _http(stack, tenant.key) as http:
        text = ("notes.txt", b"Parcels ship within two days.")
        file_id = _ok(http.post("/v1/files", files={"file": text}, data={"purpose": "assistants"}))["id"]
    return Intruder(tenant, file_id, owner.values["model"])


def _snapshot(stack: RunningStack, owned: Owner) -> dict[str, tuple[int, Any]]:
    """A's every GET: each operation on A's resources and each list, as status and body."""
    read: dict[str, tuple[int, Any]] = {}
    with _http(stack, owned.tenant.key) as http:
        for template, operations in _document_paths(stack).items():
            operation = operations.get("get")
            if operation is None or template in TIME_WINDOWED:
                continue
            names = [p["name"] for p in _path_parameters(operation)]
            if any(n in SHARED_PARAMETERS for n in names) or any(n not in owned.values for n in names):
                continue
            path = _fill(template, owned.values)
            response = http.get(path, params=_required_query(operation))
            read[path] = (response.status_code, _json_or_text(response))
    return read


def _expanded(operation: dict[str, Any], values: dict[str, str]) -> Iterator[dict[str, str]]:
    """A's values for the operation's path: one per value of a parameter the document enumerates."""
    choices = []
    for parameter in _path_parameters(operation):
        enum = parameter.get("schema", {}).get("enum")
        choices.append([(parameter["name"], v) for v in enum] if enum else [(parameter["name"], None)])
    for combination in itertools.product(*choices):
        yield {**values, **{k: v for k, v in combination if v is not None}}


def _not_found(response: httpx.Response, owned: Owner, sent: str) -> str | None:
    """Why `response` is not the 404 a stranger's resource gets, or None; `sent` is what the request said."""
    if response.status_code != 404:
        return f"{response.status_code} {response.text[:300]}"
    error = response.json().get("error")
    if not isinstance(error, dict) or not isinstance(error.get("message"), str) or error.get("type") is None:
        return f"404 outside OpenAI's error envelope: {response.text[:300]}"
    if not {"param", "code"} <= set(error):
        return f"404 without param and code: {response.text[:300]}"
    # An error may repeat what the request said (an id in the path), never more of A's.
    if shown := sorted(t for t in owned.tokens if t in response.text and t not in sent):
        return f"404 showing A's {shown}: {response.text[:300]}"
    return None


def test_another_tenant_gets_404_on_every_operation_on_a_tenants_resource(
    stack: RunningStack, owner: Owner, intruder: Intruder
) -> None:
    unknown: list[str] = []
    wrong: list[str] = []
    tried = 0
    with _http(stack, intruder.tenant.key) as http:
        for template, operations in _document_paths(stack).items():
            for method, operation in operations.items():
                names = [p["name"] for p in _path_parameters(operation)]
                if not names or (method, template) in OWN_NAMESPACE_UPSERTS:
                    continue
                if all(n in SHARED_PARAMETERS for n in names):
                    continue
                missing = [n for n in names if n not in owner.values and not _enumerated(operation, n)]
                if missing:
                    unknown.append(f"{method.upper()} {template}: no value of A's for {missing}")
                    continue
                if "requestBody" in operation and (method, template) not in BODIES:
                    unknown.append(f"{method.upper()} {template}: no body in BODIES")
                    continue
                try:
                    query = _required_query(operation)
                except KeyError as caught:
                    unknown.append(f"{method.upper()} {template}: no value for query parameter {caught}")
                    continue
                queries = [query]
                if any(p["name"] == "stream" for p in operation.get("parameters", [])):
                    queries.append({**query, "stream": "true"})
                bodies = BODIES[(method, template)](intruder) if "requestBody" in operation else [{}]
                for values in _expanded(operation, owner.values):
                    path = _fill(template, values)
                    for params, body in itertools.product(queries, bodies):
                        response = http.request(method, path, params=params, **body)
                        tried += 1
                        sent = f"{path} {params} {json.dumps(body, default=str)}"
                        if (why := _not_found(response, owner, sent)) is not None:
                            wrong.append(f"{method.upper()} {path} {params or ''}: {why}")
    assert not unknown, "routes this module cannot try yet (add A's value or a body):\n" + "\n".join(unknown)
    assert not wrong, "another tenant's resource answered other than 404:\n" + "\n".join(wrong)
    assert tried >= 50, tried


def _enumerated(operation: dict[str, Any], name: str) -> bool:
    return any(p["name"] == name and "enum" in p.get("schema", {}) for p in _path_parameters(operation))


def _pages(http: httpx.Client, path: str, params: dict[str, str]) -> Iterator[httpx.Response]:
    """Every page of a list, following `next_cursor` or `has_more` with the last id."""
    params = dict(params)
    for _ in range(100):
        response = http.get(path, params=params)
        yield response
        if response.status_code != 200:
            return
        page = response.json()
        if page.get("next_cursor"):
            params["after"] = page["next_cursor"]
        elif page.get("has_more") and page.get("data"):
            params["after"] = page["data"][-1]["id"]
        else:
            return
    raise AssertionError(f"{path} has more than 100 pages")


_COMPONENTS: dict[str, Any] = {}


def _resolve(stack: RunningStack, schema: dict[str, Any]) -> dict[str, Any]:
    """A response schema with its top-level $ref followed."""
    if "$ref" not in schema:
        return schema
    if not _COMPONENTS:
        _COMPONENTS.update(httpx.get(f"{stack.gateway_url}/openapi.json").json()["components"]["schemas"])
    resolved: dict[str, Any] = _COMPONENTS[schema["$ref"].rsplit("/", 1)[-1]]
    return resolved


def test_list_endpoints_never_show_another_tenants_items(
    stack: RunningStack, owner: Owner, intruder: Intruder
) -> None:
    # Filters that name A's things are tried too: B's lists filtered by A's prompt, model or assistant.
    filters = {
        "prompt": owner.values["name"],
        "assistant": owner.values["name"],
        "model": owner.values["model"],
        "adapter": owner.values["model"],
        "name": owner.values["model"].split(":")[3],  # the adapter family: ft:<base>:<tenant>:<suffix>:<job>
    }
    lists, leaks = 0, []
    with _http(stack, intruder.tenant.key) as http:
        for template, operations in _document_paths(stack).items():
            operation = operations.get("get")
            if operation is None or _path_parameters(operation):
                continue
            schema = operation["responses"]["200"]["content"].get("application/json", {}).get("schema", {})
            if "data" not in json.dumps(_resolve(stack, schema)):
                continue
            query_names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
            tried_filters: list[dict[str, str]] = [{}] + [
                {k: v} for k, v in filters.items() if k in query_names
            ]
            for params in tried_filters:
                lists += 1
                for response in _pages(http, template, params):
                    # A filter naming A's resource may be refused as naming what B does not have.
                    if params and response.status_code == 404:
                        why = _not_found(response, owner, json.dumps(params))
                        leaks += [f"GET {template} {params}: {why}"] if why else []
                        continue
                    if response.status_code != 200:
                        leaks.append(f"GET {template} {params}: {response.status_code} {response.text[:200]}")
                        continue
                    found = sorted(t for t in owner.tokens if t in response.text)
                    if found:
                        leaks.append(f"GET {template} {params} shows {found}: {response.text[:500]}")
    assert not leaks, "another tenant's list shows A's data:\n" + "\n".join(leaks)
    assert lists >= 15, lists


def _refused(response: httpx.Response, owned: Owner, sent: str) -> str | None:
    """Why `response` is not a refusal (404, or 400 naming the field) showing nothing more of A's, or None."""
    if response.status_code == 404:
        return _not_found(response, owned, sent)
    if response.status_code != 400:
        return f"{response.status_code} {response.text[:300]}"
    if not response.json().get("error", {}).get("param"):
        return f"400 naming no field: {response.text[:300]}"
    if shown := sorted(t for t in owned.tokens if t in response.text and t not in sent):
        return f"400 showing A's {shown}: {response.text[:300]}"
    return None


def test_bodies_naming_another_tenants_resources_are_refused(
    stack: RunningStack, owner: Owner, intruder: Intruder
) -> None:
    """B's requests that name A's model, assistant, prompt, file, knowledge or completion in a body."""
    v = owner.values
    with _http(stack, intruder.tenant.key) as http:
        kb = _ok(http.post("/v1/knowledge_bases", json={"name": "b-kb"}), 201)["id"]
        text = ("parcels.txt", b"Parcels ship within two days; refunds take a week.")
        _ok(
            http.post(f"/v1/knowledge_bases/{kb}/documents", files={"file": text}, data={"wait": "true"}), 201
        )
        # B's own prompt (two versions) and assistant, for the updates and experiments that name A's.
        system = [{"role": "system", "content": "Brief."}]
        _ok(http.post("/v1/prompts", json={"name": "b-prompt", "messages": system}), 201)
        _ok(http.post("/v1/prompts/b-prompt/versions", json={"messages": system}), 201)
        _ok(
            http.post("/v1/assistants", json={"name": "b-own", "base_model": BASE, "prompt": "b-prompt"}), 201
        )
        chat = {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 1}
        assistant = {"name": "b-bot", "base_model": BASE, "prompt": "b-prompt"}
        foreign_knowledge = {"knowledge": {"knowledge_base_ids": [v["kb_id"]]}}
        schedule = {"model": BASE, "cron": "0 0 1 1 *"}
        arm_b = {"name": "b", "version": 2}
        attempts: list[tuple[str, str, dict[str, Any]]] = [
            ("post", "/v1/chat/completions", {**chat, "model": v["model"]}),
            ("post", "/v1/chat/completions", {**chat, "model": f"assistant:{v['name']}"}),
            ("post", "/v1/completions", {"model": v["model"], "prompt": "hi", "max_tokens": 1}),
            ("post", "/v1/responses", {"model": v["model"], "input": "hi", "max_output_tokens": 16}),
            ("post", "/v1/feedback", {"completion_id": owner.completion_id, "rating": 1, "scale": "1-5"}),
            ("post", "/v1/fine_tuning/jobs", {"model": BASE, "training_file": v["file_id"]}),
            ("post", "/v1/fine_tuning/jobs", {"model": v["model"], "training_file": intruder.file_id}),
            ("post", "/v1/fine_tuning/schedules", {**schedule, "training_file": v["file_id"]}),
            ("post", "/v1/batches", {**BATCH, "input_file_id": owner.batch_file_id}),
            ("post", f"/v1/knowledge_bases/{kb}/documents", {"file_id": v["file_id"], "wait": True}),
            ("post", "/v1/assistants", {**assistant, "prompt": v["name"]}),
            ("post", "/v1/assistants", {**assistant, "adapter": v["model"]}),
            ("post", "/v1/assistants", {**assistant, **foreign_knowledge}),
            ("post", "/v1/assistants/b-own", {"adapter": v["model"]}),
            ("post", "/v1/assistants/b-own", foreign_knowledge),
            ("post", "/v1/experiments", {"name": "b-exp", "prompt": v["name"], "variants": [ARM_A, arm_b]}),
            (
                "post",
                "/v1/experiments",
                {"name": "b-exp", "prompt": "b-prompt", "variants": [ARM_A, {**arm_b, "model": v["model"]}]},
            ),
            ("put", "/v1/model_aliases/b-alias", {"target": v["model"]}),
            ("put", "/v1/model_aliases/b-alias", {"target": f"assistant:{v['name']}"}),
        ]
        wrong = []
        for method, path, body in attempts:
            response = http.request(method, path, json=body)
            if (why := _refused(response, owner, json.dumps(body))) is not None:
                wrong.append(f"{method.upper()} {path} {body}: {why}")
        # A search of B's knowledge base filtered to A's document finds nothing of A's.
        search = {"query": "refunds", "document_ids": [v["document_id"]]}
        response = http.post(f"/v1/knowledge_bases/{kb}/search", json=search)
        if response.status_code == 200:
            if shown := sorted(t for t in owner.tokens if t in response.text and t != v["document_id"]):
                wrong.append(f"POST /v1/knowledge_bases/{kb}/search {search} shows A's {shown}")
        elif (why := _refused(response, owner, json.dumps(search))) is not None:
            wrong.append(f"POST /v1/knowledge_bases/{kb}/search {search}: {why}")
    assert not wrong, "a body naming another tenant's resource was not refused:\n" + "\n".join(wrong)


def test_upserts_into_a_name_another_tenant_uses_make_the_callers_own(
    stack: RunningStack, owner: Owner, intruder: Intruder
) -> None:
    """B's PUT of a name A uses makes B's object, which B then deletes; A's is checked in the next test."""
    paths = _document_paths(stack)
    with _http(stack, intruder.tenant.key) as http:
        for method, template in sorted(OWN_NAMESPACE_UPSERTS):
            assert method in paths[template], f"{method.upper()} {template} is gone from the document"
            path = _fill(template, owner.values)
            for body in BODIES[(method, template)](intruder):
                made = _ok(http.request(method, path, **body))
                assert owner.tenant.id not in json.dumps(made), made
            _ok(http.delete(path))


def test_the_owners_resources_are_unchanged_after_another_tenants_attempts(
    stack: RunningStack, owner: Owner, intruder: Intruder
) -> None:
    assert len(owner.before) >= 30, sorted(owner.before)
    assert all(status == 200 for status, _ in owner.before.values()), owner.before
    after = _snapshot(stack, owner)
    changed = [
        f"GET {path}:\n  before {owner.before[path]}\n  after  {after.get(path)}"
        for path in owner.before
        if after.get(path) != owner.before[path]
    ]
    assert not changed, "A's resources changed:\n" + "\n".join(changed)
