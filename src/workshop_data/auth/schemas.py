from pydantic import ConfigDict, Field

from workshop_data.api_schema import CamelModel
from workshop_data.users.schemas import UserOut


class LoginRequest(CamelModel):
    model_config = ConfigDict(strict=True)

    username: str = Field(min_length=1, max_length=254, description="username or email")
    password: str = Field(min_length=1, max_length=1024)


class UserResponse(CamelModel):
    success: bool = True
    user: UserOut


class OkResponse(CamelModel):
    success: bool = True
