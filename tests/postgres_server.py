"""A private PostgreSQL server for the tests: its own data directory and Unix socket, no TCP, no service.

It uses the PostgreSQL server binaries of the machine (`pg_ctl` on PATH, or the newest
/usr/lib/postgresql/*/bin), as CI's machine image ships PostgreSQL 15. A machine without them makes
the PostgreSQL tests fail with a message saying so: they are never skipped. `initdb` refuses to run
as root, so as root the server runs as the `postgres` user (`runuser`), in a directory it owns.
fsync is off for the tests (they stop and kill the server, never the machine, so the OS keeps what
it wrote); the benchmark keeps PostgreSQL's defaults (`durable=True`).
"""

import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg

SERVER_USER = "postgres"
SHARED = "flexbot_test"


class PostgresMissing(RuntimeError):
    pass


def binaries() -> Path:
    """The folder holding initdb and pg_ctl."""
    on_path = shutil.which("pg_ctl")
    candidates = [Path(on_path).resolve().parent] if on_path else []
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda path: int(path.parent.name)
                         if path.parent.name.isdigit() else 0, reverse=True)
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    raise PostgresMissing("PostgreSQL server binaries (initdb, pg_ctl) not found on PATH nor in "
                          "/usr/lib/postgresql/*/bin: install them (Debian: apt-get install postgresql) "
                          "to run the PostgreSQL tests")


class PostgresServer:
    def __init__(self, durable: bool = False) -> None:
        self.durable = durable
        self.bin = binaries()
        self.as_root = os.geteuid() == 0
        # /tmp, not pytest's tmp_path: the server's user must be able to reach its folder, and a
        # Unix socket path must stay under 108 bytes.
        self.root = Path(tempfile.mkdtemp(prefix="flexbot-pg-", dir="/tmp"))
        self.data = self.root / "data"
        if self.as_root:
            account = pwd.getpwnam(SERVER_USER)
            os.chown(self.root, account.pw_uid, account.pw_gid)
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", SERVER_USER, "--no-sync", "-E", "UTF8")

    def _run(self, tool: str, *arguments: str) -> None:
        command = [str(self.bin / tool), *arguments]
        if self.as_root:
            command = ["runuser", "-u", SERVER_USER, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, cwd=self.root)
        if result.returncode:
            raise RuntimeError(f"{tool} failed ({result.returncode}): {result.stderr.strip() or result.stdout.strip()}")

    def start(self) -> None:
        options = f"-k {self.root} -c listen_addresses='' -c max_connections=200"
        if not self.durable:
            options += " -c fsync=off -c full_page_writes=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-o", options, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        """`immediate` is a crash: the server stops at once and replays its log at the next start."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SERVER_USER}@/{database}?host={self.root}"

    def admin(self) -> psycopg.Connection:
        return psycopg.connect(self.url(), autocommit=True)

    def prepare_shared(self) -> None:
        """The database most tests use, schema migrated once, emptied before each test (`emptied`)."""
        from storage.pg_schema import upgrade

        with self.admin() as connection:
            connection.execute(f"CREATE DATABASE {SHARED}")
        with psycopg.connect(self.url(SHARED), autocommit=True) as connection:
            upgrade(connection)

    def emptied(self) -> str:
        """The shared database with no data left by an earlier test: truncating takes a few ms where
        a fresh database (CREATE DATABASE) takes a few hundred."""
        with psycopg.connect(self.url(SHARED), autocommit=True) as connection:
            connection.execute("SET lock_timeout = '5s'")  # a connection an earlier test left open fails here
            tables = [name for (name,) in connection.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_version'")]
            connection.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY")
        return self.url(SHARED)

    def fresh_database(self) -> str:
        """An empty database, no schema: for the migrations' own tests."""
        name = f"test_{secrets.token_hex(6)}"
        with self.admin() as connection:
            connection.execute(f"CREATE DATABASE {name}")
        return name

    def drop_database(self, name: str) -> None:
        with self.admin() as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def destroy(self) -> None:
        try:
            self.stop("immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
