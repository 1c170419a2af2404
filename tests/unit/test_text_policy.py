"""The input policy's checks, and error bodies that never fail on the text they report."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workshop_data.errors import InvalidInput, error_body, shown
from workshop_data.json_input import json_path
from workshop_data.text_policy import check_name, check_storable, unstorable_reason


@given(st.text(alphabet=st.characters(), max_size=40))
def test_an_error_body_can_always_be_written(text: str) -> None:
    body = json.loads(error_body(f"{text}: bad", "invalid_data", path=json_path(("data", text))))
    assert body["success"] is False
    assert body["code"] == "invalid_data"
    assert body["error"].endswith(": bad")


def test_shown_escapes_what_cannot_be_written_and_keeps_the_rest() -> None:
    assert shown("Ünïcödé 計画 🚀") == "Ünïcödé 計画 🚀"
    assert shown("a\x00b\ud800c\n") == "a\\u0000b\\ud800c\\u000a"
    assert json_path(("data", "\ud800")) == 'data["\\ud800"]'


@pytest.mark.parametrize("text", ["a\x00b", "\ud800", "x\udfffy"])
def test_unstorable_text_is_refused_naming_where(text: str) -> None:
    assert unstorable_reason(text) is not None
    with pytest.raises(InvalidInput) as refused:
        check_storable(text, "q")
    assert refused.value.details["path"] == "q"
    assert refused.value.message.startswith("q: ")


@pytest.mark.parametrize(
    "name", ["Ana María", "李小龍", "👨\u200d👩\u200d👧 family", "o'Brien-Smith"]
)
def test_names_in_any_script_pass(name: str) -> None:
    assert check_name(name, "name", code="invalid_name") == name


@pytest.mark.parametrize(
    "name", ["evil\r\n9\tadmin", "a\x1b[2J", "line\u2028break", "\u202egnp.exe", "bell\x07"]
)
def test_names_with_control_characters_are_refused(name: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_name(name, "username", code="invalid_username")
    assert refused.value.code == "invalid_username"
    assert "control characters" in refused.value.message
