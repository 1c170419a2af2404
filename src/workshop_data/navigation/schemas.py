from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, Self

from pydantic import (
    AfterValidator,
    Field,
    PlainValidator,
    StrictStr,
    StringConstraints,
    WithJsonSchema,
)

from workshop_data.api_schema import CamelModel
from workshop_data.timeutil import iso

if TYPE_CHECKING:
    # The service reads the request models defined here.
    from workshop_data.navigation.service import Progress

MAX_VIDEOS = 500
VideoId = Annotated[str, StringConstraints(min_length=1, max_length=100, strict=True)]


def _percentage(value: object) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
        raise ValueError("a video's progress must be a number from 0 to 100")
    return value


# Integers stay integers and fractions fractions: the percentage is stored as sent.
Percentage = Annotated[
    int | float,
    PlainValidator(_percentage),
    WithJsonSchema({"type": "number", "minimum": 0, "maximum": 100}),
]


# Earlier than this cannot be a visit; later times count as now anyway.
EARLIEST_VISIT = datetime(1970, 1, 1)
LATEST_TIME = datetime(9999, 12, 30)


def _naive_utc_in_range(moment: datetime) -> datetime:
    """The moment in naive UTC, as stored. Times at the limits of the calendar (year 1 with a
    positive offset, year 9999 with a negative one) have no UTC equivalent: refused."""
    if moment.tzinfo is not None:
        try:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
        except OverflowError:
            raise ValueError("the time is outside the range of dates that can be stored") from None
    if not EARLIEST_VISIT <= moment <= LATEST_TIME:
        raise ValueError("the time must be between 1970-01-01 and 9999-12-30")
    return moment


VisitTime = Annotated[datetime, AfterValidator(_naive_utc_in_range)]


class ProgressUpdate(CamelModel):
    """What a client reports. Lists and videos are merged into what is stored, never replace it:
    a field left out changes nothing, and steps can be removed only by the reset endpoint."""

    current_step_id: StrictStr | None = Field(
        default=None, description="Absent: unchanged. null: no current step."
    )
    completed_steps: list[StrictStr] = Field(default_factory=list, max_length=500)
    unlocked_steps: list[StrictStr] = Field(default_factory=list, max_length=500)
    video_progress: dict[VideoId, Percentage] = Field(
        default_factory=dict,
        max_length=MAX_VIDEOS,
        description="Video id to percentage watched (0-100); the highest value is kept.",
    )
    last_visited_at: VisitTime | None = Field(
        default=None, description="ISO 8601; absent: now. Times in the future count as now."
    )


class NavigationProgressResponse(CamelModel):
    success: bool = True
    workshop_type: str
    current_step_id: str | None
    completed_steps: list[str]
    unlocked_steps: list[str]
    video_progress: dict[str, int | float]
    last_visited_at: str | None
    version: int | None
    created_at: str | None
    updated_at: str | None

    @classmethod
    def of(cls, workshop_type: str, progress: "Progress | None", **extra: Any) -> Self:
        """The stored progress, or the empty progress of a workshop not yet visited."""
        if progress is None:
            return cls(
                workshop_type=workshop_type,
                current_step_id=None,
                completed_steps=[],
                unlocked_steps=[],
                video_progress={},
                last_visited_at=None,
                version=None,
                created_at=None,
                updated_at=None,
                **extra,
            )
        return cls(
            workshop_type=progress.workshop_type,
            current_step_id=progress.current_step_id,
            completed_steps=progress.completed_steps,
            unlocked_steps=progress.unlocked_steps,
            video_progress=progress.video_progress,
            last_visited_at=iso(progress.last_visited_at),
            version=progress.version,
            created_at=iso(progress.created_at),
            updated_at=iso(progress.updated_at),
            **extra,
        )


class ParticipantProgressResponse(NavigationProgressResponse):
    user_id: int


class ProgressLockedResponse(CamelModel):
    success: bool = False
    error: str
    code: str = "workshop_locked"
    workshop_type: str
    locked_since: str | None
