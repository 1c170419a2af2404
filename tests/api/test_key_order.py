"""What "stored verbatim" means for object key order, as docs/api.md says: every key, value and
array item comes back as sent on both backends; SQLite's JSON text also keeps the order of an
object's keys, PostgreSQL's JSONB returns them in its own order (shorter keys first, then by
their bytes)."""

import json
from typing import Any

import httpx

from tests.api.support import load, save
from tests.support import Backend

KEYS = ["zeta", "b", "alpha", "aa", "c", "ä"]
DOCUMENT: dict[str, Any] = {
    **{key: index for index, key in enumerate(KEYS)},
    "nested": {"y": [3, 1, 2], "x": {"k2": "two", "k1": "one"}},
}


def jsonb_order(keys: list[str]) -> list[str]:
    return sorted(keys, key=lambda key: (len(key.encode()), key.encode()))


def key_orders(value: Any) -> list[list[str]]:
    """The key order of every object in `value`, outermost first."""
    if isinstance(value, dict):
        return [list(value), *(order for item in value.values() for order in key_orders(item))]
    if isinstance(value, list):
        return [order for item in value for order in key_orders(item)]
    return []


def expected_orders(backend: Backend) -> list[list[str]]:
    sent = key_orders(DOCUMENT)
    return sent if backend.name == "sqlite" else [jsonb_order(keys) for keys in sent]


async def test_object_key_order_is_as_documented_on_each_backend(
    backend: Backend, alice: httpx.AsyncClient
) -> None:
    saved = await save(alice, DOCUMENT, "ast", "2-2")
    assert saved.status_code == 200, saved.text
    loaded = await load(alice, "ast", "2-2")
    listed = await alice.get("/api/workshop-data/steps/ast")
    documents = {
        "save": json.loads(saved.content)["data"]["data"],
        "load": json.loads(loaded.content)["data"],
        "list": json.loads(listed.content)["stepData"]["2-2"],
    }
    for answer, document in documents.items():
        assert document == DOCUMENT, answer  # every key, value and array item as sent
        assert document["nested"]["y"] == [3, 1, 2], answer  # arrays keep their order
        assert key_orders(document) == expected_orders(backend), (backend.name, answer)
    if backend.name == "postgresql":
        assert key_orders(documents["load"]) != key_orders(DOCUMENT)  # the test can tell
