"""Every mistake an operator can make on the command line ends in one line on stderr and exit
code 1, never a traceback; and the commands that fix accounts (set-password, set-facilitator,
workshop reopen) do what they say."""

import asyncio
import os
import pty
import select
import sqlite3
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.server_process import ServerProcess, free_port
from tests.support import POSTGRES_URL, REPO_ROOT, REQUIRE_POSTGRES, scratch_postgres_database
from workshop_data.db.engine import create_engine
from workshop_data.db.migrate import upgrade_to
from workshop_data.settings import Settings

pytestmark = pytest.mark.process

STRONG = "maria-keeps-notes-42"
UNREACHABLE = "postgresql://postgres:s3cret-in-url@127.0.0.1:1/workshop"


def cli(
    *args: str, database_url: str | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    url = ["--database-url", database_url] if database_url is not None else []
    return subprocess.run(
        [sys.executable, "-m", "workshop_data", *args, *url],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        input=stdin,
        env={**os.environ, "COLUMNS": "200"},
    )


def one_line_error(result: subprocess.CompletedProcess[str], *expected: str) -> str:
    """The error line, after checking that it is the only output and that it says `expected`."""
    assert "Traceback" not in result.stderr + result.stdout
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for text in expected:
        assert text in lines[0]
    return lines[0]


def postgres_or_skip() -> None:
    async def probe() -> None:
        connection = await asyncpg.connect(POSTGRES_URL, timeout=5)
        await connection.close()

    try:
        asyncio.run(probe())
    except (OSError, asyncpg.PostgresError) as error:
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL is not reachable at {POSTGRES_URL}: {error}")
        pytest.skip(f"PostgreSQL is not reachable at {POSTGRES_URL}: {error}")


COMMANDS = {
    "serve": ["serve", "--port", "1"],
    "migrate": ["migrate"],
    "demo": ["demo"],
    "users create": ["users", "create", "--username", "maria", "--password", STRONG],
    "users list": ["users", "list"],
    "users delete": ["users", "delete", "--username", "maria"],
    "users set-facilitator": ["users", "set-facilitator", "maria", "--none"],
    "workshop reopen": ["workshop", "reopen", "maria", "ast"],
    "export": ["export", "--user", "maria"],
    "export --all": ["export", "--all"],
    "uploads prune": ["uploads", "prune"],
}


BAD_URLS = {
    "mysql": ("mysql://root:s3cret-in-url@localhost/db", "unsupported database 'mysql'"),
    "unreachable": (
        UNREACHABLE,
        "cannot reach the database server at 127.0.0.1:1: connection refused",
    ),
    "missing-folder": ("sqlite:////nonexistent-folder/wd.db", "mkdir -p /nonexistent-folder"),
}
# Every command with one kind of bad URL (each kind in turn), and two commands with every kind:
# all the commands share one path to the database, and each process takes seconds to start.
CASES = [
    (name, command, kind)
    for index, (name, command) in enumerate(COMMANDS.items())
    for kind in (
        list(BAD_URLS) if name in ("migrate", "users list") else [list(BAD_URLS)[index % 3]]
    )
]


@pytest.mark.parametrize(
    ("command", "kind"),
    [(command, kind) for _, command, kind in CASES],
    ids=[f"{name}-{kind}" for name, _, kind in CASES],
)
def test_a_bad_database_url_is_one_line_for_every_command(command: list[str], kind: str) -> None:
    bad_url, expected = BAD_URLS[kind]
    line = one_line_error(cli(*command, database_url=bad_url), expected)
    assert "s3cret-in-url" not in line
    if "s3cret" in bad_url:
        assert ":***@" in line


def test_set_password_with_a_bad_url_is_one_line() -> None:
    result = cli(
        "users",
        "set-password",
        "maria",
        "--password-stdin",
        database_url=UNREACHABLE,
        stdin=STRONG + "\n",
    )
    one_line_error(result, "cannot reach the database server")


def test_a_missing_postgres_database_says_how_to_create_it() -> None:
    postgres_or_skip()
    server = POSTGRES_URL.rsplit("/", 1)[0].replace("postgresql://postgres@", "")
    url = f"postgresql://postgres:s3cret-in-url@{server}/wd_missing_database"
    host, _, port = server.partition(":")
    for command in (["migrate"], ["users", "list"], ["export", "--all"]):
        line = one_line_error(
            cli(*command, database_url=url),
            "the database 'wd_missing_database' does not exist",
            f"create it with: createdb -h {host} -p {port} -U postgres wd_missing_database",
        )
        assert "s3cret-in-url" not in line


def test_a_database_url_from_the_environment_is_checked_too() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "workshop_data", "users", "list"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "WORKSHOP_DATA_DATABASE_URL": "mysql://u:pw-here@db/x"},
    )
    line = one_line_error(result, "unsupported database 'mysql'", "mysql://u:***@db/x")
    assert "pw-here" not in line


