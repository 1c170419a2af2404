from typing import Self

from pydantic import ConfigDict, Field, model_validator

from workshop_data.api_schema import CamelModel
from workshop_data.progress.schemas import WorkshopStatusResponse
from workshop_data.step_data.schemas import WorkshopStepsResponse
from workshop_data.users.schemas import Role

MAX_PAGE_SIZE = 200
MAX_ID = 2**63 - 1  # ids are 64-bit


class AccountOut(CamelModel):
    id: int
    username: str
    name: str
    email: str | None
    role: Role
    facilitator_id: int | None
    created_at: str
    updated_at: str


class AccountListResponse(CamelModel):
    success: bool = True
    users: list[AccountOut]
    page: int
    page_size: int
    total: int


class AccountResponse(CamelModel):
    success: bool = True
    user: AccountOut


class CreateAccountRequest(CamelModel):
    model_config = ConfigDict(strict=True)

    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1000)
    role: Role = "participant"
    name: str = Field(default="", max_length=200)
    email: str | None = Field(default=None, max_length=254)
    facilitator_id: int | None = Field(default=None, ge=1, le=MAX_ID)


class UpdateAccountRequest(CamelModel):
    """Only the fields sent change; `facilitatorId: null` and `email: null` clear them."""

    model_config = ConfigDict(strict=True)

    role: Role | None = None
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=254)
    facilitator_id: int | None = Field(default=None, ge=1, le=MAX_ID)

    @model_validator(mode="after")
    def _no_null_role_or_name(self) -> Self:
        for field in ("role", "name"):
            if field in self.model_fields_set and getattr(self, field) is None:
                raise ValueError(f"{field} cannot be null")
        return self


class DeletedAccountResponse(CamelModel):
    success: bool = True
    deleted: AccountOut


class UserStepsResponse(WorkshopStepsResponse):
    user_id: int


class ReopenResponse(WorkshopStatusResponse):
    user_id: int
