"""The step data service checks the document itself, whoever calls it (the API, the CLI's demo
data, a script): a document over its limits or one that cannot be stored faithfully is refused
and nothing is written."""

from dataclasses import replace

import pytest

from tests.support import Account, Backend
from workshop_data.catalog.service import load_catalog
from workshop_data.db.engine import create_engine
from workshop_data.errors import InvalidInput, PayloadTooLarge
from workshop_data.json_input import DEFAULT_LIMITS
from workshop_data.step_data import service


@pytest.mark.parametrize(
    ("data", "refused_with"),
    [
        ({"whyReflection": "x" * 200}, PayloadTooLarge),
        ({"whyReflection": "a\ud800b"}, InvalidInput),
        ({"whyReflection": "nul\x00"}, InvalidInput),
    ],
)
async def test_the_service_refuses_a_document_it_cannot_keep(
    backend: Backend,
    accounts: dict[str, Account],
    data: dict[str, str],
    refused_with: type[Exception],
) -> None:
    engine = create_engine(backend.settings())
    step = load_catalog().step("ia", "ia-3-4")
    limits = replace(DEFAULT_LIMITS, max_document_bytes=100)
    user_id = accounts["bob"].id
    try:
        async with engine.connect() as conn:
            before = await service.get_step(conn, user_id, "ia", "ia-3-4")
            with pytest.raises(refused_with):
                await service.save_step(
                    conn,
                    user_id=user_id,
                    step=step,
                    data=data,
                    base_version=None,
                    request_id=None,
                    limits=limits,
                )
            assert await service.get_step(conn, user_id, "ia", "ia-3-4") == before
    finally:
        await engine.dispose()
