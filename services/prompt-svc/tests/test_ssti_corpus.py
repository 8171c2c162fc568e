"""Server-side template injection: classic Jinja2 sandbox escapes, reprs and resource bombs written into
a prompt version and rendered over gRPC, as a user's template is. Each is refused with a clear 400
(at creation or at render), or renders inert: no Python object reprs, file contents or environment
values in the output, and the replica's memory stays bounded."""

from __future__ import annotations

import os
import resource
import uuid
from dataclasses import dataclass
from typing import Any

import grpc
import pytest

from tuneway.api.prompt.v1 import prompt_pb2 as pb
from tuneway.core.errors import InvalidArgumentError, from_rpc_error

pytestmark = pytest.mark.integration

# A value only this process's environment holds: it must never reach a rendered prompt.
CANARY = f"canary-{uuid.uuid4().hex}"
os.environ["TUNEWAY_SSTI_CANARY"] = CANARY
# Signs of a leak: Python reprs, /etc/passwd, the environment.
LEAKS = (
    "<class",
    "<function",
    "<built-in",
    "<bound",
    "<generator",
    " object at 0x",
    "<Macro",
    "<Namespace",
    "<TemplateReference",
    "<LoopContext",
    "<module",
    "dict_items",
    "root:",
    CANARY,
    "PATH=",
)
# How much the replica's peak resident memory may grow while one payload renders (bombs ask for GBs).
MEMORY_HEADROOM_KB = 200 * 1024
ESCAPE = "unsafe_template"
LIMIT = "render_limit_exceeded"
SYNTAX = "template_syntax_error"


@dataclass(frozen=True)
class Payload:
    """A hostile template and the error code it must get (None: it renders, and must render inert)."""

    name: str
    template: str
    code: str | None


PAYLOADS = [
    # Attribute walks to Python internals.
    Payload("mro-subclasses", "{{ ''.__class__.__mro__[1].__subclasses__() }}", ESCAPE),
    Payload("globals-builtins", "{{ x.__init__.__globals__['__builtins__'] }}", ESCAPE),
    Payload("cycler-globals-os", "{{ cycler.__init__.__globals__.os.popen('id').read() }}", ESCAPE),
    Payload("joiner-globals", "{{ joiner.__init__.__globals__ }}", ESCAPE),
    Payload("namespace-init", "{{ namespace.__init__.__globals__.sys.modules }}", ESCAPE),
    Payload("template-reference-context", "{{ self._TemplateReference__context }}", ESCAPE),
    Payload("self-dict", "{{ self.__dict__ }}", ESCAPE),
    Payload("item-lookup-class", "{{ x['__class__'] }}", ESCAPE),
    Payload("hex-escaped-name", "{{ x['\\x5f\\x5fclass\\x5f\\x5f'] }}", ESCAPE),
    Payload("unicode-escaped-name", "{{ x['\\u005f\\u005fclass\\u005f\\u005f'] }}", ESCAPE),
    Payload("name-built-at-run-time", "{{ x[('_' * 2) ~ 'class' ~ ('_' * 2)] }}", ESCAPE),
    Payload("name-joined-with-a-variable", "{{ x[x[:0] ~ '__cla' ~ 'ss__'] }}", ESCAPE),
    Payload("attr-filter-hex", "{{ x|attr('\\x5f\\x5fclass\\x5f\\x5f') }}", SYNTAX),
    Payload("attr-filter-context", "{{ self|attr('_TemplateReference__context') }}", SYNTAX),
    Payload("mro-method", "{{ dict.mro() }}", ESCAPE),
    Payload("format-attribute-walk", "{{ '{0.__class__.__mro__}'.format(x) }}", ESCAPE),
    Payload("format-map-walk", "{{ '{a.__class__}'.format_map({'a': x}) }}", ESCAPE),
    # Server objects Flask-style payloads look for, and Jinja's default globals.
    Payload("config", "{{ config.items() }}", "undeclared_variable"),
    Payload("request-environ", "{{ request.environ }}", "undeclared_variable"),
    Payload("lipsum-globals", "{{ lipsum.__globals__['os'].environ }}", ESCAPE),
    Payload("url-for", "{{ url_for.__globals__ }}", ESCAPE),
    # Objects whose text would be a Python repr.
    Payload("global-class-repr", "{{ cycler }}", ESCAPE),
    Payload("instance-repr", "{{ joiner() }}", ESCAPE),
    Payload("namespace-repr", "{{ namespace(secret=1) }}", ESCAPE),
    Payload("function-repr", "{{ range }}", ESCAPE),
    Payload("template-reference-repr", "{{ self }}", ESCAPE),
    Payload("loop-repr", "{% for i in [1] %}{{ loop }}{% endfor %}", ESCAPE),
    Payload("macro-repr", "{% macro m() %}{% endmacro %}{{ m }}", ESCAPE),
    Payload("bound-method-repr", "{{ x.upper }}", ESCAPE),
    Payload("repr-via-string-filter", "{{ cycler|string }}", ESCAPE),
    Payload("repr-via-concat", "{{ dict ~ '' }}", ESCAPE),
    Payload("repr-via-percent", "{{ '%s' % namespace }}", ESCAPE),
    Payload("repr-via-format", "{{ '{}'.format(cycler) }}", ESCAPE),
    Payload("repr-via-format-field", "{{ '{0.upper}'.format(x) }}", ESCAPE),
    Payload("repr-via-join", "{{ [joiner]|join }}", ESCAPE),
    Payload("repr-via-map-string", "{{ [cycler]|map('string')|join }}", ESCAPE),
    Payload("generator-repr", "{{ [1, 2]|map('string') }}", ESCAPE),
    Payload("encode-bytes", "{{ x.encode() }}", ESCAPE),
    Payload("int-to-bytes-bomb", "{{ (1).to_bytes(1000000000, 'big') }}", ESCAPE),
    # Other templates and files.
    Payload("include-file", "{% include '/etc/passwd' %}", SYNTAX),
    Payload("import-module", "{% import 'os' as os %}{{ os.environ }}", SYNTAX),
    Payload("extends-file", "{% extends '/etc/passwd' %}", SYNTAX),
    Payload("from-import", "{% from '/proc/self/environ' import x %}", SYNTAX),
    # Work, time and memory.
    Payload("huge-range", "{{ range(1000000000)|length }}", "template_error"),
    Payload(
        "nested-loops",
        "{% for i in range(60000) %}{% for j in range(60000) %}{% endfor %}{% endfor %}",
        LIMIT,
    ),
    Payload(
        "set-doubling-loop",
        "{% set ns = namespace(a='x') %}{% for i in range(64) %}{% set ns.a = ns.a ~ ns.a %}{% endfor %}",
        LIMIT,
    ),
    Payload("string-multiplication", "{{ 'x' * 1000000000 }}", LIMIT),
    Payload("list-of-long-strings-printed", "{{ ['x' * 60000] * 60000 }}", LIMIT),
    Payload("replace-chain", "{{ 'x'" + "|replace('x', 'xxxxxxxxxx')" * 9 + " }}", LIMIT),
    Payload("join-with-a-long-separator", "{{ range(60000)|join('x' * 60000) }}", LIMIT),
    Payload("batch-fill", "{{ [1]|batch(1000000000, 'x')|list }}", LIMIT),
    Payload("slice-count", "{{ [1]|slice(1000000000)|list }}", LIMIT),
    Payload("tojson-indent", "{{ [[1]]|tojson(indent=100000000) }}", LIMIT),
    Payload("center-width", "{{ x.center(10000000000000) }}", LIMIT),
    Payload("str-replace-method", "{{ ('x' * 60000).replace('x', 'x' * 60000) }}", LIMIT),
    Payload("format-repeats-a-field", "{{ ('{0}' * 10000).format('x' * 60000) }}", LIMIT),
    Payload("percent-repeats-an-argument", "{{ ('%s' * 10000) % (('x' * 60000,) * 10000) }}", LIMIT),
    Payload("format-width", "{{ '{:>999999999}'.format(x) }}", LIMIT),
    Payload("percent-width", "{{ '%0999999999d' % 1 }}", LIMIT),
    Payload("power-tower", "{{ (2 ** 4096) ** 4096 }}", LIMIT),
    Payload(
        "list-extend-doubling",
        "{% set l = [1] %}{% for i in range(64) %}{{ l.extend(l) }}{% endfor %}",
        LIMIT,
    ),
    Payload("fromkeys-printed", "{{ dict.fromkeys(range(60000), 'x' * 60000) }}", LIMIT),
    Payload(
        "macro-fork-bomb",
        "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(60) }}",
        LIMIT,
    ),
    Payload(
        "macro-infinite-recursion", "{% macro r(n) %}{{ r(n + 1) }}{% endmacro %}{{ r(0) }}", "template_error"
    ),
    # Inert: these render, and what they render names nothing of the server.
    Payload("cycler-used-as-meant", "{% set c = cycler('a', 'b') %}{{ c.next() }}{{ c.next() }}", None),
    Payload("self-referencing-list", "{% set l = [] %}{% set _ = l.append(l) %}{{ l|length }}", None),
    Payload("dict-items-as-a-list", "{{ dict(a=1)|items|list }}", None),
    Payload("numbers-joined-within-the-limit", "{{ range(10000)|join(',')|length }}", None),
    Payload(
        "format-as-meant", "{{ '{} and {}'.format(x, 1) }} {{ 'n=%d' % 3 }} {{ [x]|map('upper')|join }}", None
    ),
]


