"""The prompt layer through the stack: prompts, a 50/50 experiment, variants, rollback and assistants,
driven with the OpenAI SDK and plain HTTP."""

from __future__ import annotations

import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import openai
import pytest

from tests.conftest import RunningStack, Tenant

pytestmark = pytest.mark.e2e
BASE = "tuneway-tiny"
BOT = "assistant:shop-bot"
HELLO = [{"role": "user", "content": "Where is my parcel?"}]
GERMAN = [{"role": "user", "content": "Guten Tag, wo ist meine Bestellung? Sie ist noch nicht angekommen."}]


def _version(english: str, german: str) -> dict[str, Any]:
    return {
        "messages": [{"role": "system", "content": english + " You help the customers of {{ company }}."}],
        "variables": [{"name": "company", "default": "Acme"}],
        "parameters": {"temperature": 0, "max_tokens": 2},
        "variants": [{"language": "de", "messages": [{"role": "system", "content": german}]}],
    }


def _http(stack: RunningStack, tenant: Tenant) -> httpx.Client:
    return httpx.Client(
        base_url=stack.gateway_url, headers={"Authorization": f"Bearer {tenant.key}"}, timeout=60
    )


def _ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def _served(completion: Any) -> dict[str, Any]:
    """The `tuneway` object the gateway adds to assistant responses."""
    served: dict[str, Any] = completion.model_extra["tuneway"]
    return served


@pytest.fixture(scope="module")
def shop(stack: RunningStack, acme: Tenant) -> dict[str, Any]:
    """Prompt `shop` with two versions, assistant `shop-bot`, and a running 50/50 experiment."""
    with _http(stack, acme) as http:
        _ok(http.post("/v1/prompts", json={"name": "shop", **_version("Version one.", "Version eins.")}), 201)
        _ok(
            http.post("/v1/prompts/shop/versions", json=_version("Version two, shorter.", "Version zwei.")),
            201,
        )
        assistant = {"name": "shop-bot", "base_model": BASE, "prompt": "shop", "channels": ["web", "app"]}
        _ok(http.post("/v1/assistants", json=assistant), 201)
        experiment = _ok(
            http.post(
                "/v1/experiments",
                json={
                    "name": "shorter prompt",
                    "prompt": "shop",
                    "variants": [
                        {"name": "a", "version": 1, "weight": 1},
                        {"name": "b", "version": 2, "weight": 1},
                    ],
                },
            ),
            201,
        )
        assert _ok(http.post(f"/v1/experiments/{experiment['id']}/start"))["status"] == "running"
    return experiment


def test_assistant_is_a_model_that_renders_then_generates(
    stack: RunningStack, acme: Tenant, shop: Any
) -> None:
    client = stack.client(acme.key)
    assert BOT in [m.id for m in client.models.list().data]
    assert client.models.retrieve(BOT).id == BOT
    plain = client.chat.completions.create(model=BASE, messages=HELLO, max_tokens=2)
    bot = client.chat.completions.create(model=BOT, messages=HELLO, user="user-x")
    served = _served(bot)
    assert bot.model == BOT and served["assistant"] == "shop-bot" and served["model"] == BASE
    assert served["experiment"] == shop["id"] and served["experiment_variant"] in ("a", "b")
    assert served["prompt_version"] == {"a": 1, "b": 2}[served["experiment_variant"]]
    # The rendered system prompt reached the engine, and the prompt's max_tokens applied.
    assert bot.usage is not None and plain.usage is not None
    assert bot.usage.prompt_tokens > plain.usage.prompt_tokens + 5
    assert bot.usage.completion_tokens <= 2


