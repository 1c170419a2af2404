"""The command line: migrate, users, demo, and serving what `make run` serves."""

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.server_process import ServerProcess

pytestmark = pytest.mark.process


def cli(
    *args: str, database_url: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workshop_data", *args, "--database-url", database_url],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        input=stdin,
        # Wide enough that no table row of `users list` wraps.
        env={**os.environ, "COLUMNS": "200"},
    )


def table_rows(listing: str) -> list[list[str]]:
    """The cells of each body row of a Rich table, as `users list` prints it."""
    return [
        [cell.strip() for cell in line.strip("│").split("│")]
        for line in listing.splitlines()
        if line.startswith("│")
    ]


def test_users_create_list_delete(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert cli("migrate", database_url=url).returncode == 0
    created = cli(
        "users",
        "create",
        "--username",
        "sam",
        "--password",
        "sam-tells-stories-42",
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
        "users",
        "create",
        "--username",
        "sam",
        "--password",
        "other-tells-stories-42",
        database_url=url,
    )
    assert duplicate.returncode == 1
    assert "already exists" in duplicate.stderr
    short = cli("users", "create", "--username", "kim", "--password", "short", database_url=url)
    assert short.returncode == 1
    assert "at least 8" in short.stderr
    listing = cli("users", "list", database_url=url)
    header = listing.stdout.splitlines()[1]
    assert [cell.strip() for cell in header.strip("┃").split("┃")] == [
        "id",
        "username",
        "role",
        "name",
        "email",
        "facilitator",
    ]
    assert table_rows(listing.stdout) == [["1", "sam", "facilitator", "Sam", "sam@example.org", ""]]
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
            "admin-keeps-the-keys-42",
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


def test_options_follow_the_input_policy(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'policy.db'}"
    forged = cli(
        "users",
        "create",
        "--username",
        "evil\r\n9\tadmin\tadmin",
        "--password",
        "evil-tells-stories-42",
        database_url=url,
    )
    assert forged.returncode == 1
    assert "control characters" in forged.stderr
    # An argument the terminal could not decode arrives as a lone surrogate: refused, no
    # traceback.
    undecodable = subprocess.run(
        [
            sys.executable.encode(),
            b"-m",
            b"workshop_data",
            b"users",
            b"create",
            b"--username",
            b"bad\xff",
            b"--password",
            b"bad-tells-stories-42",
            b"--database-url",
            url.encode(),
        ],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert undecodable.returncode == 2
    assert b"surrogate" in undecodable.stderr
    assert b"Traceback" not in undecodable.stderr
    named = cli(
        "users",
        "create",
        "--username",
        "ok",
        "--password",
        "ok-tells-stories-42",
        "--name",
        "A\x1b[2J",
        database_url=url,
    )
    assert named.returncode == 1
    listed = cli("users", "list", database_url=url)
    assert listed.returncode == 0
    assert table_rows(listed.stdout) == []  # nobody was created


def test_users_list_shows_stored_control_characters_escaped(tmp_path: Path) -> None:
    import sqlite3

    database = tmp_path / "old.db"
    url = f"sqlite:///{database}"
    assert cli("migrate", database_url=url).returncode == 0
    with sqlite3.connect(database) as conn:  # a row from before usernames were checked
        conn.execute(
            "INSERT INTO users (username, name, password_hash, role, created_at, updated_at) "
            "VALUES (?, ?, 'x', 'participant', '2026-01-01', '2026-01-01')",
            ("evil\r\n9\tadmin\tadmin", "Name\x1b[2J"),
        )
    listed = cli("users", "list", database_url=url)
    assert listed.returncode == 0
    rows = table_rows(listed.stdout)
    assert len(rows) == 1
    assert rows[0][1] == "evil\\u000d\\u000a9\\u0009admin\\u0009admin"
    assert rows[0][3] == "Name\\u001b[2J"
    assert "\x1b" not in listed.stdout
