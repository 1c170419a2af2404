"""Properties of the JSON checks: what passes is stored exactly, what fails names its path."""

import contextlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workshop_data.errors import InvalidInput, PayloadTooLarge
from workshop_data.json_input import JsonLimits, check_document, json_path, parse_json

LIMITS = JsonLimits(
    max_depth=64,
    max_values=10_000,
    max_object_keys=1000,
    max_key_length=200,
    max_document_bytes=1 << 20,
)

safe_text = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"),
    max_size=30,
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | safe_text,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(safe_text, children, max_size=4)
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(safe_text, json_values, max_size=6))
def test_storable_documents_pass_and_round_trip(document: dict[str, object]) -> None:
    raw = json.dumps({"data": document}).encode()
    parsed = parse_json(raw)
    check_document(parsed["data"], ("data",), LIMITS)
    assert parsed["data"] == document


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(safe_text, json_values, min_size=1, max_size=4),
    st.sampled_from(["\x00", "\ud800", "a\udfffb"]),
)
def test_unstorable_text_is_refused_with_its_path(document: dict[str, object], bad: str) -> None:
    key = next(iter(document))
    document[key] = {"inner": [1, bad]}
    raw = json.dumps({"data": document}).encode()
    path = json_path(("data", key, "inner", 1))
    # Refused as the body is parsed, whatever the endpoint, and by the document check.
    with pytest.raises(InvalidInput) as refused:
        parse_json(raw)
    assert refused.value.details["path"] == path
    with pytest.raises(InvalidInput) as refused:
        check_document(json.loads(raw)["data"], ("data",), LIMITS)
    assert refused.value.details["path"] == path


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_parse_or_raise_invalid_input(raw: bytes) -> None:
    with contextlib.suppress(InvalidInput):
        parse_json(raw)


def test_depth_limit_counts_containers() -> None:
    ok: object = "leaf"
    for _ in range(64):
        ok = [ok]
    check_document(ok, ("data",), LIMITS)
    with pytest.raises(InvalidInput, match="nested deeper than 64"):
        check_document([ok], ("data",), LIMITS)


def test_value_count_limit() -> None:
    with pytest.raises(PayloadTooLarge):
        check_document(list(range(10_001)), ("data",), LIMITS)


@pytest.mark.parametrize(
    ("parts", "rendered"),
    [
        (("data",), "data"),
        (("data", "savedMoments", 2, "text"), "data.savedMoments[2].text"),
        (("data", "with space"), 'data["with space"]'),
        ((), "$"),
    ],
)
def test_json_path(parts: tuple[str | int, ...], rendered: str) -> None:
    assert json_path(parts) == rendered
