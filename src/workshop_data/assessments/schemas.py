"""Request and response bodies, and the shape each assessment type's results must have.

The result models only check: what is stored is the client's object exactly as sent, so an
optional field left out stays out and a 0 stays 0."""

from typing import Annotated, Any, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StringConstraints,
    model_validator,
)
from pydantic.alias_generators import to_camel

from workshop_data.api_schema import CamelModel

Score = Annotated[StrictInt, Field(ge=0, le=100_000)]
OneToFive = Annotated[StrictInt, Field(ge=1, le=5)]
Percent = Annotated[StrictInt, Field(ge=0, le=100)]
Ladder = Annotated[StrictInt, Field(ge=0, le=10)]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=100, strict=True)]


class _Results(BaseModel):
    # By alias only: `flow_score` is not a second spelling of `flowScore`.
    model_config = ConfigDict(
        extra="forbid", strict=True, alias_generator=to_camel, populate_by_name=False
    )


class StarCardResults(_Results):
    thinking: Percent
    acting: Percent
    feeling: Percent
    planning: Percent

    @model_validator(mode="after")
    def _sums_to_100(self) -> Self:
        total = self.thinking + self.acting + self.feeling + self.planning
        if total != 100:
            raise ValueError(f"thinking, acting, feeling and planning must sum to 100, not {total}")
        return self


class FlowAssessmentResults(_Results):
    answers: dict[ShortText, OneToFive] = Field(min_length=1, max_length=100)
    flow_score: Score | None = None


class FlowAttributesResults(_Results):
    attributes: list[ShortText] = Field(min_length=1, max_length=4)
    flow_score: Score | None = None


class IaCoreCapabilitiesResults(_Results):
    imagination: OneToFive
    curiosity: OneToFive
    empathy: OneToFive
    creativity: OneToFive
    courage: OneToFive


class CantrilLadderResults(_Results):
    """The two levels, and any free-text answers (currentFactors, futureImprovements, ...)."""

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, Annotated[str, StringConstraints(max_length=20_000)]]

    well_being_level: Ladder
    future_well_being_level: Ladder


RESULT_MODELS: dict[str, type[BaseModel]] = {
    "starCard": StarCardResults,
    "flowAssessment": FlowAssessmentResults,
    "flowAttributes": FlowAttributesResults,
    "iaCoreCapabilities": IaCoreCapabilitiesResults,
    "cantrilLadder": CantrilLadderResults,
}


class SaveAssessmentRequest(CamelModel):
    model_config = ConfigDict(strict=True)

    results: dict[str, Any] = Field(
        description="Shape depends on the assessment type; see docs/api-admin-export.md."
    )


class AssessmentOut(CamelModel):
    assessment_type: str
    results: dict[str, Any]
    created_at: str
    updated_at: str


class SaveAssessmentResponse(CamelModel):
    success: bool = True
    assessment: AssessmentOut


class AssessmentResponse(CamelModel):
    success: bool = True
    assessment_type: str
    results: dict[str, Any] | None
    created_at: str | None
    updated_at: str | None


class AssessmentListResponse(CamelModel):
    success: bool = True
    assessments: dict[str, AssessmentOut]
