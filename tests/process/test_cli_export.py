"""`workshop-data export`: one user's JSON, or every user's as streamed NDJSON."""

import asyncio
import base64
import hashlib
import json
import os
import pty
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.api.images import image_bytes
from workshop_data.assessments.service import save_assessment
from workshop_data.catalog.service import load_catalog
from workshop_data.db.engine import create_engine
from workshop_data.db.migrate import upgrade_to_head
from workshop_data.navigation import service as navigation
from workshop_data.navigation.schemas import ProgressUpdate
from workshop_data.settings import Settings
from workshop_data.step_data.history import HistoryPolicy
from workshop_data.step_data.service import save_step
from workshop_data.uploads.service import store_upload
from workshop_data.uploads.storage import DatabaseUploadStore
from workshop_data.users.service import create_user

pytestmark = pytest.mark.process

CATALOG = load_catalog()
USERNAMES = ["ada", "bo", "cy"]


def cli(*args: str, database_url: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workshop_data", *args, "--database-url", database_url],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        **kwargs,
    )


def uploaded(username: str) -> list[bytes]:
    """Two images per user, different for every user (their sizes are)."""
    width = 10 + USERNAMES.index(username)
    return [image_bytes("PNG", (width, 7)), image_bytes("GIF", (width, 9))]


def entered(username: str) -> dict[str, Any]:
    return {
        "ast": {"2-1": {"starPower": f"{username} ✨", "empty": "", "n": [[1], []]}},
        "ia": {
            "ia-3-4": {"whyReflection": f"why {username}", "image": "data:image/png;base64,AA=="}
        },
    }


async def seed(database_url: str) -> None:
    engine = create_engine(Settings(database_url=database_url))
    await upgrade_to_head(engine)
    async with engine.connect() as conn:
        for username in USERNAMES:
            user = await create_user(
                conn, username=username, password=f"{username}-quiet-harbor-71"
            )
            for workshop, steps in entered(username).items():
                for step_id, data in steps.items():
                    await save_step(
                        conn,
                        user_id=user.id,
                        step=CATALOG.step(workshop, step_id),
                        data=data,
                        base_version=None,
                        request_id=None,
                    )
            change = navigation.check_change(
                CATALOG, "ast", ProgressUpdate(completed_steps=["2-1"], current_step_id="2-1")
            )
            await navigation.update_progress(conn, CATALOG, user.id, change)
            await save_assessment(
                conn, user.id, "cantrilLadder", {"wellBeingLevel": 0, "futureWellBeingLevel": 7}
            )
            for content in uploaded(username):
                await store_upload(conn, DatabaseUploadStore(), user.id, content, 10**6)
    await engine.dispose()


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'export.db'}"
    asyncio.run(seed(url))
    return url


def check(export: dict[str, Any], username: str) -> None:
    assert export["userInfo"]["username"] == username
    steps = export["workshopStepData"]
    assert {w: {s: r["data"] for s, r in records.items()} for w, records in steps.items()} == (
        entered(username)
    )
    assert export["navigationProgress"]["ast"]["completedSteps"] == ["2-1"]
    assert export["assessments"]["cantrilLadder"]["results"] == {
        "wellBeingLevel": 0,
        "futureWellBeingLevel": 7,
    }
    assert export["workshopParticipation"][0]["workshopType"] == "ast"
    files = [base64.b64decode(entry["base64"], validate=True) for entry in export["uploads"]]
    assert files == uploaded(username)
    for entry, content in zip(export["uploads"], files, strict=True):
        assert entry["sha256"] == hashlib.sha256(content).hexdigest()
        assert entry["size"] == len(content)
        assert entry["url"] == f"/api/uploads/{entry['id']}"
    assert [entry["contentType"] for entry in export["uploads"]] == ["image/png", "image/gif"]
    metadata = export["exportMetadata"]
    assert metadata["dataVersion"] == "2.1"
    assert metadata["exportedBy"] == "workshop-data export"
    assert metadata["totalWorkshopSteps"] == 2


