"""The shape of an export, for the OpenAPI description; the export itself is built as plain
JSON by the service (see docs/api-admin-export.md for an example)."""

from typing import Any

from pydantic import Field

from workshop_data.api_schema import CamelModel


class StepRecordExport(CamelModel):
    data: dict[str, Any]
    version: int
    schema_version: int | None = Field(
        description="The step's schema version the document was written with (null: none declared)."
    )
    created_at: str
    updated_at: str


class ExportMetadata(CamelModel):
    exported_at: str
    exported_by: str
    data_version: str
    total_workshop_steps: int
    workshop_steps: str
    step_counts: dict[str, int]


class UploadExport(CamelModel):
    id: str
    url: str
    content_type: str
    size: int
    sha256: str
    created_at: str
    base64: str


class ExportData(CamelModel):
    user_info: dict[str, Any]
    navigation_progress: dict[str, dict[str, Any]]
    assessments: dict[str, dict[str, Any]]
    workshop_step_data: dict[str, dict[str, StepRecordExport]]
    workshop_participation: list[dict[str, Any]]
    uploads: list[UploadExport]
    export_metadata: ExportMetadata
    workshop_step_history: dict[str, dict[str, list[dict[str, Any]]]] | None = Field(
        default=None, description="Only with ?history=true: kept versions, newest first."
    )