def test_a_bad_setting_is_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "workshop_data", "users", "list"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={
            **os.environ,
            "WORKSHOP_DATA_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
            "WORKSHOP_DATA_HISTORY_VERSIONS": "many",
        },
    )
    one_line_error(result, "WORKSHOP_DATA_HISTORY_VERSIONS")


def test_permission_denied_is_one_line(tmp_path: Path) -> None:
    # /sys refuses new files even to root, who may write anywhere else.
    one_line_error(cli("migrate", database_url="sqlite:////sys/wd.db"), "permission denied")
    url = f"sqlite:///{tmp_path / 'ok.db'}"
    assert cli("migrate", database_url=url).returncode == 0
    one_line_error(
        cli("export", "--all", "--output", "/sys/export.ndjson", database_url=url),
        "cannot write /sys/export.ndjson",
        "ermission denied",
    )


def test_export_into_a_missing_folder_or_over_a_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'export.db'}"
    created = cli("users", "create", "--username", "maria", "--password", STRONG, database_url=url)
    assert created.returncode == 0, created.stderr
    missing = tmp_path / "no-such-folder" / "all.ndjson"
    for command in (["--all"], ["--user", "maria"]):
        one_line_error(
            cli("export", *command, "--output", str(missing), database_url=url),
            f"the folder {missing.parent} does not exist",
        )
    into_folder = cli("export", "--all", "--output", str(tmp_path), database_url=url)
    assert into_folder.returncode == 2  # a usage error, told by the option's own check
    assert "is a directory" in into_folder.stderr
    assert "Traceback" not in into_folder.stderr

    existing = tmp_path / "all.ndjson"
    existing.write_text("keep me\n")
    for command in (["--all"], ["--user", "maria"]):
        one_line_error(
            cli("export", *command, "--output", str(existing), database_url=url),
            f"{existing} exists already; add --force to overwrite it",
        )
        assert existing.read_text() == "keep me\n"
    forced = cli("export", "--all", "--output", str(existing), "--force", database_url=url)
    assert forced.returncode == 0, forced.stderr
    assert '"username":"maria"' in existing.read_text().replace(" ", "")
    fresh = tmp_path / "maria.json"
    assert cli("export", "--user", "maria", "-o", str(fresh), database_url=url).returncode == 0
    assert fresh.exists()
    assert not [path for path in tmp_path.iterdir() if path.name.endswith(".partial")]


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["--password", "password"], "too easy to guess: This is a top-10 common password"),
        (["--password", "12345678"], "too easy to guess: This is a top-10 common password"),
        (["--password", "maria1234"], "too easy to guess"),
        (["--password", STRONG, "--email", "nope"], "email is not valid"),
        (["--password", STRONG, "--email", "maria@localhost"], "email is not valid"),
    ],
)
def test_users_create_refuses_weak_passwords_and_bad_emails(
    tmp_path: Path, arguments: list[str], expected: str
) -> None:
    url = f"sqlite:///{tmp_path / 'create.db'}"
    one_line_error(
        cli("users", "create", "--username", "maria", *arguments, database_url=url), expected
    )
    assert "maria" not in cli("users", "list", database_url=url).stdout


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["--password", STRONG, "--name", "M" * 201], "name must be at most 200 characters"),
        (["--password", STRONG + "x" * 1000], "password must be at most 1000 characters"),
    ],
)
def test_users_create_refuses_what_the_admin_api_refuses(
    tmp_path: Path, arguments: list[str], expected: str
) -> None:
    url = f"sqlite:///{tmp_path / 'create.db'}"
    one_line_error(
        cli("users", "create", "--username", "maria", *arguments, database_url=url), expected
    )
    assert "maria" not in cli("users", "list", database_url=url).stdout


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'accounts.db'}"
        return
    postgres_or_skip()
    with scratch_postgres_database("wd_cli") as url:
        yield url


def create(database_url: str, username: str, *more: str) -> None:
    created = cli(
        "users",
        "create",
        "--username",
        username,
        "--password",
        STRONG,
        *more,
        database_url=database_url,
    )
    assert created.returncode == 0, created.stderr


