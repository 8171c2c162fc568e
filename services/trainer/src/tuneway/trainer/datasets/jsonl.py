"""JSONL readers: OpenAI chat examples ({"messages": [...]}) and prompt/completion pairs."""

from __future__ import annotations

import json
import re
from typing import Any

from tuneway.trainer.datasets.records import ROLES, ReadResult, Record
from tuneway.trainer.datasets.report import IssueLog

CHAT, PROMPT_COMPLETION = "chat", "prompt_completion"
_ARRAY_HINT = "; the file must hold one JSON object per line (JSONL), not a JSON array"
# Tokenizers cannot encode an unpaired UTF-16 surrogate ("\ud800" is valid JSON but not text).
_SURROGATE = re.compile("[\ud800-\udfff]")
# How much of a wrong value an error message repeats: a 10 MB "role" must not make a 10 MB report.
_SHOWN_CHARS = 40


class _DuplicateKeyError(ValueError):
    """An object names a key twice: JSON parsers disagree on which value wins, so the line is ambiguous."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise _DuplicateKeyError(f"duplicate key {_shown(key)} in an object")
        obj[key] = value
    return obj


def read_jsonl(text: str, log: IssueLog) -> ReadResult:
    """Parses every line; the first JSON object decides whether the file is chat or prompt/completion."""
    kind = ""
    records: list[Record] = []
    seen = 0
    for number, raw in enumerate(text.split("\n"), start=1):
        if not raw.strip():
            continue  # blank lines (a trailing newline, spacing) are not examples
        seen += 1
        obj = _parse_object(raw, number, log)
        if obj is None:
            continue
        if not kind:
            kind = (
                PROMPT_COMPLETION
                if ("prompt" in obj or "completion" in obj) and "messages" not in obj
                else CHAT
            )
        record = _chat(obj, number, log) if kind == CHAT else _prompt_completion(obj, number, log)
        if record is not None:
            records.append(record)
    return ReadResult(format=kind or CHAT, records=records, seen=seen)


def _parse_object(raw: str, line: int, log: IssueLog) -> dict[str, Any] | None:
    """One line as a JSON object, or None after logging why it is not one."""
    try:
        value = json.loads(raw, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as exc:
        hint = _ARRAY_HINT if line == 1 and raw.lstrip().startswith("[") else ""
        log.error(line, "invalid_json", f"invalid JSON ({exc.msg} at column {exc.colno}){hint}")
        return None
    except _DuplicateKeyError as exc:
        log.error(line, "invalid_json", f"invalid JSON ({exc})")
        return None
    except RecursionError:
        log.error(line, "invalid_json", "invalid JSON (nested too deeply)")
        return None
    except ValueError:  # an integer beyond Python's digit limit for int("...")
        log.error(line, "invalid_json", "invalid JSON (a number with too many digits)")
        return None
    if not isinstance(value, dict):
        hint = _ARRAY_HINT if line == 1 and isinstance(value, list) else ""
        log.error(line, "invalid_json", f"expected a JSON object, found {_json_type(value)}{hint}")
        return None
    return value


def _chat(obj: dict[str, Any], line: int, log: IssueLog) -> Record | None:
    """A chat example; logs every problem of the line, not only the first."""
    if "messages" not in obj:
        if "prompt" in obj or "completion" in obj:
            log.error(
                line, "mixed_format", "prompt/completion example in a chat file; use one format per file"
            )
        else:
            log.error(line, "missing_messages", "example is missing the 'messages' list")
        return None
    messages = obj["messages"]
    if not isinstance(messages, list) or not messages:
        log.error(line, "missing_messages", "'messages' must be a non-empty list of messages")
        return None
    ok = True
    cleaned: list[dict[str, Any]] = []
    for index, message in enumerate(messages, start=1):
        parsed = _message(message, index, line, log)
        ok = ok and parsed is not None
        if parsed is not None:
            cleaned.append(parsed)
    if not ok:
        return None
    assistant = [m for m in cleaned if m["role"] == "assistant"]
    if not assistant:
        log.error(line, "no_assistant_message", "example has no assistant message to train on")
        return None
    if all(m.get("weight", 1) == 0 for m in assistant):
        log.error(line, "invalid_weight", "every assistant message has weight 0, so nothing would be trained")
        return None
    return Record(line=line, messages=cleaned, sources=[f"message {i}" for i in range(1, len(cleaned) + 1)])


def _message(message: Any, index: int, line: int, log: IssueLog) -> dict[str, Any] | None:
    """One message as {"role", "content"[, "weight"]}, or None after logging its problems."""
    if not isinstance(message, dict):
        log.error(line, "message_missing_key", f"message {index} must be an object with 'role' and 'content'")
        return None
    if "role" not in message:
        log.error(line, "message_missing_key", f"message {index} is missing key 'role'")
        return None
    role = message["role"]
    if not isinstance(role, str) or role not in ROLES:
        note = " (tool and function calls are not supported)" if role in ("tool", "function") else ""
        if isinstance(role, list | dict):
            note = f" (found {_json_type(role)})"
        log.error(
            line,
            "unrecognized_role",
            f"message {index} has unrecognized role {_shown(role)}; use system, user or assistant{note}",
        )
        return None
    calls = [key for key in ("tool_calls", "function_call") if key in message]
    if calls:
        # Dropping the calls would train the model on a turn it never produced; calls written into the
        # content as text (the way the model's chat template renders them) train as any other turn.
        log.error(
            line,
            "unsupported_tool_calls",
            f"message {index} has '{calls[0]}'; tool and function calls are not supported (write the call "
            "into 'content' as the model's chat template renders it)",
        )
        return None
    if "content" not in message:
        log.error(line, "message_missing_key", f"message {index} is missing key 'content'")
        return None
    content = message["content"]
    if not isinstance(content, str):
        log.error(
            line, "missing_content", f"message {index} content must be text, found {_json_type(content)}"
        )
        return None
    if _SURROGATE.search(content):
        log.error(line, "invalid_json", f"message {index} content holds an unpaired UTF-16 surrogate escape")
        return None
    parsed: dict[str, Any] = {"role": role, "content": content}
    if "weight" in message:
        weight = message["weight"]
        if role != "assistant":
            log.error(
                line, "invalid_weight", f"message {index}: weight is only allowed on assistant messages"
            )
            return None
        # bool is an int in Python, but `true` in JSON is not a weight.
        if isinstance(weight, bool) or not isinstance(weight, int | float) or weight not in (0, 1):
            log.error(line, "invalid_weight", f"message {index} has weight {_shown(weight)}; use 0 or 1")
            return None
        parsed["weight"] = int(weight)
    return parsed


def _prompt_completion(obj: dict[str, Any], line: int, log: IssueLog) -> Record | None:
    """A prompt/completion pair as a user turn and an assistant turn."""
    if "messages" in obj:
        log.error(line, "mixed_format", "chat example in a prompt/completion file; use one format per file")
        return None
    texts: list[str] = []
    for key in ("prompt", "completion"):
        if key not in obj:
            log.error(line, "message_missing_key", f"example is missing key '{key}'")
        elif not isinstance(obj[key], str):
            log.error(line, "missing_content", f"'{key}' must be text, found {_json_type(obj[key])}")
        elif _SURROGATE.search(obj[key]):
            log.error(line, "invalid_json", f"'{key}' holds an unpaired UTF-16 surrogate escape")
        else:
            texts.append(obj[key])
    if len(texts) != 2:
        return None
    messages = [{"role": "user", "content": texts[0]}, {"role": "assistant", "content": texts[1]}]
    return Record(line=line, messages=messages, sources=["'prompt'", "'completion'"])


def _shown(value: Any) -> str:
    """A scalar as JSON writes it, cut to _SHOWN_CHARS; a list or an object as [...] or {...}."""
    if isinstance(value, list | dict):
        return "[...]" if isinstance(value, list) else "{...}"
    text = json.dumps(value)
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 1] + "…"


def _json_type(value: Any) -> str:
    """JSON's name for a value's type, for messages users can act on."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"
