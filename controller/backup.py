"""`loaxa backup` and `loaxa restore`: one archive holding the database, audio assets, keys and broker files.

Owns the archive's layout and the copy of a live database: SQLite through its online backup API (the
controller may keep running), PostgreSQL through pg_dump / pg_restore (custom format). Restoring refuses
a data directory that already holds a database, migrates an older backup to this version's schema, and
raises every stored plan version by a gap, so agents that accepted plans issued after the backup take
the restored controller's plans instead of refusing them as replays (docs/operations.md).
"""

import json
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import inspect, make_url, select

from controller.config import Settings
from controller.datadir import make_data_dir
from controller.db import Database, upgrade
from controller.db.models import Plan

FORMAT = 1
MANIFEST = "loaxa-backup.json"
SQLITE_NAME = "database.sqlite3"
PG_NAME = "database.pgdump"
# What the broker and the controller make again at start, and the database files copied apart.
_SKIP = {"controller.sock", "mosquitto.pid", "mosquitto.log", "loaxa.db", "loaxa.db-wal", "loaxa.db-shm"}
PLAN_VERSION_GAP = 100_000


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says what to do."""


@dataclass(frozen=True)
class Manifest:
    """What an archive holds."""

    format: int
    created_at: str
    database: str  # "sqlite" | "postgresql"

    @classmethod
    def read(cls, data: bytes) -> "Manifest":
        """Parse the manifest of an archive."""
        raw = json.loads(data)
        return cls(
            format=int(raw["format"]), created_at=str(raw["created_at"]), database=str(raw["database"])
        )


def _kind(url: str) -> str:
    backend = make_url(url).get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise BackupError(
            f"không sao lưu được cơ sở dữ liệu {backend}; loaxa chỉ hỗ trợ SQLite và PostgreSQL"
        )
    return backend


def _libpq_url(url: str) -> str:
    """The SQLAlchemy URL as pg_dump and pg_restore take it (no `+psycopg` driver part)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _run(command: list[str], what: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{what} lỗi (mã {result.returncode}): {result.stderr.strip()[-800:]}")


def _dump_database(settings: Settings, scratch: Path) -> tuple[str, Path]:
    kind = _kind(settings.db_url)
    if kind == "sqlite":
        target = scratch / SQLITE_NAME
        source_path = make_url(settings.db_url).database or ""
        if not Path(source_path).is_file():
            raise BackupError(f"không có cơ sở dữ liệu ở {source_path}: hãy kiểm tra LOAXA_DATA_DIR")
        source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)  # consistent even while the controller writes (online backup API)
        finally:
            copy.close()
            source.close()
        return kind, target
    target = scratch / PG_NAME
    _run(
        ["pg_dump", "--format=custom", "--no-owner", f"--file={target}", _libpq_url(settings.db_url)],
        "pg_dump",
    )
    return kind, target


def backup(settings: Settings, archive: Path, now: datetime) -> Path:
    """Write a .tar.gz of the database and data directory (assets, keys, broker files) to `archive`."""
    if not settings.data_dir.is_dir():
        raise BackupError(f"thư mục dữ liệu {settings.data_dir} không tồn tại: hãy kiểm tra LOAXA_DATA_DIR")
    if archive.resolve().is_relative_to(settings.data_dir.resolve()):
        raise BackupError(
            f"hãy ghi bản sao lưu ra ngoài thư mục dữ liệu {settings.data_dir}, ví dụ /var/backups/loaxa"
        )
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="loaxa-backup-") as scratch:
        kind, dump = _dump_database(settings, Path(scratch))
        manifest = {"format": FORMAT, "created_at": now.isoformat(), "database": kind}
        (Path(scratch) / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
        partial = archive.with_name(archive.name + ".partial")
        with tarfile.open(partial, "w:gz") as tar:
            tar.add(Path(scratch) / MANIFEST, MANIFEST)
            tar.add(dump, dump.name)
            tar.add(settings.data_dir, "data", filter=_keep)
        partial.chmod(0o600)  # it holds the signing key and every password hash
        partial.replace(archive)
    return archive


def _keep(member: tarfile.TarInfo) -> tarfile.TarInfo | None:
    name = Path(member.name).name
    return None if name in _SKIP or name.endswith(".partial") else member


def restore(settings: Settings, archive: Path, *, plan_version_gap: int = PLAN_VERSION_GAP) -> Manifest:
    """Bring the archive's data directory and database back into an empty place; returns its manifest."""
    if (
        (settings.data_dir / "loaxa.db").exists()
        or (settings.data_dir / "keys").exists()
        or _has_schema(settings.db_url)
    ):
        raise BackupError(
            f"{settings.data_dir} (hoặc cơ sở dữ liệu) đã có dữ liệu; hãy khôi phục vào thư mục dữ liệu "
            "và cơ sở dữ liệu trống (LOAXA_DATA_DIR, LOAXA_DATABASE_URL), hoặc chuyển dữ liệu cũ đi trước"
        )
    if not tarfile.is_tarfile(archive):
        raise BackupError(f"{archive} không phải bản sao lưu loaxa (tệp .tar.gz do `loaxa backup` tạo)")
    with (
        tarfile.open(archive, "r:gz") as tar,
        tempfile.TemporaryDirectory(prefix="loaxa-restore-") as scratch,
    ):
        try:
            manifest = Manifest.read(tar.extractfile(MANIFEST).read())  # type: ignore[union-attr]
        except (KeyError, AttributeError, ValueError) as exc:
            raise BackupError(f"{archive} thiếu {MANIFEST} hợp lệ: đây không phải bản sao lưu loaxa") from exc
        if manifest.format != FORMAT:
            raise BackupError(
                f"{archive} có định dạng {manifest.format}; phiên bản loaxa này đọc định dạng {FORMAT}: "
                "hãy dùng phiên bản loaxa đã tạo bản sao lưu"
            )
        kind = _kind(settings.db_url)
        if manifest.database != kind:
            raise BackupError(
                f"bản sao lưu chứa cơ sở dữ liệu {manifest.database} nhưng LOAXA_DATABASE_URL là {kind}; "
                "hãy khôi phục vào cùng loại cơ sở dữ liệu"
            )
        tar.extractall(scratch, filter="data")
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        shutil.copytree(Path(scratch) / "data", settings.data_dir, dirs_exist_ok=True)
        if kind == "sqlite":
            shutil.copyfile(Path(scratch) / SQLITE_NAME, settings.data_dir / "loaxa.db")
        else:
            dbname = f"--dbname={_libpq_url(settings.db_url)}"
            options = ["--clean", "--if-exists", "--no-owner", "--exit-on-error", dbname]
            _run(["pg_restore", *options, str(Path(scratch) / PG_NAME)], "pg_restore")
    make_data_dir(settings)  # 0700, and 0600 for the SQLite file, whatever the archive's modes were
    upgrade(settings.db_url)  # a backup of an older version gets this version's schema
    _raise_plan_versions(settings.db_url, plan_version_gap)
    return manifest


def _has_schema(url: str) -> bool:
    if _kind(url) == "sqlite":
        return False  # the file itself is checked
    database = Database(url)
    try:
        return inspect(database.engine).has_table("alembic_version")
    finally:
        database.dispose()


def _raise_plan_versions(url: str, gap: int) -> None:
    database = Database(url)
    try:
        with database.session() as session:
            for plan in session.scalars(select(Plan)):
                plan.version += gap
                plan.body = {**plan.body, "version": plan.version}
    finally:
        database.dispose()
