"""Online backup and restore: SQLite's backup API, PostgreSQL's pg_dump/pg_restore."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from peewee import Database, PostgresqlDatabase

from desk.core.errors import BadInput, DatabaseFault


def backup(db: Database, target: Path) -> Path:
    """Write a consistent copy of the live database to ``target`` (safe while others write)."""
    target = target.expanduser()
    if target.exists() and target.is_dir():
        raise BadInput("FILE", f"{target} is a folder; give a file name")
    if not target.parent.exists():
        raise BadInput("FILE", f"the folder {target.parent} does not exist")
    partial = target.with_name(target.name + ".partial")
    if isinstance(db, PostgresqlDatabase):
        _pg_tool("pg_dump", db, ["--format=custom", "--no-owner", f"--file={partial}"])
    else:
        dest = sqlite3.connect(partial)
        try:
            db.connection().backup(dest)  # one step: a consistent snapshot
        finally:
            dest.close()
    os.replace(partial, target)
    return target


def restore(db: Database, source: Path) -> None:
    """Replace the database's contents with the backup at ``source``."""
    source = source.expanduser()
    if not source.is_file():
        raise BadInput("FILE", f"no backup file at {source}")
    if isinstance(db, PostgresqlDatabase):
        with source.open("rb") as handle:
            if handle.read(5) != b"PGDMP":
                raise BadInput("FILE", f"{source} is not a desk PostgreSQL backup (pg_dump -Fc)")
        db.close()
        _pg_tool("pg_restore", db, ["--clean", "--if-exists", "--no-owner",
                                    "--single-transaction", str(source)])
        db.connect(reuse_if_open=True)
        return
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        try:
            src.execute("SELECT MAX(version) FROM schema_version").fetchone()
            check = src.execute("PRAGMA integrity_check").fetchall()
        except sqlite3.DatabaseError:
            raise BadInput("FILE", f"{source} is not a desk SQLite backup") from None
        if check != [("ok",)]:
            raise BadInput("FILE", f"{source} is damaged ({check[0][0]}); the database was "
                           "not changed. Try an older backup.")
        src.backup(db.connection())
    finally:
        src.close()


def _pg_tool(tool: str, db: PostgresqlDatabase, args: list[str]) -> None:
    exe = shutil.which(tool)
    if exe is None:
        raise DatabaseFault("missing_tool", f"{tool} is not installed; install the PostgreSQL "
                            "client tools (Debian: postgresql-client) to back up or restore")
    params = db.connect_params
    env = dict(os.environ)
    if params.get("password"):
        env["PGPASSWORD"] = str(params["password"])
    cmd = [exe, f"--dbname={db.database}"]
    for key, flag in (("host", "--host"), ("port", "--port"), ("user", "--username")):
        if params.get(key):
            cmd.append(f"{flag}={params[key]}")
    proc = subprocess.run(cmd + args, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        raise DatabaseFault("backup_failed", f"{tool} failed: {detail[-1] if detail else ''}")
