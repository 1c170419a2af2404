"""Expired sessions do not pile up: every sign-in deletes the sessions that have expired,
whoever they belong to, and leaves live ones alone."""

from datetime import timedelta

from sqlalchemy import select, update

from tests.api.support import login, new_client
from tests.support import Backend, MakeAccount
from workshop_data.app import close_app, create_app
from workshop_data.app_services import services_of
from workshop_data.db.tables import sessions
from workshop_data.timeutil import utc_now


async def test_a_sign_in_deletes_expired_sessions(
    backend: Backend, make_account: MakeAccount
) -> None:
    expired_owner = await make_account()
    live_owner = await make_account()
    newcomer = await make_account()
    app = create_app(backend.settings())
    try:
        for account in (expired_owner, live_owner):
            async with new_client(app) as client:
                assert (await login(client, account)).status_code == 200
        owners = expired_owner.id, live_owner.id
        async with services_of(app).engine.connect() as conn:
            await conn.execute(
                update(sessions)
                .where(sessions.c.user_id == owners[0])
                .values(expires_at=utc_now() - timedelta(seconds=1))
            )
            await conn.commit()

        async with new_client(app) as client:
            assert (await login(client, newcomer)).status_code == 200

        async with services_of(app).engine.connect() as conn:
            left = set((await conn.execute(select(sessions.c.user_id))).scalars())
        assert owners[0] not in left
        assert owners[1] in left
        assert newcomer.id in left
    finally:
        await close_app(app)
