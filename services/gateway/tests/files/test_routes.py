"""/v1/files through the whole app and the OpenAI SDK: round-trip, errors, limits, tenant isolation."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import openai
import pytest
from sqlalchemy import text

# The `gateway` and `start_gateway` fixtures come from this directory's conftest.
Gateway = Any

DATA = b'{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}\n'


def _stored(gateway: Gateway) -> list[Path]:
    root = gateway.settings.files_dir()
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


async def _rows(gateway: Gateway) -> int:
    async with gateway.services.db.connect() as connection:
        return int((await connection.execute(text("SELECT count(*) FROM files"))).scalar_one())


async def test_upload_list_retrieve_content_delete_with_the_sdk(gateway: Gateway) -> None:
    client = gateway.sdk(gateway.acme_key)
    created = await client.files.create(file=("notes.jsonl", DATA), purpose="assistants")
    assert created.object == "file" and created.id.startswith("file-") and len(created.id) == 29
    assert (created.filename, created.purpose, created.bytes) == ("notes.jsonl", "assistants", len(DATA))
    raw = (
        await gateway.app_client.get(f"/v1/files/{created.id}", headers=gateway.auth(gateway.acme_key))
    ).json()
    assert set(raw) == {
        "id", "object", "bytes", "created_at", "expires_at", "filename", "purpose", "status", "status_details"
    }  # fmt: skip

    assert (await client.files.retrieve(created.id)).model_dump() == created.model_dump()
    assert (await client.files.content(created.id)).content == DATA
    [path] = _stored(gateway)
    assert path.name == created.id and path.parent.name == "acme"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == hashlib.sha256(DATA).hexdigest()

    listed = await client.files.list()
    assert [f.id for f in listed.data] == [created.id]
    assert [f.id for f in (await client.files.list(purpose="batch")).data] == []

    deleted = await client.files.delete(created.id)
    assert (deleted.id, deleted.object, deleted.deleted) == (created.id, "file", True)
    assert _stored(gateway) == [] and await _rows(gateway) == 0
    with pytest.raises(openai.NotFoundError) as caught:
        await client.files.retrieve(created.id)
    assert caught.value.body == {  # type: ignore[comparison-overlap]
        "message": f"No such File object: {created.id}",
        "type": "invalid_request_error",
        "param": "file_id",
        "code": "file_not_found",
    }


async def test_pagination_follows_openai_cursor_rules(gateway: Gateway) -> None:
    client = gateway.sdk(gateway.acme_key)
    ids = [
        (await client.files.create(file=(f"f{i}.txt", b"x" * i), purpose="user_data")).id for i in range(5)
    ]
    # Same-second uploads are ordered by id within created_at, so compare against that order.
    records = sorted(
        [await client.files.retrieve(i) for i in ids], key=lambda f: (f.created_at, f.id), reverse=True
    )
    newest_first = [f.id for f in records]

    page = await client.files.list(limit=2)
    assert [f.id for f in page.data] == newest_first[:2] and page.has_more
    body = (await gateway.app_client.get("/v1/files?limit=2", headers=gateway.auth(gateway.acme_key))).json()
    assert body["first_id"] == newest_first[0] and body["last_id"] == newest_first[1]
    assert [f.id async for f in await client.files.list(limit=2)] == newest_first  # the SDK follows `after`
    ascending = await client.files.list(order="asc", after=newest_first[-1], limit=10)
    assert [f.id for f in ascending.data] == newest_first[::-1][1:] and not ascending.has_more

    response = await gateway.app_client.get(
        "/v1/files?after=file-nope", headers=gateway.auth(gateway.acme_key)
    )
    assert response.status_code == 400 and response.json()["error"]["param"] == "after"
    response = await gateway.app_client.get("/v1/files?limit=0", headers=gateway.auth(gateway.acme_key))
    assert response.status_code == 400 and response.json()["error"]["param"] == "limit"


async def test_another_tenants_file_is_not_found(gateway: Gateway) -> None:
    created = await gateway.sdk(gateway.acme_key).files.create(
        file=("a.txt", b"secret"), purpose="assistants"
    )
    other = gateway.sdk(gateway.globex_key)
    assert (await other.files.list()).data == []
    for call in (other.files.retrieve, other.files.content, other.files.delete):
        with pytest.raises(openai.NotFoundError):
            await call(created.id)
    assert len(_stored(gateway)) == 1


async def test_validating_an_unknown_or_foreign_file_is_404_like_retrieving_it(gateway: Gateway) -> None:
    """The validation report is a sub-resource of the file in the path: a missing one is 404, not 400."""
    foreign = await gateway.sdk(gateway.acme_key).files.create(file=("a.txt", b"x"), purpose="assistants")
    auth = gateway.auth(gateway.globex_key)
    for file_id in ("file-nope", foreign.id):
        retrieved = await gateway.app_client.get(f"/v1/files/{file_id}", headers=auth)
        validated = await gateway.app_client.get(f"/v1/files/{file_id}/validation", headers=auth)
        assert (retrieved.status_code, validated.status_code) == (404, 404), validated.text
        assert validated.json() == retrieved.json()
        assert validated.json()["error"] == {
            "message": f"No such File object: {file_id}",
            "type": "invalid_request_error",
            "param": "file_id",
            "code": "file_not_found",
        }


async def test_form_errors_name_the_field(gateway: Gateway) -> None:
    auth = gateway.auth(gateway.acme_key)
    post = gateway.app_client.post
    response = await post("/v1/files", files={"file": ("a.txt", b"x")}, headers=auth)
    assert response.status_code == 400
    assert response.json()["error"] == {
        "message": "Missing required parameter: 'purpose'.",
        "type": "invalid_request_error",
        "param": "purpose",
        "code": "missing_required_parameter",
    }
    response = await post("/v1/files", files={"file": ("a.txt", b"x")}, data={"purpose": "fun"}, headers=auth)
    assert response.status_code == 400 and response.json()["error"]["param"] == "purpose"
    assert "'fine-tune'" in response.json()["error"]["message"]
    response = await post("/v1/files", data={"purpose": "assistants"}, files={"x": ("a", b"")}, headers=auth)
    assert response.status_code == 400 and response.json()["error"]["param"] == "file"
    response = await post("/v1/files", json={"purpose": "assistants"}, headers=auth)
    assert response.status_code == 400
    response = await post(
        "/v1/files",
        files={"file": ("a.txt", b"x")},
        data={"purpose": "batch", "expires_after[anchor]": "created_at", "expires_after[seconds]": "3600"},
        headers=auth,
    )
    assert response.status_code == 400 and response.json()["error"]["param"] == "expires_after"
    response = await post("/v1/files", files={"file": ("a.txt", b"x")}, data={"purpose": "batch"})
    assert response.status_code == 401
    assert _stored(gateway) == [] and await _rows(gateway) == 0


async def test_filenames_lose_directories(gateway: Gateway) -> None:
    created = await gateway.sdk(gateway.acme_key).files.create(
        file=("../../etc/passwd", b"x"), purpose="assistants"
    )
    assert created.filename == "passwd"
    [path] = _stored(gateway)
    assert path.parent.parent == gateway.settings.files_dir()


@pytest.fixture
async def small_limits(start_gateway: Callable[..., Any]) -> AsyncIterator[Gateway]:
    """A gateway taking files up to 1000 bytes in bodies up to 3000 bytes."""
    async with start_gateway(max_file_bytes=1000, max_body_bytes=2000) as running:
        yield running


async def test_too_large_uploads_get_413_and_leave_nothing(small_limits: Gateway) -> None:
    gateway = small_limits
    client = gateway.sdk(gateway.acme_key)
    assert (await client.files.create(file=("ok.txt", b"x" * 1000), purpose="assistants")).bytes == 1000

    # Over the file limit but within the body limit: refused while the part streams in.
    with pytest.raises(openai.APIStatusError) as caught:
        await client.files.create(file=("big.txt", b"x" * 1001), purpose="assistants")
    assert caught.value.status_code == 413
    assert caught.value.body["param"] == "file"  # type: ignore[index]
    # Over the whole upload limit: refused by Content-Length before reading.
    with pytest.raises(openai.APIStatusError) as caught:
        await client.files.create(file=("huge.txt", b"x" * 5000), purpose="assistants")
    assert caught.value.status_code == 413

    # Chunked, with no Content-Length: cut off as the stream passes the limit.
    async def chunks() -> AsyncIterator[bytes]:
        yield b'--b\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nassistants\r\n'
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="s.txt"\r\n\r\n'
        for _ in range(20):
            yield b"y" * 200
        yield b"\r\n--b--\r\n"

    response = await gateway.app_client.post(
        "/v1/files",
        content=chunks(),
        headers={**gateway.auth(gateway.acme_key), "Content-Type": "multipart/form-data; boundary=b"},
    )
    assert response.status_code == 413
    assert [p.name for p in _stored(gateway)] == [(await client.files.list()).data[0].id]
    assert await _rows(gateway) == 1


async def test_fine_tune_upload_needs_the_trainer_and_keeps_nothing_without_it(gateway: Gateway) -> None:
    with pytest.raises(openai.InternalServerError) as caught:
        await gateway.sdk(gateway.acme_key).files.create(file=("d.jsonl", DATA), purpose="fine-tune")
    assert caught.value.status_code == 503
    assert caught.value.response.headers["Retry-After"] == "1"
    assert caught.value.body["code"] == "service_unavailable"  # type: ignore[index]
    assert _stored(gateway) == [] and await _rows(gateway) == 0


async def test_listing_pages_on_postgresql(start_gateway: Callable[..., Any], postgres_url: str) -> None:
    async with start_gateway(database_url=postgres_url) as gateway:
        client = gateway.sdk(gateway.acme_key)
        ids = {(await client.files.create(file=(f"{i}.txt", b"x"), purpose="batch")).id for i in range(3)}
        assert {f.id async for f in await client.files.list(limit=1)} == ids
        assert {f.id async for f in await client.files.list(limit=2, order="asc")} == ids


@pytest.mark.parametrize("odd", ["%00", "file-%00", "%ED%A0%80", "x" * 300])
async def test_odd_file_ids_are_404s_never_500s(gateway: Gateway, odd: str) -> None:
    headers = gateway.auth(gateway.acme_key)
    for method, path in (
        ("GET", f"/v1/files/{odd}"),
        ("GET", f"/v1/files/{odd}/content"),
        ("DELETE", f"/v1/files/{odd}"),
    ):
        response = await gateway.app_client.request(method, path, headers=headers)
        assert response.status_code == 404, (path, response.text)
    listed = await gateway.app_client.get(f"/v1/files?after={odd}", headers=headers)
    assert listed.status_code == 400 and listed.json()["error"]["param"] == "after"
