from collections.abc import Sequence
from typing import Any, Literal, Self

from pydantic import ConfigDict, Field

from workshop_data.api_schema import CamelModel
from workshop_data.catalog.service import MAX_STEP_ID_LENGTH
from workshop_data.step_data.statements import StepRecord
from workshop_data.timeutil import iso

MAX_REQUEST_ID_LENGTH = 100
MAX_VERSION = 2**31 - 1  # the version column is a 32-bit INTEGER
SCHEMA_VERSION_DESCRIPTION = (
    "The step's schema version the document was written with (null: none declared)."
)


class SaveStepRequest(CamelModel):
    model_config = ConfigDict(strict=True)

    workshop_type: str = Field(max_length=10)
    step_id: str = Field(max_length=MAX_STEP_ID_LENGTH)
    data: dict[str, Any]
    base_version: int | None = Field(
        default=None,
        ge=0,
        le=MAX_VERSION,
        description="The version this edit is based on; 0 means the step must not exist yet. "
        "Absent: last write wins.",
    )
    request_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_REQUEST_ID_LENGTH,
        description="Identifies this save for safe retries (same as the Idempotency-Key header).",
    )
    schema_version: int | None = Field(
        default=None,
        ge=1,
        le=MAX_VERSION,
        description="The step's schema version `data` is written in; stored with it and "
        "returned on every read. Absent or null: none declared.",
    )


class StepRecordOut(CamelModel):
    id: int
    user_id: int
    workshop_type: str
    step_id: str
    data: dict[str, Any]
    version: int
    schema_version: int | None = Field(description=SCHEMA_VERSION_DESCRIPTION)
    created_at: str
    updated_at: str

    @classmethod
    def of(cls, record: StepRecord) -> Self:
        return cls(
            id=record.id,
            user_id=record.user_id,
            workshop_type=record.workshop_type,
            step_id=record.step_id,
            data=record.data,
            version=record.version,
            schema_version=record.schema_version,
            created_at=iso(record.created_at),
            updated_at=iso(record.updated_at),
        )


class SaveStepResponse(CamelModel):
    success: bool = True
    data: StepRecordOut
    step_id: str
    workshop_type: str
    saved: bool = True
    last_updated: str


class StepDataResponse(CamelModel):
    success: bool = True
    data: dict[str, Any] | None
    step_id: str
    workshop_type: str
    version: int | None
    schema_version: int | None = Field(description=SCHEMA_VERSION_DESCRIPTION)
    created_at: str | None
    updated_at: str | None
    last_updated: str | None
    locked: bool = Field(
        description="The workshop is completed and this step's section locks on completion: "
        "saves are refused (423), so the step is read-only."
    )
    locked_since: str | None = Field(description="When the workshop was completed, if locked.")


class StepSummary(CamelModel):
    data: dict[str, Any]
    version: int
    schema_version: int | None = Field(description=SCHEMA_VERSION_DESCRIPTION)
    created_at: str
    updated_at: str


class WorkshopStepsResponse(CamelModel):
    success: bool = True
    workshop_type: str
    step_data: dict[str, dict[str, Any]]
    steps: dict[str, StepSummary]
    total_steps: int

    @classmethod
    def of(cls, workshop_type: str, records: Sequence[StepRecord], **extra: Any) -> Self:
        return cls(
            workshop_type=workshop_type,
            step_data={r.step_id: r.data for r in records},
            steps={
                r.step_id: StepSummary(
                    data=r.data,
                    version=r.version,
                    schema_version=r.schema_version,
                    created_at=iso(r.created_at),
                    updated_at=iso(r.updated_at),
                )
                for r in records
            },
            total_steps=len(records),
            **extra,
        )


class CurrentVersion(CamelModel):
    data: dict[str, Any] | None
    version: int | None
    schema_version: int | None = Field(description=SCHEMA_VERSION_DESCRIPTION)
    updated_at: str | None


class VersionConflictResponse(CamelModel):
    success: bool = False
    error: str
    code: str = "version_conflict"
    current: CurrentVersion


class WorkshopLockedResponse(CamelModel):
    success: bool = False
    error: str
    code: str = "workshop_locked"
    workshop_type: str
    step_id: str
    locked_since: str | None


class HistoryVersionOut(CamelModel):
    version: int = Field(
        description="The step's version a save wrote; a device copy's is below 1 (-1, -2, … "
        "in the order they were kept). Either restores with POST …/restore/{version}."
    )
    saved_at: str
    size: int = Field(description="The document's size in bytes (compact JSON).")
    preview: str = Field(description="The start of its text, on one line.")
    current: bool
    source: Literal["save", "device"] = Field(
        description="`save`: a save wrote it; `device`: a device's own text, kept (POST "
        "…/history) before a merge with another device's changes replaced it."
    )


class DeviceCopyRequest(CamelModel):
    model_config = ConfigDict(strict=True)

    data: dict[str, Any] = Field(description="The device's document, as it had it.")
    schema_version: int | None = Field(
        default=None,
        ge=1,
        le=MAX_VERSION,
        description="The step's schema version `data` is written in (absent: none declared).",
    )


class DeviceCopyResponse(CamelModel):
    success: bool = True
    kept: bool = Field(description="False when this server keeps no step history.")
    entry: HistoryVersionOut | None = Field(description="The device copy as the history lists it.")


class StepHistoryResponse(CamelModel):
    success: bool = True
    workshop_type: str
    step_id: str
    current_version: int | None
    versions: list[HistoryVersionOut] = Field(description="Newest first; the current one too.")
    retention: str


class RestoreRequest(CamelModel):
    model_config = ConfigDict(strict=True)

    base_version: int | None = Field(
        default=None,
        ge=0,
        le=2**31 - 1,
        description="The current version the restore is based on; absent: last write wins.",
    )