def test_users_split_within_binomial_bounds_and_stick(stack: RunningStack, acme: Tenant, shop: Any) -> None:
    client = stack.client(acme.key)
    users = [f"customer-{i}" for i in range(400)]

    def variant(user: str) -> tuple[str, int]:
        served = _served(client.chat.completions.create(model=BOT, messages=HELLO, user=user, max_tokens=1))
        return served["experiment_variant"], served["prompt_version"]

    with ThreadPoolExecutor(8) as pool:
        first = dict(zip(users, pool.map(variant, users), strict=True))
        again = dict(zip(users[:100], pool.map(variant, users[:100]), strict=True))
    counts = Counter(v for v, _ in first.values())
    # 99.9% interval of Binomial(400, 0.5): 200 +- 3.29 * 10.
    assert 200 - 33 <= counts["a"] <= 200 + 33, counts
    assert {v: n for v, n in first.values()} == {"a": 1, "b": 2}
    assert all(again[user] == first[user] for user in again)
    # Without a user, the conversation id is the sticky unit.
    conversation = {
        _served(
            client.chat.completions.create(
                model=BOT, messages=HELLO, metadata={"conversation_id": "c-7"}, max_tokens=1
            )
        )["experiment_variant"]
        for _ in range(4)
    }
    assert len(conversation) == 1


def test_german_messages_pick_the_german_variant(stack: RunningStack, acme: Tenant, shop: Any) -> None:
    client = stack.client(acme.key)
    german = _served(client.chat.completions.create(model=BOT, messages=GERMAN, user="u-de"))
    assert (german["variant"], german["language"]) == ("de", "de")
    english = _served(client.chat.completions.create(model=BOT, messages=HELLO, user="u-de"))
    assert english["variant"] == "default"
    told = _served(
        client.chat.completions.create(model=BOT, messages=HELLO, user="u-de", metadata={"language": "de"})
    )
    assert told["variant"] == "de"
    # A channel the assistant does not serve is refused, naming the field.
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model=BOT, messages=HELLO, metadata={"channel": "voice"})
    assert caught.value.body["param"] == "metadata.channel"  # type: ignore[index]


def test_streaming_says_what_served_it(stack: RunningStack, acme: Tenant, shop: Any) -> None:
    body = {"model": BOT, "messages": HELLO, "stream": True, "user": "streamer"}
    with _http(stack, acme) as http, http.stream("POST", "/v1/chat/completions", json=body) as response:
        assert response.status_code == 200
        assert response.headers["x-tuneway-experiment"] == shop["id"]
        version = response.headers["x-tuneway-prompt-version"]
        events = [line.removeprefix("data: ") for line in response.iter_lines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    first = json.loads(events[0])
    assert first["model"] == BOT and str(first["tuneway"]["prompt_version"]) == version
    assert all("tuneway" not in json.loads(e) for e in events[1:-1])
    chunks = list(
        stack.client(acme.key).chat.completions.create(
            model=BOT, messages=HELLO, stream=True, user="streamer"
        )
    )
    assert str(chunks[0].model_extra["tuneway"]["prompt_version"]) == version


def test_promotion_and_rollback_change_the_served_version(
    stack: RunningStack, acme: Tenant, shop: Any
) -> None:
    client = stack.client(acme.key)

    def served_version() -> int:
        return int(
            _served(client.chat.completions.create(model=BOT, messages=HELLO, user="u-rollback"))[
                "prompt_version"
            ]
        )

    with _http(stack, acme) as http:
        promoted = _ok(http.post(f"/v1/experiments/{shop['id']}/promote", json={"variant": "b"}))
        assert (promoted["status"], promoted["prompt_labels"]) == ("completed", {"production": 2})
        assert served_version() == 2
        assert _served(client.chat.completions.create(model=BOT, messages=HELLO))["experiment"] is None
        rolled = _ok(http.put("/v1/prompts/shop/labels/production", json={"version": 1}))
        assert rolled["previous_version"] == 2
        assert served_version() == 1
        _ok(http.put("/v1/prompts/shop/labels/production", json={"version": 2}))
        assert served_version() == 2


def test_missing_variables_and_template_escapes_are_400s(stack: RunningStack, acme: Tenant) -> None:
    client = stack.client(acme.key)
    with _http(stack, acme) as http:
        greeting = {
            "name": "greeting",
            "messages": [
                {
                    "role": "system",
                    "content": "Greet {{ customer }} by name. {{ ''[field] if field else '' }}",
                }
            ],
            "variables": [{"name": "customer"}, {"name": "field", "default": ""}],
        }
        _ok(http.post("/v1/prompts", json=greeting), 201)
        _ok(
            http.post("/v1/assistants", json={"name": "greeter", "base_model": BASE, "prompt": "greeting"}),
            201,
        )
        unsafe = http.post(
            "/v1/prompts",
            json={
                "name": "escape",
                "messages": [{"role": "system", "content": "{{ cycler.__init__.__globals__ }}"}],
            },
        )
        assert unsafe.status_code == 400
        assert (unsafe.json()["error"]["param"], unsafe.json()["error"]["code"]) == (
            "messages[0].content",
            "unsafe_template",
        )
        unknown_model = http.post(
            "/v1/assistants", json={"name": "ghost", "base_model": "no-such-model", "prompt": "greeting"}
        )
        assert unknown_model.status_code == 400 and unknown_model.json()["error"]["param"] == "base_model"
        arms = [{"name": "a", "version": 1}, {"name": "b", "version": 1, "model": "ft:nope"}]
        bad_arm = http.post("/v1/experiments", json={"name": "x", "prompt": "greeting", "variants": arms})
        assert bad_arm.status_code == 400 and bad_arm.json()["error"]["param"] == "variants[1].model"

    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="assistant:greeter", messages=HELLO, max_tokens=1)
    error = caught.value.body
    assert (error["param"], error["code"]) == ("variables.customer", "missing_variable")  # type: ignore[index]
    assert "'customer'" in error["message"]  # type: ignore[index]
    ok = client.chat.completions.create(
        model="assistant:greeter", messages=HELLO, max_tokens=1, extra_body={"variables": {"customer": "Ada"}}
    )
    assert _served(ok)["prompt"] == "greeting"
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model="assistant:greeter",
            messages=HELLO,
            max_tokens=1,
            extra_body={"variables": {"customer": "Ada", "field": "__class__"}},
        )
    assert caught.value.body["code"] == "unsafe_template"  # type: ignore[index]


