"""The export carries every stored column of every table, generated from the schema
(db/tables.py): a column added to a table fails this test until the export carries it or it
is listed below, with the reason it is not participant data."""

import base64
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import Table, select

from tests.api.people import enter_everything
from tests.api.support import ClientFor
from tests.support import Backend, MakeAccount
from workshop_data.db.engine import create_engine
from workshop_data.db.tables import (
    assessments,
    metadata,
    navigation_progress,
    sessions,
    uploads,
    users,
    workshop_participation,
    workshop_step_data,
    workshop_step_history,
)
from workshop_data.timeutil import iso

NOT_EXPORTED_TABLES = {
    sessions.name: "sign-in sessions are not participant data; their token hashes are secrets",
}
NOT_EXPORTED_COLUMNS = {
    "id": "a surrogate key, meaningless outside this database",
    "user_id": "the export is one user's; the user is userInfo",
    "password_hash": "a secret",
    "last_request_id": "idempotency bookkeeping of the last save",
}
# Columns of one table only, each with its reason.
NOT_EXPORTED_TABLE_COLUMNS = {
    "uploads.last_referenced_at": "bookkeeping of `uploads prune`",
    "workshop_step_history.size": "derived from the version's data, which is exported",
    "workshop_step_history.preview": "derived from the version's data, which is exported",
}
# Stored under another name in the export, and how the stored value appears there.
EXPORTED_AS = {
    "uploads.content": ("base64", lambda value: base64.b64encode(value).decode()),
}


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def exported(value: Any) -> Any:
    return iso(value) if isinstance(value, datetime) else value


def locate(export: dict[str, Any], table: Table, row: Any) -> dict[str, Any] | None:
    """Where the export keeps `row` of `table`; None when it has no place for the table."""
    if table is users:
        return dict(export["userInfo"])
    if table is workshop_step_data:
        found: dict[str, Any] = export["workshopStepData"][row.workshop_type][row.step_id]
        return {**found, "workshopType": row.workshop_type, "stepId": row.step_id}
    if table is navigation_progress:
        return {
            **export["navigationProgress"][row.workshop_type],
            "workshopType": row.workshop_type,
        }
    if table is assessments:
        return {
            **export["assessments"][row.assessment_type],
            "assessmentType": row.assessment_type,
        }
    if table is uploads:
        found_uploads = [u for u in export["uploads"] if u["id"] == row.id]
        return found_uploads[0] if len(found_uploads) == 1 else {}
    if table is workshop_step_history:
        versions = export["workshopStepHistory"][row.workshop_type][row.step_id]
        kept = [v for v in versions if v["version"] == row.version]
        record = kept[0] if len(kept) == 1 else {}
        return {**record, "workshopType": row.workshop_type, "stepId": row.step_id}
    if table is workshop_participation:
        matches = [
            p for p in export["workshopParticipation"] if p["workshopType"] == row.workshop_type
        ]
        return matches[0] if len(matches) == 1 else {}
    return None


def owner_column(table: Table) -> Any:
    return table.c.id if table is users else table.c.user_id


async def test_the_export_carries_every_stored_column(
    backend: Backend, make_account: MakeAccount, client_for: ClientFor, root: httpx.AsyncClient
) -> None:
    account = await make_account()
    owner = await client_for(account)
    await enter_everything(owner)
    response = await root.get(f"/api/export/users/{account.id}?history=true")
    assert response.status_code == 200
    export = response.json()

    problems: list[str] = []
    engine = create_engine(backend.settings())
    try:
        async with engine.connect() as conn:
            for table in metadata.sorted_tables:
                if table.name in NOT_EXPORTED_TABLES:
                    continue
                rows = (
                    await conn.execute(select(table).where(owner_column(table) == account.id))
                ).all()
                if not rows:
                    problems.append(f"{table.name}: the test entered no row to compare")
                for row in rows:
                    record = locate(export, table, row)
                    if record is None:
                        problems.append(f"table {table.name} is not in the export at all")
                        break
                    for column in table.columns:
                        name = f"{table.name}.{column.name}"
                        if (
                            column.name in NOT_EXPORTED_COLUMNS
                            or name in NOT_EXPORTED_TABLE_COLUMNS
                        ):
                            continue
                        key, shown = EXPORTED_AS.get(name, (camel(column.name), exported))
                        if key not in record:
                            problems.append(f"{table.name}.{column.name} is not exported")
                        elif record[key] != shown(getattr(row, column.name)):
                            problems.append(
                                f"{table.name}.{column.name}: exported {record[key]!r}, "
                                f"stored {shown(getattr(row, column.name))!r}"
                            )
    finally:
        await engine.dispose()
    assert problems == []