def test_usernames_are_unique_in_any_case(database_url: str) -> None:
    create(database_url, "maria", "--email", "maria@example.org")
    one_line_error(
        cli(
            "users",
            "create",
            "--username",
            "MARIA",
            "--password",
            STRONG,
            database_url=database_url,
        ),
        "a user with username 'MARIA' (in any letter case) or that email already exists",
    )
    listing = cli("users", "list", database_url=database_url).stdout
    assert "MARIA" not in listing
    assert listing.count("maria@example.org") == 1


def test_migrate_names_usernames_that_differ_only_in_case(tmp_path: Path) -> None:
    database = tmp_path / "old.db"
    url = f"sqlite:///{database}"

    async def before_0005() -> None:
        engine = create_engine(Settings(database_url=url))
        await upgrade_to(engine, "0004_step_history")
        await engine.dispose()

    asyncio.run(before_0005())
    with sqlite3.connect(database) as conn:
        for username in ("maria", "MARIA"):
            conn.execute(
                "INSERT INTO users (username, name, password_hash, role, created_at, updated_at)"
                " VALUES (?, '', 'x', 'participant', '2026-01-01', '2026-01-01')",
                (username,),
            )
    one_line_error(
        cli("migrate", database_url=url),
        "differ only in case ('maria', 'MARIA')",
        "rename or delete all but one of each",
    )


def test_users_list_has_a_header(database_url: str) -> None:
    create(database_url, "maria")
    lines = cli("users", "list", database_url=database_url).stdout.splitlines()
    assert [cell.strip() for cell in lines[1].strip("┃").split("┃")] == [
        "id",
        "username",
        "role",
        "name",
        "email",
        "facilitator",
    ]


def test_set_facilitator(database_url: str) -> None:
    create(database_url, "maria")
    create(database_url, "fran", "--role", "facilitator")

    def facilitator_of_maria() -> str:
        listing = cli("users", "list", database_url=database_url).stdout
        row = next(line for line in listing.splitlines() if "│ maria " in line)
        return row.strip("│").split("│")[5].strip()

    assigned = cli("users", "set-facilitator", "maria", "fran", database_url=database_url)
    assert assigned.returncode == 0, assigned.stderr
    assert "'maria' is assigned to the facilitator 'fran'" in assigned.stdout
    assert facilitator_of_maria() == "fran"
    one_line_error(
        cli("users", "set-facilitator", "fran", "maria", database_url=database_url),
        "'maria' is a participant, not a facilitator",
    )
    one_line_error(
        cli("users", "set-facilitator", "maria", "nobody", database_url=database_url),
        "no user 'nobody'",
    )
    assert facilitator_of_maria() == "fran"
    cleared = cli("users", "set-facilitator", "maria", "--none", database_url=database_url)
    assert cleared.returncode == 0, cleared.stderr
    assert facilitator_of_maria() == ""
    for ambiguous in (["maria"], ["maria", "fran", "--none"]):
        result = cli("users", "set-facilitator", *ambiguous, database_url=database_url)
        assert result.returncode == 2
        assert "give either a FACILITATOR username or --none" in result.stderr


def test_workshop_reopen(tmp_path: Path) -> None:
    database = tmp_path / "reopen.db"
    url = f"sqlite:///{database}"
    create(url, "maria")
    one_line_error(
        cli("workshop", "reopen", "maria", "ast", database_url=url),
        "the AST workshop of 'maria' is not completed; there is nothing to reopen",
    )
    one_line_error(
        cli("workshop", "reopen", "maria", "xyz", database_url=url),
        "WORKSHOP must be one of ast, ia",
    )
    one_line_error(cli("workshop", "reopen", "nobody", "ast", database_url=url), "no user")
    with sqlite3.connect(database) as conn:
        conn.execute(
            "INSERT INTO workshop_participation (user_id, workshop_type, started_at, completed_at)"
            " SELECT id, 'ast', '2026-01-01', '2026-01-02' FROM users WHERE username = 'maria'"
        )
    reopened = cli("workshop", "reopen", "MARIA", "ast", database_url=url)
    assert reopened.returncode == 0, reopened.stderr
    assert "its steps can be edited again" in reopened.stdout
    with sqlite3.connect(database) as conn:
        completed_at, reopened_at, reopened_by = conn.execute(
            "SELECT completed_at, reopened_at, reopened_by FROM workshop_participation"
        ).fetchone()
    assert completed_at is None
    assert reopened_at is not None
    assert reopened_by is None  # from the command line, not by an admin account
    one_line_error(cli("workshop", "reopen", "maria", "ast", database_url=url), "is not completed")


