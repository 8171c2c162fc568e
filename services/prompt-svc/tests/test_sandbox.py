"""The template sandbox and variant/arm selection, without network or database."""

from __future__ import annotations

import time

import pytest

from tuneway.core.errors import InvalidArgumentError
from tuneway.prompt_svc.domain import ExperimentArm, Variant
from tuneway.prompt_svc.sandbox import Limits, PromptSandbox, compile_template
from tuneway.prompt_svc.selection import assign_arm, bucket, variant_chain

LIMITS = Limits(max_output_chars=10_000, max_steps=10_000, timeout_seconds=0.5)


def render(source: str, **variables: object) -> str:
    return compile_template(PromptSandbox(LIMITS), source, "t").render(dict(variables), LIMITS)


def refused(source: str, **variables: object) -> InvalidArgumentError:
    with pytest.raises(InvalidArgumentError) as caught:
        render(source, **variables)
    return caught.value


def test_ordinary_templates_render() -> None:
    assert (
        render("Hi {{ name|title }}{% for i in range(3) %} {{ i }}{% endfor %}", name="ada") == "Hi Ada 0 1 2"
    )
    assert render("{{ '{} and {}'.format(a, b) }} {{ 'n=%d' % 3 }}", a=1, b=2) == "1 and 2 n=3"
    joined = "{% set ns = namespace(t='') %}{% for c in 'abc' %}{% set ns.t = ns.t ~ c %}{% endfor %}"
    assert render(joined + "{{ ns.t }}") == "abc"


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ x['__class__'] }}",
        "{{ self._TemplateReference__context }}",
    ],
)
def test_python_internals_are_refused_before_running(source: str) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        compile_template(PromptSandbox(LIMITS), source, "messages[0].content")
    assert (caught.value.code, caught.value.param) == ("unsafe_template", "messages[0].content")


def test_internals_reached_through_data_are_refused_while_running() -> None:
    assert refused("{{ x[y] }}", x="", y="__class__").code == "unsafe_template"
    assert refused("{{ x[y].mro() }}", x=str, y="__base__").code == "unsafe_template"


@pytest.mark.parametrize(
    "source",
    [
        "{{ 'a' * 100000000 }}",
        "{{ [1] * 100000000 }}",
        "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}",
        "{% set ns = namespace(a='x') %}{% for i in range(40) %}{% set ns.a = ns.a ~ ns.a %}{% endfor %}",
        "{% macro f(n) %}{% if n %}{{ f(n-1) }}{{ f(n-1) }}{% endif %}{% endmacro %}{{ f(40) }}",
        "{{ '%0999999999d' % 1 }}",
        "{{ '{:>999999999}'.format(1) }}",
        "{{ (2 ** 4096) ** 4096 }}",
        "{% for i in range(3000) %}{{ 'abcd' }}{% endfor %}",
    ],
)
def test_work_time_and_size_are_bounded(source: str) -> None:
    started = time.perf_counter()
    assert refused(source).code == "render_limit_exceeded"
    assert time.perf_counter() - started < 1.0


def test_missing_and_unknown_names() -> None:
    assert refused("{{ nope }}").code == "missing_variable"
    with pytest.raises(InvalidArgumentError) as caught:
        compile_template(PromptSandbox(LIMITS), "{{ x|center(5) }}", "output_style")
    assert caught.value.param == "output_style"


def test_variant_chain_prefers_language_then_channel_then_tone() -> None:
    variants = [
        Variant(channel="web"),
        Variant(language="de"),
        Variant(language="de", channel="web"),
        Variant(tone="formal"),
    ]
    assert variant_chain(variants, "de", "web", "formal") == [2, 1, 0, 3]
    assert variant_chain(variants, "de", "app", "") == [1]
    assert variant_chain(variants, "en", "web", "") == [0]
    assert variant_chain(variants, "en", "", "") == []


def test_assignment_is_deterministic_and_weighted() -> None:
    arms = [ExperimentArm("a", 1, weight=3), ExperimentArm("b", 2, weight=1)]
    assert bucket("exp_1", "user-1") == bucket("exp_1", "user-1")
    assert bucket("exp_1", "user-1") != bucket("exp_2", "user-1")
    picks = [assign_arm("exp_1", f"u{i}", arms).name for i in range(4000)]
    assert 0.72 < picks.count("a") / len(picks) < 0.78
