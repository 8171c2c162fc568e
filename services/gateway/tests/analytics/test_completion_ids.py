"""Completion ids carry a tag that verifies for their tenant only; the secret is generated once."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest

from tuneway.gateway.analytics.completion_ids import RESPONSE_PREFIX, CompletionIds, load_secret

IDS = CompletionIds(b"0123456789abcdef0123456789abcdef")


def test_an_id_is_openai_shaped_and_verifies_for_its_tenant_only() -> None:
    completion_id = IDS.new("acme")
    assert re.fullmatch(r"chatcmpl-[0-9a-f]{48}", completion_id)
    assert IDS.belongs_to(completion_id, "acme")
    assert not IDS.belongs_to(completion_id, "globex")
    assert IDS.new("acme") != completion_id


def test_a_response_id_is_openai_shaped_and_verifies_for_its_tenant_only() -> None:
    response_id = IDS.new("acme", RESPONSE_PREFIX)
    assert re.fullmatch(r"resp_[0-9a-f]{48}", response_id)
    assert IDS.belongs_to(response_id, "acme")
    assert not IDS.belongs_to(response_id, "globex")
    # The prefix is not part of what is signed, but only the two known prefixes are ids at all.
    assert not IDS.belongs_to("cmpl_" + response_id.removeprefix(RESPONSE_PREFIX), "acme")


def test_a_forged_or_foreign_id_does_not_verify() -> None:
    completion_id = IDS.new("acme")
    flipped = completion_id[:-1] + ("0" if completion_id[-1] != "0" else "1")
    other_secret = CompletionIds(b"another secret of 32 bytes......")
    for candidate in (flipped, completion_id[:-2], completion_id + "00", "chatcmpl-" + "0" * 48, "x", ""):
        assert not IDS.belongs_to(candidate, "acme"), candidate
    assert not other_secret.belongs_to(completion_id, "acme")
    # The tenant and the random part are separated: moving characters between them changes the tag.
    assert not IDS.belongs_to(completion_id, "acme" + completion_id[9])


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        CompletionIds(b"short")


def test_the_generated_secret_is_kept_owner_only_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "data" / "completion_id_secret"
    first = load_secret("", path)
    assert len(first) == 64 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_secret("", path) == first
    # Ids made before a restart still verify after it.
    made = CompletionIds(first).new("acme")
    assert CompletionIds(load_secret("", path)).belongs_to(made, "acme")
    assert load_secret("configured-secret-of-enough-bytes", path) == b"configured-secret-of-enough-bytes"