async def test_set_password_signs_the_user_out_everywhere(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'password.db'}"
    create(url, "maria")
    with ServerProcess(url) as server:
        async with httpx.AsyncClient(base_url=server.url) as client:
            signed_in = await client.post(
                "/api/auth/login", json={"username": "maria", "password": STRONG}
            )
            assert signed_in.status_code == 200
            assert (await client.get("/api/auth/me")).status_code == 200

            for weak, why in (("12345678", "too easy to guess"), ("short", "at least 8")):
                one_line_error(
                    cli(
                        "users",
                        "set-password",
                        "maria",
                        "--password-stdin",
                        database_url=url,
                        stdin=weak + "\n",
                    ),
                    why,
                )
            assert (await client.get("/api/auth/me")).status_code == 200  # nothing changed
            one_line_error(
                cli(
                    "users", "set-password", "maria", "--password-stdin", database_url=url, stdin=""
                ),
                "no password on standard input",
            )

            new_password = "a-new-and-longer-passphrase-7"
            changed = cli(
                "users",
                "set-password",
                "maria",
                "--password-stdin",
                database_url=url,
                stdin=new_password + "\n",
            )
            assert changed.returncode == 0, changed.stderr
            assert "password of 'maria' changed; 1 sessions signed out" in changed.stdout
            assert (await client.get("/api/auth/me")).status_code == 401
            old = await client.post(
                "/api/auth/login", json={"username": "maria", "password": STRONG}
            )
            assert old.status_code == 401
            new = await client.post(
                "/api/auth/login", json={"username": "maria", "password": new_password}
            )
            assert new.status_code == 200


def test_version() -> None:
    result = cli("--version")
    assert result.returncode == 0
    assert result.stdout == f"workshop-data {version('workshop-data')}\n"


def test_serve_says_what_to_open_and_which_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    port = free_port()
    command = [sys.executable, "-m", "workshop_data", "serve", "--port", str(port)]
    shown = in_a_terminal([*command, "--database-url", url], [], until="(make run PORT=8001)")
    printed = [line + "\n" for line in shown.replace("\r\n", "\n").splitlines()[:3]]
    assert printed[0] == f"open http://127.0.0.1:{port} in a browser\n"
    assert printed[1] == f"database: {url} (the file {tmp_path / 'serve.db'})\n"
    assert "WORKSHOP_DATA_PORT=8001" in printed[2]
    assert "make run PORT=8001" in printed[2]


def test_make_run_passes_the_port() -> None:
    def run_recipe(*variables: str) -> list[str]:
        dry_run = subprocess.run(
            ["make", "-n", "run", *variables],
            capture_output=True,
            text=True,
            cwd=REPO_ROOT,
            timeout=60,
            check=False,
        )
        return [line for line in dry_run.stdout.splitlines() if "workshop-data serve" in line]

    assert run_recipe("PORT=8001") == [".venv/bin/workshop-data serve --port 8001"]
    assert run_recipe() == [".venv/bin/workshop-data serve "]


def in_a_terminal(
    command: list[str], answers: list[str], timeout: float = 60, until: str | None = None
) -> str:
    """Run `command` with a pseudo-terminal as its terminal, typing each answer after the
    next prompt (a line ending in ': '); everything the terminal showed."""
    primary, secondary = pty.openpty()
    with subprocess.Popen(
        command, stdin=secondary, stdout=secondary, stderr=secondary, start_new_session=True
    ) as process:
        os.close(secondary)
        shown = b""
        pending = list(answers)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                ready, _, _ = select.select([primary], [], [], 0.5)
                if not ready:
                    if process.poll() is not None:
                        break
                    continue
                try:
                    chunk = os.read(primary, 4096)
                except OSError:  # the terminal closed: the command ended
                    break
                if not chunk:
                    break
                shown += chunk
                if until is not None and until.encode() in shown:
                    break
                # getpass writes the ": " after it has turned the echo off.
                if pending and shown.endswith(b": "):
                    os.write(primary, pending.pop(0).encode() + b"\n")
        finally:
            os.close(primary)
            process.kill()
    return shown.decode(errors="replace")


def test_set_password_prompts_twice_without_echo(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'prompt.db'}"
    create(url, "maria")
    new_password = "typed-at-the-prompt-58"
    command = [sys.executable, "-m", "workshop_data", "users", "set-password", "maria"]
    shown = in_a_terminal([*command, "--database-url", url], [new_password, new_password])
    assert "new password:" in shown
    assert "Repeat for confirmation:" in shown
    assert new_password not in shown
    assert "password of 'maria' changed" in shown