def test_export_one_user(database_url: str, tmp_path: Path) -> None:
    to_stdout = cli("export", "--user", "bo", database_url=database_url)
    assert to_stdout.returncode == 0, to_stdout.stderr
    check(json.loads(to_stdout.stdout), "bo")

    target = tmp_path / "bo.json"
    to_file = cli("export", "--user", "bo", "--output", str(target), database_url=database_url)
    assert to_file.returncode == 0, to_file.stderr
    assert to_file.stdout == ""
    check(json.loads(target.read_text(encoding="utf-8")), "bo")

    missing_target = tmp_path / "nobody.json"
    unknown = cli(
        "export", "--user", "nobody", "--output", str(missing_target), database_url=database_url
    )
    assert unknown.returncode == 1
    assert "no user 'nobody'" in unknown.stderr
    assert not missing_target.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bo.json", "export.db"]


def test_export_all_as_ndjson(database_url: str, tmp_path: Path) -> None:
    target = tmp_path / "all.ndjson"
    result = cli(
        "export", "--all", "--output", str(target), "--batch-size", "2", database_url=database_url
    )
    assert result.returncode == 0, result.stderr
    assert "exported 3 users" in result.stderr
    lines = target.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(USERNAMES)
    exports = [json.loads(line) for line in lines]
    for export, username in zip(exports, USERNAMES, strict=True):
        check(export, username)
    assert len({e["exportMetadata"]["exportedAt"] for e in exports}) == 1

    streamed = cli("export", "--all", database_url=database_url)
    assert streamed.returncode == 0, streamed.stderr
    assert [json.loads(line)["userInfo"]["username"] for line in streamed.stdout.splitlines()] == (
        USERNAMES
    )


def test_export_needs_exactly_one_of_user_and_all(database_url: str) -> None:
    for args in ((), ("--all", "--user", "bo")):
        result = cli("export", *args, database_url=database_url)
        assert result.returncode == 2
        assert "either --user" in result.stderr


def test_progress_bar_on_a_terminal(database_url: str, tmp_path: Path) -> None:
    controller, terminal = pty.openpty()
    try:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "workshop_data",
                "export",
                "--all",
                "--output",
                str(tmp_path / "all.ndjson"),
                "--database-url",
                database_url,
            ],
            stdout=subprocess.PIPE,
            stderr=terminal,
            timeout=60,
            check=False,
        )
        os.close(terminal)
        shown = b""
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(controller)
    assert result.returncode == 0
    assert b"exporting" in shown
    assert b"100%" in shown


def test_export_includes_history_only_with_the_flag(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'history.db'}"

    async def seed() -> None:
        engine = create_engine(Settings(database_url=url))
        await upgrade_to_head(engine)
        async with engine.connect() as conn:
            user = await create_user(conn, username="hana", password="hana-password-long")
            for text in ("first", "second"):
                await save_step(
                    conn,
                    user_id=user.id,
                    step=CATALOG.step("ia", "ia-3-4"),
                    data={"whyReflection": text},
                    base_version=None,
                    request_id=None,
                    history=HistoryPolicy(20, 30),
                )
        await engine.dispose()

    asyncio.run(seed())
    plain = cli("export", "--user", "hana", database_url=url)
    assert plain.returncode == 0, plain.stderr
    assert "workshopStepHistory" not in json.loads(plain.stdout)
    with_history = cli("export", "--user", "hana", "--history", database_url=url)
    assert with_history.returncode == 0, with_history.stderr
    versions = json.loads(with_history.stdout)["workshopStepHistory"]["ia"]["ia-3-4"]
    assert [(v["version"], v["data"]["whyReflection"]) for v in versions] == [
        (2, "second"),
        (1, "first"),
    ]
    every = cli("export", "--all", "--history", database_url=url)
    assert every.returncode == 0, every.stderr
    (line,) = every.stdout.splitlines()
    assert len(json.loads(line)["workshopStepHistory"]["ia"]["ia-3-4"]) == 2
