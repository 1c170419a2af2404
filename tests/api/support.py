"""Requests the API tests make again and again, against the in-process app."""

from collections.abc import Awaitable, Callable, Mapping

import httpx
from fastapi import FastAPI

from tests.support import Account

ClientFor = Callable[[Account], Awaitable[httpx.AsyncClient]]


def new_client(app: FastAPI, address: str = "127.0.0.1") -> httpx.AsyncClient:
    """A client of the in-process app whose requests come from `address`."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=(address, 123)),
        base_url="http://testserver",
    )


async def login(client: httpx.AsyncClient, account: Account) -> httpx.Response:
    return await client.post(
        "/api/auth/login", json={"username": account.username, "password": account.password}
    )


async def save(
    client: httpx.AsyncClient,
    data: Mapping[str, object],
    workshop_type: str = "ia",
    step_id: str = "ia-3-4",
    **extra: object,
) -> httpx.Response:
    return await client.post(
        "/api/workshop-data/step",
        json={"workshopType": workshop_type, "stepId": step_id, "data": data, **extra},
    )


async def load(
    client: httpx.AsyncClient, workshop_type: str = "ia", step_id: str = "ia-3-4"
) -> httpx.Response:
    return await client.get(f"/api/workshop-data/step/{workshop_type}/{step_id}")
