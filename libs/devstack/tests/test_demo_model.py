"""The tiny demo model: exact tokenizer, chat template, assistant mask, determinism, atomic build."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tuneway.devstack import demo_model
from tuneway.devstack.demo_model import DEMO_MODEL_NAME, build_demo_model

TRICKY = [
    "Where is my parcel?",
    "  two leading spaces",
    "trailing spaces   ",
    "a  b   c    d",
    "\ttabs\t\tand\nnew\n\nlines\n",
    "\r\nwindows line ends\r\n",
    "MiXeD CaSe ÄÖÜ äöüß",
    "Grüße aus Köln, naïve café, ¿qué?",
    "日本語 中文 한국어 Ελληνικά",
    "emoji 🙂👍🏽 🇩🇪 ❤️ 📦",
    "\u200bzero width and \x00 control \x7f",
    "x" * 300,
    " ",
    "",
]
MESSAGES = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Where is my parcel?"},
    {"role": "assistant", "content": "It ships today."},
    {"role": "user", "content": "Thanks!"},
    {"role": "assistant", "content": "You are welcome.\nBye"},
]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_demo_model(tmp_path_factory.mktemp("models") / DEMO_MODEL_NAME)


@pytest.fixture(scope="module")
def tokenizer(model_dir: Path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(model_dir)


def _digests(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir())}


def test_files_are_a_complete_model(model_dir: Path) -> None:
    names = {p.name for p in model_dir.iterdir()}
    assert {"config.json", "generation_config.json", "model.safetensors", "tokenizer.json"} <= names
    assert "tokenizer_config.json" in names
    # No staging or trash siblings are left behind.
    assert [p.name for p in model_dir.parent.iterdir()] == [DEMO_MODEL_NAME]


@pytest.mark.parametrize("text", TRICKY)
def test_tokenizer_round_trips_exactly(tokenizer, text: str) -> None:
    ids = tokenizer.encode(text, add_special_tokens=False)
    assert tokenizer.decode(ids) == text
    assert tokenizer(text)["input_ids"] == ids  # no BOS or other token is added by default


def test_special_tokens(tokenizer) -> None:
    assert tokenizer.eos_token == "<|end|>"
    assert tokenizer.pad_token == "<|pad|>"
    assert tokenizer.bos_token is None
    for token in ("<|system|>", "<|user|>", "<|assistant|>", "<|end|>", "<|pad|>"):
        assert tokenizer.encode(token, add_special_tokens=False) == [tokenizer.convert_tokens_to_ids(token)]
    assert 2048 <= len(tokenizer) <= 4096


def test_chat_template(tokenizer) -> None:
    text = tokenizer.apply_chat_template(MESSAGES, tokenize=False)
    assert text == (
        "<|system|>\nBe brief.<|end|>\n<|user|>\nWhere is my parcel?<|end|>\n"
        "<|assistant|>\nIt ships today.<|end|>\n<|user|>\nThanks!<|end|>\n"
        "<|assistant|>\nYou are welcome.\nBye<|end|>\n"
    )
    prompt = tokenizer.apply_chat_template(MESSAGES[:2], tokenize=False, add_generation_prompt=True)
    assert prompt == "<|system|>\nBe brief.<|end|>\n<|user|>\nWhere is my parcel?<|end|>\n<|assistant|>\n"


def test_assistant_mask_covers_exactly_assistant_content_and_end(tokenizer) -> None:
    out = tokenizer.apply_chat_template(
        MESSAGES, return_assistant_tokens_mask=True, return_dict=True, tokenize=True
    )
    ids, mask = out["input_ids"], out["assistant_masks"]
    assert len(ids) == len(mask)
    expected: list[int] = []
    for message in MESSAGES:
        header = tokenizer.encode(f"<|{message['role']}|>\n", add_special_tokens=False)
        body = tokenizer.encode(message["content"] + "<|end|>", add_special_tokens=False)
        trailer = tokenizer.encode("\n", add_special_tokens=False)
        trained = 1 if message["role"] == "assistant" else 0
        expected += [0] * len(header) + [trained] * len(body) + [0] * len(trailer)
    assert mask == expected
    masked = [i for i, m in zip(ids, mask, strict=True) if m]
    assert tokenizer.decode(masked) == "It ships today.<|end|>You are welcome.\nBye<|end|>"


def test_config(model_dir: Path, tokenizer) -> None:
    config = json.loads((model_dir / "config.json").read_text())
    generation = json.loads((model_dir / "generation_config.json").read_text())
    end_id = tokenizer.convert_tokens_to_ids("<|end|>")
    assert config["architectures"] == ["LlamaForCausalLM"]
    assert config["vocab_size"] == len(tokenizer)
    assert config["eos_token_id"] == generation["eos_token_id"] == end_id
    assert config["tie_word_embeddings"] is False
    assert config["max_position_embeddings"] == 2048


def test_parameter_count(model_dir: Path) -> None:
    from safetensors.torch import load_file

    count = sum(tensor.numel() for tensor in load_file(model_dir / "model.safetensors").values())
    assert 500_000 <= count <= 5_000_000


def test_builds_are_byte_identical_across_processes(model_dir: Path, tmp_path: Path) -> None:
    # A second build in a fresh interpreter with another hash seed: nothing may depend on process state.
    src = Path(demo_model.__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(src), os.environ.get("PYTHONPATH", "")])}
    env["PYTHONHASHSEED"] = "12345"
    other = tmp_path / "other"
    subprocess.run(
        [sys.executable, "-m", "tuneway.devstack.demo_model", "--out", str(other)],
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert _digests(other) == _digests(model_dir)


def test_existing_model_is_kept(model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = _digests(model_dir)
    monkeypatch.setattr(demo_model, "_build_into", lambda _: pytest.fail("rebuilt an existing model"))
    assert build_demo_model(model_dir) == model_dir
    assert _digests(model_dir) == before


def _fake_build(directory: Path) -> None:
    (directory / "config.json").write_text("{}")
    (directory / "model.safetensors").write_text("new")


def test_broken_or_forced_directory_is_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo_model, "_build_into", _fake_build)
    out = tmp_path / DEMO_MODEL_NAME
    out.mkdir()
    (out / "model.safetensors").write_text("half written")  # an interrupted build without config.json
    build_demo_model(out)
    assert (out / "model.safetensors").read_text() == "new"
    (out / "model.safetensors").write_text("old")
    build_demo_model(out, force=True)
    assert (out / "model.safetensors").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == [DEMO_MODEL_NAME]


def test_failed_build_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(directory: Path) -> None:
        (directory / "config.json").write_text("{}")
        raise RuntimeError("disk full")

    monkeypatch.setattr(demo_model, "_build_into", explode)
    with pytest.raises(RuntimeError):
        build_demo_model(tmp_path / DEMO_MODEL_NAME)
    assert list(tmp_path.iterdir()) == []


def test_cli_default_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys) -> None:
    monkeypatch.setattr(demo_model, "_build_into", _fake_build)
    monkeypatch.setenv("TUNEWAY_DATA_DIR", str(tmp_path / "data"))
    assert demo_model.main([]) == 0
    expected = tmp_path / "data" / "models" / DEMO_MODEL_NAME
    assert capsys.readouterr().out.strip() == str(expected)
    assert (expected / "config.json").exists()


TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "The weather in a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]
CALL = {
    "id": "call_1",
    "type": "function",
    "function": {"name": "get_weather", "arguments": {"city": "Köln"}},
}
TOOL_TURNS = [
    {"role": "user", "content": "Weather in Köln?"},
    {"role": "assistant", "content": "", "tool_calls": [CALL]},
    {"role": "tool", "tool_call_id": "call_1", "content": '{"sky": "clear"}'},
    {"role": "assistant", "content": "Clear."},
]


def test_tools_are_described_in_the_system_turn(tokenizer) -> None:
    tools_text = (
        "# Tools\n\nYou may call one or more functions to assist with the user query. The functions are "
        "described in <tools></tools>:\n<tools>\n"
        + json.dumps(TOOLS[0], ensure_ascii=False)
        + "\n</tools>\n\n"
        "To call a function, answer with its name and arguments in <tool_call></tool_call> tags:\n"
        '<tool_call>{"name": <function-name>, "arguments": <args-json-object>}</tool_call>'
    )
    prompt = tokenizer.apply_chat_template(
        TOOL_TURNS[:1], tools=TOOLS, tokenize=False, add_generation_prompt=True
    )
    assert prompt == f"<|system|>\n{tools_text}<|end|>\n<|user|>\nWeather in Köln?<|end|>\n<|assistant|>\n"
    with_system = tokenizer.apply_chat_template(MESSAGES[:2], tools=TOOLS, tokenize=False)
    assert with_system.startswith(f"<|system|>\nBe brief.\n\n{tools_text}<|end|>\n<|user|>\n")


def test_calls_and_results_render_in_the_hermes_format_that_vllm_parses(tokenizer) -> None:
    from vllm.entrypoints.openai.chat_completion.protocol import ChatCompletionRequest
    from vllm.tool_parsers import ToolParserManager

    text = tokenizer.apply_chat_template(TOOL_TURNS, tools=TOOLS, tokenize=False)
    call = '<tool_call>{"name": "get_weather", "arguments": {"city": "Köln"}}</tool_call>'
    assert text.endswith(
        f"<|assistant|>\n{call}<|end|>\n<|tool|>\n"
        + '{"sky": "clear"}<|end|>\n<|assistant|>\nClear.<|end|>\n'
    )
    # What the model learns to write is what vLLM's hermes parser (INFERENCE_TOOL_PARSER) reads back.
    request = ChatCompletionRequest(model="m", messages=[], tools=TOOLS, tool_choice="auto")
    parser = ToolParserManager.get_tool_parser("hermes")(tokenizer, list(request.tools or ()))
    parsed = parser.extract_tool_calls(call, request)
    assert [(c.function.name, json.loads(c.function.arguments)) for c in parsed.tool_calls] == [
        ("get_weather", {"city": "Köln"})
    ]
    # Arguments that arrive as JSON text (the OpenAI wire format) render the same as parsed ones.
    as_text = {**CALL, "function": {**CALL["function"], "arguments": '{"city": "Köln"}'}}
    turns = [TOOL_TURNS[0], {"role": "assistant", "content": None, "tool_calls": [as_text]}]
    assert call in tokenizer.apply_chat_template(turns, tools=TOOLS, tokenize=False)


def test_the_assistant_mask_covers_tool_calls(tokenizer) -> None:
    out = tokenizer.apply_chat_template(
        TOOL_TURNS, tools=TOOLS, return_assistant_tokens_mask=True, return_dict=True, tokenize=True
    )
    masked = [i for i, m in zip(out["input_ids"], out["assistant_masks"], strict=True) if m]
    assert tokenizer.decode(masked) == (
        '<tool_call>{"name": "get_weather", "arguments": {"city": "Köln"}}</tool_call><|end|>Clear.<|end|>'
    )


def test_a_build_of_older_inputs_is_rebuilt(
    model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A build from before a template change: same files, another fingerprint (or none, built before stamps).
    stale = tmp_path / DEMO_MODEL_NAME
    stale.mkdir()
    for file in model_dir.iterdir():
        (stale / file.name).write_bytes(file.read_bytes())
    (stale / demo_model.STAMP_FILE).write_text('{"fingerprint": "older"}')
    built: list[Path] = []

    def build(directory: Path) -> None:
        built.append(directory)
        for file in model_dir.iterdir():
            (directory / file.name).write_bytes(file.read_bytes())

    monkeypatch.setattr(demo_model, "_build_into", build)
    assert build_demo_model(stale) == stale
    assert len(built) == 1 and demo_model.is_current(stale)
    assert build_demo_model(stale) == stale and len(built) == 1  # current now: kept
