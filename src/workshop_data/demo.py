"""Demo users and a little data, for trying the platform out."""

import secrets
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from workshop_data.catalog.service import Catalog
from workshop_data.step_data.service import save_step
from workshop_data.users.service import count_users, create_user


@dataclass(frozen=True)
class DemoCredentials:
    username: str
    password: str
    role: str


async def create_demo_users(conn: AsyncConnection, catalog: Catalog) -> list[DemoCredentials]:
    """Create a demo admin and participant, with fresh random passwords, when there are no users
    at all; otherwise do nothing and return an empty list."""
    if await count_users(conn) > 0:
        return []
    credentials = [
        DemoCredentials("admin", secrets.token_urlsafe(12), "admin"),
        DemoCredentials("participant", secrets.token_urlsafe(12), "participant"),
    ]
    created = {}
    for demo in credentials:
        created[demo.role] = await create_user(
            conn,
            username=demo.username,
            password=demo.password,
            role=demo.role,
            name=f"Demo {demo.role}",
        )
    await save_step(
        conn,
        user_id=created["participant"].id,
        step=catalog.step("ast", "2-1"),
        data={"starPower": "Thinking", "reflection": "I do my best work when I can plan ahead."},
        base_version=None,
        request_id=None,
    )
    return credentials
