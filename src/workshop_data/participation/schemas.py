from typing import Any, Self

from workshop_data.api_schema import CamelModel
from workshop_data.participation.service import WorkshopStatus
from workshop_data.timeutil import iso


class WorkshopStatusResponse(CamelModel):
    success: bool = True
    workshop_type: str
    completed: bool
    completed_at: str | None
    locked: bool
    reopened_at: str | None = None
    reopened_by: int | None = None

    @classmethod
    def of(cls, status: WorkshopStatus, **extra: Any) -> Self:
        return cls(
            workshop_type=status.workshop_type,
            completed=status.completed,
            completed_at=iso(status.completed_at),
            locked=status.completed,
            reopened_at=iso(status.reopened_at),
            reopened_by=status.reopened_by,
            **extra,
        )


class StepsIncompleteResponse(CamelModel):
    success: bool = False
    error: str
    code: str = "steps_incomplete"
    missing_steps: list[str]
