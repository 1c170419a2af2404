"""The request body of `POST /api/events/presence` (the events themselves are dataclasses in
`schemas.py`; their wire format is in `wire.py`)."""

from pydantic import Field

from workshop_data.api_schema import CamelModel
from workshop_data.events.service import MAX_PENDING


class PresenceReport(CamelModel):
    pending: int = Field(
        ge=0, le=MAX_PENDING, strict=True, description="changes held on the device, not yet sent"
    )