def test_another_tenant_sees_none_of_it(stack: RunningStack, acme: Tenant, globex: Tenant, shop: Any) -> None:
    client = stack.client(globex.key)
    assert not [m.id for m in client.models.list().data if m.id.startswith("assistant:")]
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model=BOT, messages=HELLO)
    with _http(stack, globex) as http:
        assert _ok(http.get("/v1/prompts"))["data"] == []
        assert _ok(http.get("/v1/experiments"))["data"] == []
        assert _ok(http.get("/v1/assistants"))["data"] == []
        assert http.get("/v1/prompts/shop").status_code == 404
        assert http.get(f"/v1/experiments/{shop['id']}").status_code == 404
        assert http.put("/v1/prompts/shop/labels/production", json={"version": 1}).status_code == 404
        # The same names are free in this tenant.
        _ok(http.post("/v1/prompts", json={"name": "shop", "template": "retail_fashion"}), 201)
        _ok(http.post("/v1/assistants", json={"name": "shop-bot", "base_model": BASE, "prompt": "shop"}), 201)
    mine = _served(client.chat.completions.create(model=BOT, messages=HELLO, max_tokens=1))
    assert (mine["prompt_version"], mine["experiment"]) == (1, None)
    with _http(stack, acme) as http:
        assert [p["name"] for p in _ok(http.get("/v1/prompts"))["data"]].count("shop") == 1
        assert _ok(http.get("/v1/prompts/shop"))["template"] is None


def test_operations_show_the_prompt_service(stack: RunningStack) -> None:
    with httpx.Client(base_url=stack.gateway_url) as http:
        assert http.get("/readyz").json()["checks"]["prompt"] is True
        paths = http.get("/openapi.json").json()["paths"]
    assert {"/v1/prompts", "/v1/experiments", "/v1/assistants", "/v1/prompt_templates"} <= set(paths)
