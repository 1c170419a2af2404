from collections.abc import Sequence
from typing import Self

from pydantic import ConfigDict, Field, model_validator

from workshop_data.api_schema import CamelModel
from workshop_data.participation.schemas import WorkshopStatusResponse
from workshop_data.step_data.schemas import WorkshopStepsResponse
from workshop_data.timeutil import iso
from workshop_data.users.schemas import Role
from workshop_data.users.service import Account

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

    @classmethod
    def of(cls, account: Account) -> Self:
        return cls(
            id=account.id,
            username=account.username,
            name=account.name,
            email=account.email,
            role=account.role,
            facilitator_id=account.facilitator_id,
            created_at=iso(account.created_at),
            updated_at=iso(account.updated_at),
        )


class AccountListResponse(CamelModel):
    success: bool = True
    users: list[AccountOut]
    page: int
    page_size: int
    total: int

    @classmethod
    def of(cls, accounts: Sequence[Account], total: int, page: int, page_size: int) -> Self:
        return cls(
            users=[AccountOut.of(account) for account in accounts],
            page=page,
            page_size=page_size,
            total=total,
        )


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


class ResetPasswordRequest(CamelModel):
    model_config = ConfigDict(strict=True)

    password: str = Field(min_length=1, max_length=1000)


class PasswordResetResponse(CamelModel):
    success: bool = True
    user: AccountOut
    sessions_ended: int
