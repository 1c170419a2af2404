from collections.abc import Sequence
from typing import Self

from workshop_data.api_schema import CamelModel
from workshop_data.facilitator.service import GridRow
from workshop_data.timeutil import iso


class GridStepOut(CamelModel):
    version: int
    updated_at: str


class GridParticipantOut(CamelModel):
    user_id: int
    username: str
    name: str
    current_step_id: str | None
    completed_steps: list[str]
    started_at: str | None
    completed_at: str | None
    last_activity_at: str | None
    steps: dict[str, GridStepOut]

    @classmethod
    def of(cls, row: GridRow) -> Self:
        return cls(
            user_id=row.account.id,
            username=row.account.username,
            name=row.account.name,
            current_step_id=row.current_step_id,
            completed_steps=row.completed_steps,
            started_at=iso(row.started_at),
            completed_at=iso(row.completed_at),
            last_activity_at=iso(row.last_activity_at),
            steps={
                step_id: GridStepOut(version=mark.version, updated_at=iso(mark.updated_at))
                for step_id, mark in row.steps.items()
            },
        )


class WorkshopGridResponse(CamelModel):
    success: bool = True
    workshop_type: str
    participants: list[GridParticipantOut]
    page: int
    page_size: int
    total: int

    @classmethod
    def of(
        cls, workshop_type: str, rows: Sequence[GridRow], total: int, page: int, page_size: int
    ) -> Self:
        return cls(
            workshop_type=workshop_type,
            participants=[GridParticipantOut.of(row) for row in rows],
            page=page,
            page_size=page_size,
            total=total,
        )
