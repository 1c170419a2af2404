"""The command line: migrate, users, demo, and serving what `make run` serves."""

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.server_process import ServerProcess

pytestmark = pytest.mark.process


def cli(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workshop_data", *args, "--database-url", database_url],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_users_create_list_delete(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert cli("migrate", database_url=url).returncode == 0
    created = cli(
        "users",
        "create",
        "--username",
        "sam",
        "--password",
        "sam-password",
        "--role",
        "facilitator",
        "--name",
        "Sam",
        "--email",
        "sam@example.org",
        database_url=url,
    )
    assert created.returncode == 0, created.stderr
    assert "created facilitator 'sam'" in created.stdout
    duplicate = cli(
        "users", "create", "--username", "sam", "--password", "other-password", database_url=url
    )
    assert duplicate.returncode == 1
    assert "already exists" in duplicate.stderr
    short = cli("users", "create", "--username", "kim", "--password", "short", database_url=url)
    assert short.returncode == 1
    assert "at least 8" in short.stderr
    listing = cli("users", "list", database_url=url)
    assert "sam\tfacilitator\tSam\tsam@example.org" in listing.stdout
    assert "kim" not in listing.stdout
    assert cli("users", "delete", "--username", "sam", database_url=url).returncode == 0
    assert "sam" not in cli("users", "list", database_url=url).stdout
    assert cli("users", "delete", "--username", "sam", database_url=url).returncode == 1


def test_the_last_admin_cannot_be_deleted(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'admins.db'}"
    for name in ("boss", "deputy"):
        created = cli(
            "users",
            "create",
            "--username",
            name,
            "--password",
            "long-password",
            "--role",
            "admin",
            database_url=url,
        )
        assert created.returncode == 0, created.stderr
    assert cli("users", "delete", "--username", "deputy", database_url=url).returncode == 0
    last = cli("users", "delete", "--username", "boss", database_url=url)
    assert last.returncode == 1
    assert "last administrator" in last.stderr
    assert "boss" in cli("users", "list", database_url=url).stdout


def test_bad_database_url_is_a_clear_error(tmp_path: Path) -> None:
    result = cli("migrate", database_url="mysql://root@localhost/x")
    assert result.returncode != 0
    assert "unsupported database 'mysql'" in result.stderr + result.stdout


async def test_demo_credentials_sign_in_and_save(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    first = cli("demo", database_url=url)
    assert first.returncode == 0, first.stderr
    passwords = {
        line.split()[0]: line.split()[-1]
        for line in first.stdout.splitlines()
        if "password:" in line
    }
    assert set(passwords) == {"admin", "participant"}
    second = cli("demo", database_url=url)
    assert "password" not in second.stdout  # printed only once

    with ServerProcess(url) as server:
        async with httpx.AsyncClient(base_url=server.url) as client:
            login = await client.post(
                "/api/auth/login",
                json={"username": "participant", "password": passwords["participant"]},
            )
            assert login.status_code == 200
            versions = []
            for text in ("first thought", "second thought"):
                saved = await client.post(
                    "/api/workshop-data/step",
                    json={
                        "workshopType": "ia",
                        "stepId": "ia-3-4",
                        "data": {"whyReflection": text},
                    },
                )
                assert saved.status_code == 200
                loaded = (await client.get("/api/workshop-data/step/ia/ia-3-4")).json()
                assert loaded["data"] == {"whyReflection": text}
                versions.append(loaded["version"])
            assert versions == [1, 2]
            admin = await client.post(
                "/api/auth/login", json={"username": "admin", "password": passwords["admin"]}
            )
            assert admin.json()["user"]["role"] == "admin"
