from typing import Literal

from pydantic import Field

from workshop_data.api_schema import CamelModel


class CatalogStep(CamelModel):
    id: str = Field(min_length=1, max_length=20)
    title: str
    required: bool = True
    completed_when: Literal["visited", "answered"] = Field(
        default="answered",
        description="When the step counts as completed in the navigation progress: once "
        "opened ('visited'), or once a saved answer is non-empty ('answered').",
    )
    answer_fields: list[str] | None = Field(
        default=None,
        description="For 'answered': the fields that must all be non-empty. Absent: any field.",
    )


class CatalogSection(CamelModel):
    number: int = Field(ge=1)
    key: str
    title: str
    locks_on_completion: bool = True
    steps: list[CatalogStep]


class CatalogWorkshop(CamelModel):
    type: str = Field(min_length=1, max_length=10)
    name: str
    step_id_pattern: str
    sections: list[CatalogSection]


class CatalogDocument(CamelModel):
    workshops: list[CatalogWorkshop]


class CatalogResponse(CamelModel):
    success: bool = True
    workshops: list[CatalogWorkshop]
