"""Backups: ``vitrina backup`` copies a live SQLite database (while writers keep writing) into a consistent,
self-contained file that passes ``vitrina check``; on PostgreSQL it explains ``pg_dump`` and copies nothing.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.reliability import figures
from tests.support import settings_env
from vitrina.accounts import service as accounts
from vitrina.config import Settings
from vitrina.core.backup import BackupError, backup_sqlite, pg_dump_command
from vitrina.db.migrate import upgrade
from vitrina.db.session import Database


def vitrina(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vitrina.cli", *args], env=settings_env(settings),
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def sqlite_settings(tmp_path: Path) -> Settings:
    url = f"sqlite:///{tmp_path / 'live.db'}"
    upgrade(url)
    return Settings(database_url=url, data_dir=tmp_path / "data", secret_key="backup-test", log_level="WARNING")


def test_backup_of_a_busy_sqlite_database(sqlite_settings: Settings, tmp_path: Path) -> None:
    database = Database(sqlite_settings.database_url)
    stop = threading.Event()
    written: list[str] = []

    def keep_writing() -> None:
        while not stop.is_set():
            with database.unit_of_work() as session:
                organization, _ = accounts.create_organization(session, name=f"Busy {len(written)}")
                written.append(organization.id)

    writer = threading.Thread(target=keep_writing, daemon=True)
    writer.start()
    try:
        while len(written) < 20:
            stop.wait(0.05)
        target = tmp_path / "backups" / "vitrina-backup.db"
        result = vitrina(sqlite_settings, "backup", str(target), "--json")
        assert result.returncode == 0, result.stderr
        report = json.loads(result.stdout)
    finally:
        stop.set()
        writer.join(timeout=30)
        database.dispose()
    assert report["path"] == str(target) and report["size_bytes"] == target.stat().st_size > 0
    assert not list(target.parent.glob(".*partial*")), "a partial file was left behind"
    assert not Path(f"{target}-wal").exists(), "the copy depends on a WAL file"
    with sqlite3.connect(target) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        copied = {row[0] for row in copy.execute("SELECT id FROM organizations")}
        heads = copy.execute("SELECT count(*) FROM alembic_version").fetchone()[0]
    assert heads >= 1 and copied, "the copy lacks the schema or the data"
    assert copied <= set(written), "the copy holds rows that were never written"
    # A consistent snapshot: every organization in the copy has its admin key (they were written together).
    with sqlite3.connect(target) as copy:
        orphans = copy.execute("SELECT count(*) FROM organizations o WHERE NOT EXISTS "
                               "(SELECT 1 FROM api_keys k WHERE k.organization_id = o.id)").fetchone()[0]
    assert orphans == 0
    restored = sqlite_settings.model_copy(update={"database_url": f"sqlite:///{target}"})
    check = vitrina(restored, "check", "--json")
    assert check.returncode == 0, check.stdout + check.stderr
    figures.count("backup.rows_copied_under_load", len(copied))


def test_backup_refuses_to_overwrite_or_copy_onto_itself(sqlite_settings: Settings, tmp_path: Path) -> None:
    target = tmp_path / "existing.db"
    target.write_bytes(b"precious")
    refused = vitrina(sqlite_settings, "backup", str(target))
    assert refused.returncode == 1 and "--force" in refused.stderr
    assert target.read_bytes() == b"precious"
    assert vitrina(sqlite_settings, "backup", str(target), "--force").returncode == 0
    with sqlite3.connect(target) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    live = Path(sqlite_settings.database_url.removeprefix("sqlite:///"))
    with pytest.raises(BackupError, match="live database"):
        backup_sqlite(sqlite_settings.database_url, live, overwrite=True)


def test_postgresql_backup_explains_pg_dump(tmp_path: Path) -> None:
    url = "postgresql://vitrina:s3cret-password@db.example:5432/vitrina"
    settings = Settings(database_url=url, data_dir=tmp_path, secret_key="x")
    target = tmp_path / "dump.pgc"
    result = vitrina(settings, "backup", str(target))
    assert result.returncode == 2, "nothing was copied, so the command must not report success"
    assert "pg_dump" in result.stderr and "pg_restore" in result.stderr
    assert "s3cret-password" not in result.stderr + result.stdout, "the password was printed"
    assert not target.exists()
    command = pg_dump_command(url, target)
    assert command[0] == "pg_dump" and "--format=custom" in command
    assert command[-1] == "postgresql://vitrina@db.example:5432/vitrina"
