"""How events travel: as server-sent-events frames to a browser (docs/api.md "Events"), and as
JSON between processes on a shared bus."""

from dataclasses import fields
from datetime import datetime
from typing import Any

import orjson

from workshop_data.events.schemas import (
    Event,
    ParticipationChanged,
    PresenceReported,
    ProgressChanged,
    SessionEnded,
    StepSaved,
)
from workshop_data.timeutil import iso

# The stream's `event:` name of each kind a browser may receive.
STREAM_NAMES: dict[type[Any], str] = {
    StepSaved: "step",
    ProgressChanged: "progress",
    ParticipationChanged: "participation",
    PresenceReported: "presence",
}
HEARTBEAT = b": keep-alive\n\n"


def stream_data(event: Event, *, to_owner: bool) -> dict[str, Any] | None:
    """The `data:` of `event` for a viewer (the owner of the data or another who may see it);
    None for an event no stream carries."""
    if isinstance(event, StepSaved):
        return {
            "userId": event.user_id,
            "workshopType": event.workshop_type,
            "stepId": event.step_id,
            "version": event.version,
            "savedAt": iso(event.saved_at),
            "deviceId": event.device_id if to_owner else None,
        }
    if isinstance(event, ProgressChanged):
        return {"userId": event.user_id, "workshopType": event.workshop_type, "at": iso(event.at)}
    if isinstance(event, ParticipationChanged):
        return {
            "userId": event.user_id,
            "workshopType": event.workshop_type,
            "completed": event.completed,
            "at": iso(event.at),
        }
    if isinstance(event, PresenceReported):
        return {"userId": event.user_id, "pending": event.pending, "seenAt": iso(event.seen_at)}
    return None


def frame(cursor: str, name: str, data: dict[str, Any]) -> bytes:
    return b"id: %s\nevent: %s\ndata: %s\n\n" % (cursor.encode(), name.encode(), orjson.dumps(data))


def event_frame(cursor: str, event: Event, *, to_owner: bool) -> bytes | None:
    data = stream_data(event, to_owner=to_owner)
    if data is None:
        return None
    return frame(cursor, STREAM_NAMES[type(event)], data)


def opening(retry_ms: int, cursor: str) -> bytes:
    """The first bytes of a stream: the reconnection delay and the cursor to resume from (an id
    without data: EventSource keeps it without firing an event)."""
    return b"retry: %d\nid: %s\n\n" % (retry_ms, cursor.encode())


def resync(cursor: str, reason: str) -> bytes:
    return frame(cursor, "resync", {"reason": reason})


# Between processes: the dataclass's fields, times as ISO 8601, and its kind.
_KINDS: dict[str, type[Any]] = {
    kind.__name__: kind
    for kind in (StepSaved, ProgressChanged, ParticipationChanged, SessionEnded, PresenceReported)
}
_TIMES = frozenset({"saved_at", "at", "seen_at"})


def encode(event: Event) -> bytes:
    values: dict[str, Any] = {"kind": type(event).__name__}
    for field in fields(event):
        value = getattr(event, field.name)
        values[field.name] = value.isoformat() if isinstance(value, datetime) else value
    return orjson.dumps(values)


def decode(payload: bytes) -> Event:
    """An event `encode` wrote; ValueError (or KeyError, TypeError) for anything else."""
    values = orjson.loads(payload)
    kind = _KINDS[values.pop("kind")]
    for name in _TIMES & values.keys():
        values[name] = datetime.fromisoformat(values[name])
    event: Event = kind(**values)
    return event
