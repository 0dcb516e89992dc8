"""The controller's data directory: private to the service user.

Owns creating `data_dir` with mode 0700 and its SQLite database with mode 0600 (SQLite gives its -wal
and -shm files the database's mode), so the database — users' password hashes, device password hashes,
audit log — is not readable by other accounts on the machine (issue 20: `var/demo/loaxa.db` was 0644).
It must not read or write what is inside: keys are controller.keys', the database controller.db's.
"""

from pathlib import Path

from controller.config import Settings

DATABASE_FILE = "loaxa.db"  # the default SQLite file (Settings.db_url)


def make_data_dir(settings: Settings) -> Path:
    """Create data_dir (0700) and, for the default SQLite database, its file (0600); tighten existing ones."""
    path = settings.data_dir
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)
    if settings.database_url is None:
        (path / DATABASE_FILE).touch(mode=0o600, exist_ok=True)
        for database in path.glob(f"{DATABASE_FILE}*"):
            database.chmod(0o600)
    return path
