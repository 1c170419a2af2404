from workshop_data.api_schema import CamelModel


class WorkshopStatusResponse(CamelModel):
    success: bool = True
    workshop_type: str
    completed: bool
    completed_at: str | None
    locked: bool
    reopened_at: str | None = None
    reopened_by: int | None = None


class StepsIncompleteResponse(CamelModel):
    success: bool = False
    error: str
    code: str = "steps_incomplete"
    missing_steps: list[str]
