"""The schema is the bot's: created and migrated by `flexbot db upgrade` or at start, once, even by two processes at once."""

import threading

import psycopg
import pytest
from pydantic import SecretStr

from bot.cli import main as flexbot
from bot.config import Settings
from storage import pg_schema
from storage.pg_schema import LATEST, MIGRATIONS, Migration, SchemaMismatch
from storage.postgres_store import connect
from tests.conftest import TEST_KEY
from tests.postgres_server import PostgresServer


@pytest.fixture
def empty_url(postgres_server: PostgresServer):
    name = postgres_server.fresh_database()
    yield postgres_server.url(name)
    postgres_server.drop_database(name)


def versions(url: str) -> list[int]:
    with psycopg.connect(url) as connection:
        return [version for (version,) in connection.execute("SELECT version FROM schema_version ORDER BY version")]


def test_a_process_told_not_to_migrate_refuses_an_old_schema(empty_url: str) -> None:
    with pytest.raises(SchemaMismatch, match="flexbot db upgrade"):
        connect(empty_url, 2, migrate=False)
    connect(empty_url, 2, migrate=True).close()
    connect(empty_url, 2, migrate=False).close()


def test_upgrading_twice_applies_each_migration_once(empty_url: str, tmp_path, capsys) -> None:
    settings = Settings(_env_file=None, flexbot_data_dir=tmp_path, database_url=SecretStr(empty_url),
                        flexbot_secret_key=SecretStr(TEST_KEY.decode()))
    assert flexbot(["db", "upgrade"], settings) == 0
    assert f"Schema migrated to version {LATEST}" in capsys.readouterr().out
    assert flexbot(["db", "upgrade"], settings) == 0
    assert f"Schema already at version {LATEST}." in capsys.readouterr().out
    assert versions(empty_url) == [migration.version for migration in MIGRATIONS]


def test_two_processes_upgrading_at_once_both_succeed_and_migrate_once(empty_url: str) -> None:
    results: list[object] = []
    start = threading.Barrier(2)

    def upgrade() -> None:
        with psycopg.connect(empty_url, autocommit=True) as connection:
            start.wait()
            try:
                results.append(pg_schema.upgrade(connection))
            except Exception as error:  # noqa: BLE001 - the assertion names it
                results.append(error)

    threads = [threading.Thread(target=upgrade) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(results, key=len) == [[], [migration.version for migration in MIGRATIONS]]


def test_a_later_release_adds_a_migration_applied_once(empty_url: str, monkeypatch) -> None:
    with psycopg.connect(empty_url, autocommit=True) as connection:
        pg_schema.upgrade(connection)
        later = Migration(LATEST + 1, "an index for a later release", "CREATE INDEX later ON documents (updated_at)")
        monkeypatch.setattr(pg_schema, "MIGRATIONS", (*MIGRATIONS, later))
        monkeypatch.setattr(pg_schema, "LATEST", later.version)
        assert pg_schema.upgrade(connection) == [later.version]
        assert pg_schema.upgrade(connection) == []
        monkeypatch.setattr(pg_schema, "MIGRATIONS", MIGRATIONS)
        monkeypatch.setattr(pg_schema, "LATEST", LATEST)
        with pytest.raises(SchemaMismatch, match="newer"):  # an older release never runs on a newer schema
            pg_schema.upgrade(connection)


def test_db_upgrade_without_a_database_url_says_so(tmp_path, capsys) -> None:
    assert flexbot(["db", "upgrade"], Settings(_env_file=None, flexbot_data_dir=tmp_path)) == 2
    assert "DATABASE_URL is not set" in capsys.readouterr().err


def test_a_database_url_needs_a_shared_secret_key(tmp_path) -> None:
    with pytest.raises(ValueError, match="FLEXBOT_SECRET_KEY"):
        Settings(_env_file=None, flexbot_data_dir=tmp_path, database_url="postgresql://bot@db/flexbot")
    with pytest.raises(ValueError, match="postgresql://"):
        Settings(_env_file=None, flexbot_data_dir=tmp_path, database_url="mysql://bot@db/flexbot",
                 flexbot_secret_key=TEST_KEY.decode())


def test_the_bot_told_not_to_migrate_says_why_it_will_not_start(empty_url: str, tmp_path, capsys) -> None:
    settings = Settings(_env_file=None, flexbot_data_dir=tmp_path, database_url=SecretStr(empty_url),
                        flexbot_secret_key=SecretStr(TEST_KEY.decode()))
    with pytest.raises(SystemExit, match="run `flexbot db upgrade`"):
        flexbot(["run", "--no-migrate"], settings)
