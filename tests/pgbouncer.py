"""A PgBouncer in transaction pooling mode in front of the test PostgreSQL, for the "pgbouncer"
backend: its own configuration in a temporary directory, a free port, trust authentication,
every database of the server (`* = host=... port=...`). Started once per test session."""

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

from tests.server_process import free_port

# Debian's package; `.ci/run` installs it when missing.
PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"


def available() -> bool:
    return os.access(PGBOUNCER, os.X_OK)


class PgBouncer:
    def __init__(self, postgres_url: str, *, pool_size: int = 20) -> None:
        server = urlsplit(postgres_url)
        self.server_host = server.hostname or "127.0.0.1"
        self.server_port = server.port or 5432
        self.user = server.username or "postgres"
        self.pool_size = pool_size
        self.port = free_port()
        self.directory: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, database: str) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def _config(self, directory: Path) -> str:
        return "\n".join(
            [
                "[databases]",
                f"* = host={self.server_host} port={self.server_port}",
                "[pgbouncer]",
                "listen_addr = 127.0.0.1",
                f"listen_port = {self.port}",
                "unix_socket_dir =",
                "auth_type = trust",
                f"auth_file = {directory / 'userlist.txt'}",
                "pool_mode = transaction",
                f"default_pool_size = {self.pool_size}",
                "max_client_conn = 2000",
                "server_reset_query =",
                # Hand each transaction to the next server connection in turn, not the one
                # used last: what a busy PgBouncer does anyway, so a statement that relies on
                # staying on one server connection fails here too.
                "server_round_robin = 1",
                "ignore_startup_parameters = extra_float_digits",
                "log_connections = 0",
                "log_disconnections = 0",
                "",
            ]
        )

    def start(self, timeout: float = 15) -> "PgBouncer":
        self.directory = Path(tempfile.mkdtemp(prefix="wd-pgbouncer-"))
        (self.directory / "userlist.txt").write_text(f'"{self.user}" ""\n')
        config = self.directory / "pgbouncer.ini"
        config.write_text(self._config(self.directory))
        command = [PGBOUNCER, str(config)]
        if os.geteuid() == 0:
            # PgBouncer refuses to run as root; it reads its files as the user it becomes.
            command[1:1] = ["-u", "postgres"]
            account = pwd.getpwnam("postgres")
            for path in (self.directory, config, self.directory / "userlist.txt"):
                os.chown(path, account.pw_uid, account.pw_gid)
        log = self.directory / "pgbouncer.log"
        with log.open("ab") as output:  # the child keeps its own copy
            self.process = subprocess.Popen(
                command, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                error = log.read_text(errors="replace")
                raise RuntimeError(f"pgbouncer exited with {self.process.returncode}: {error}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("pgbouncer did not start listening")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> "PgBouncer":
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
