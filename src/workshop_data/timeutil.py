from datetime import UTC, datetime
from typing import overload


def utc_now() -> datetime:
    """Naive UTC, the form stored in the `TIMESTAMP` columns."""
    return datetime.now(UTC).replace(tzinfo=None)


@overload
def iso(moment: datetime) -> str: ...
@overload
def iso(moment: None) -> None: ...
def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with microseconds and a `Z`."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="microseconds") + "Z"
