"""Parsing and checking of JSON request bodies.

Bodies are parsed here rather than by FastAPI so that no input, however malformed or deep,
can raise past us: every rejection is an `InvalidInput` naming the JSON path at fault."""

import json
import re
from dataclasses import dataclass
from typing import Any

import orjson

from workshop_data.errors import InvalidInput, PayloadTooLarge
from workshop_data.settings import Settings
from workshop_data.text_policy import unstorable_reason

_INT64 = 2**63
_LONG_NUMBER = re.compile(rb"[0-9]{19}")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# JSON text can hold a NUL or a surrogate only as an escape: bodies without one need no walk.
_UNSTORABLE_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")


@dataclass(frozen=True)
class JsonLimits:
    max_depth: int
    max_values: int
    max_object_keys: int
    max_key_length: int
    max_document_bytes: int

    @classmethod
    def from_settings(cls, settings: Settings) -> "JsonLimits":
        return cls(
            max_depth=settings.max_json_depth,
            max_values=settings.max_json_values,
            max_object_keys=settings.max_object_keys,
            max_key_length=settings.max_key_length,
            max_document_bytes=settings.max_document_bytes,
        )


# The limits of a server with the default settings, for callers without settings (scripts).
DEFAULT_LIMITS = JsonLimits.from_settings(Settings.model_construct())


def parse_json(raw: bytes, root: tuple[str | int, ...] = ()) -> Any:
    """The body's value; text that no backend can store (NUL, lone surrogates) is refused
    wherever it is, in keys as in values, naming its path (below `root`: a body that is
    itself a step's data names `data.<path>`)."""
    value = _parse(raw)
    if _UNSTORABLE_ESCAPE.search(raw):
        check_text(value, root)
    return value


def _parse(raw: bytes) -> Any:
    if not raw.strip():
        raise InvalidInput("The request body is empty; send a JSON object.", code="invalid_json")
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        # orjson refuses lone surrogates outright; the exact parser lets us name their path.
        return _parse_exactly(raw, error)
    if _LONG_NUMBER.search(raw):
        # orjson turns integers beyond 64 bits into floats; parse exactly so they are refused.
        return _parse_exactly(raw, None)
    return value


def _parse_exactly(raw: bytes, strict_error: orjson.JSONDecodeError | None) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as error:
        reason = (
            _describe(strict_error)
            if strict_error is not None
            else "it is nested too deeply"
            if isinstance(error, RecursionError)
            else str(error)
        )
        raise InvalidInput(
            f"The request body is not valid JSON ({reason}).", code="invalid_json"
        ) from None


def _describe(error: orjson.JSONDecodeError) -> str:
    if "depth" in str(error).lower() or "recursion" in str(error).lower():
        return "it is nested too deeply"
    return f"line {error.lineno}, column {error.colno}: {error.msg}"


def json_path(parts: tuple[str | int, ...]) -> str:
    rendered = ""
    for part in parts:
        if isinstance(part, int):
            rendered += f"[{part}]"
        elif _IDENTIFIER.match(part):
            rendered += f".{part}" if rendered else part
        else:
            rendered += f"[{_quoted(part)}]"
    return rendered or "$"


def _quoted(key: str) -> str:
    if unstorable_reason(key) is None:
        return orjson.dumps(key).decode()
    # ASCII-only JSON shows a lone surrogate or a NUL as its escape: the path of such a key
    # can always be reported.
    return json.dumps(key)


def _check_text(text: str, parts: tuple[str | int, ...], what: str) -> None:
    reason = unstorable_reason(text)
    if reason is not None:
        where = json_path(parts)
        raise InvalidInput(f"{where}: {what} {reason}.", code="invalid_data", path=where)


def check_text(value: Any, root: tuple[str | int, ...]) -> None:
    """Refuse NUL characters and lone surrogates in any key or string under `value`."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(value, root)]
    while stack:
        node, parts = stack.pop()
        if isinstance(node, dict):
            for key, child in node.items():
                child_parts = (*parts, key)
                _check_text(key, child_parts, "the key")
                stack.append((child, child_parts))
        elif isinstance(node, list):
            stack.extend((child, (*parts, i)) for i, child in enumerate(node))
        elif isinstance(node, str):
            _check_text(node, parts, "the text")


def check_document(value: Any, root: tuple[str | int, ...], limits: JsonLimits) -> None:
    """Reject what cannot be stored faithfully on every backend, or exceeds the limits."""
    count = 0
    stack: list[tuple[Any, tuple[str | int, ...], int]] = [(value, root, 1)]
    while stack:
        node, parts, depth = stack.pop()
        count += 1
        if count > limits.max_values:
            raise PayloadTooLarge(
                f"{json_path(root)} holds more than {limits.max_values} values.",
            )
        if isinstance(node, dict):
            if depth > limits.max_depth:
                raise InvalidInput(
                    f"{json_path(parts)}: nested deeper than {limits.max_depth} levels.",
                    code="invalid_data",
                    path=json_path(parts),
                )
            if len(node) > limits.max_object_keys:
                raise InvalidInput(
                    f"{json_path(parts)}: has {len(node)} keys, more than "
                    f"{limits.max_object_keys}.",
                    code="invalid_data",
                    path=json_path(parts),
                )
            for key, child in node.items():
                child_parts = (*parts, key)
                if len(key) > limits.max_key_length:
                    raise InvalidInput(
                        f"{json_path(parts)}: a key is longer than {limits.max_key_length} "
                        "characters.",
                        code="invalid_data",
                        path=json_path(parts),
                    )
                _check_text(key, child_parts, "the key")
                stack.append((child, child_parts, depth + 1))
        elif isinstance(node, list):
            if depth > limits.max_depth:
                raise InvalidInput(
                    f"{json_path(parts)}: nested deeper than {limits.max_depth} levels.",
                    code="invalid_data",
                    path=json_path(parts),
                )
            stack.extend((child, (*parts, i), depth + 1) for i, child in enumerate(node))
        elif isinstance(node, str):
            _check_text(node, parts, "the text")
        elif isinstance(node, int) and not -_INT64 <= node < _INT64:
            raise InvalidInput(
                f"{json_path(parts)}: integers must fit in 64 bits.",
                code="invalid_data",
                path=json_path(parts),
            )
        elif isinstance(node, float) and (node != node or node in (float("inf"), float("-inf"))):
            raise InvalidInput(
                f"{json_path(parts)}: numbers must be finite.",
                code="invalid_data",
                path=json_path(parts),
            )


def encoded_size(document: Any) -> int:
    return len(orjson.dumps(document))
