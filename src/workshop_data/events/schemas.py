"""The events a write publishes once it has committed. Each names the user whose data changed;
who may see it is the listener's business (the stream scopes them as the REST API does)."""

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class StepSaved:
    """A new version of one of the user's steps was committed (a save, a patch, a restore)."""

    user_id: int
    workshop_type: str
    step_id: str
    version: int
    saved_at: datetime
    # The writer's `X-Device-Id` header, if it sent one.
    device_id: str | None


@dataclass(frozen=True, slots=True)
class ProgressChanged:
    """The user's navigation progress in a workshop changed (an update or a reset)."""

    user_id: int
    workshop_type: str
    at: datetime


@dataclass(frozen=True, slots=True)
class ParticipationChanged:
    """The user completed a workshop (`completed`) or an administrator reopened it."""

    user_id: int
    workshop_type: str
    completed: bool
    at: datetime


@dataclass(frozen=True, slots=True)
class SessionEnded:
    """A session of the user ended (sign-out), or all of them (`token_hash` None: password
    change, the account deleted or changed by an administrator)."""

    user_id: int
    token_hash: str | None


@dataclass(frozen=True, slots=True)
class PresenceReported:
    """The user's browser reported how many changes it holds unsent."""

    user_id: int
    pending: int
    seen_at: datetime


Event = StepSaved | ProgressChanged | ParticipationChanged | SessionEnded | PresenceReported
