from typing import Literal

from workshop_data.api_schema import CamelModel

Role = Literal["participant", "facilitator", "admin"]
ROLES: tuple[Role, ...] = ("participant", "facilitator", "admin")


class UserOut(CamelModel):
    id: int
    username: str
    name: str
    email: str | None
    role: Role