@pytest.fixture
def db_url(sqlite_url: str) -> str:
    """The sandbox does not depend on the store: SQLite only."""
    return sqlite_url


def test_the_corpus_has_at_least_25_escapes() -> None:
    names = [payload.name for payload in PAYLOADS]
    assert len(set(names)) == len(names) and len([p for p in PAYLOADS if p.code]) >= 25


@pytest.mark.parametrize("payload", PAYLOADS, ids=[payload.name for payload in PAYLOADS])
async def test_template_injection_is_refused_or_inert(
    stub: Any, tenant: str, rpc_error: Any, payload: Payload
) -> None:
    spec = pb.PromptSpec(
        messages=[pb.MessageTemplate(role="system", content=payload.template)],
        variables=[pb.Variable(name="x", default="abc")],
    )
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        await stub.CreatePrompt(pb.CreatePromptRequest(tenant_id=tenant, name="hostile", spec=spec))
    except grpc.aio.AioRpcError as caught:
        # Refused when the version is created: nothing was stored that could ever render.
        error = from_rpc_error(caught)
        assert isinstance(error, InvalidArgumentError) and error.code == payload.code, (
            error.code,
            error.message,
        )
        assert error.param == "messages[0].content" and not any(leak in error.message for leak in LEAKS)
        return
    request = pb.RenderPromptRequest(tenant_id=tenant, prompt="hostile", variables={"x": "abc"})
    if payload.code is None:
        rendered = (await stub.RenderPrompt(request)).messages[0].content
        assert not any(leak in rendered for leak in LEAKS), rendered
    else:
        error = await rpc_error(stub.RenderPrompt(request))
        assert isinstance(error, InvalidArgumentError) and error.code == payload.code, (
            error.code,
            error.message,
        )
        assert not any(leak in error.message for leak in LEAKS), error.message
    # The replica serves in this process: its peak memory shows what the render built.
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before < MEMORY_HEADROOM_KB
