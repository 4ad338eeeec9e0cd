"""What this database file holds: tables of features a report reads only when they exist (any schema version)."""

from __future__ import annotations

from bot.storage.db import Database


async def table_exists(db: Database, table: str) -> bool:
    return bool(await db.fetchval("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)))


async def table_has_rows(db: Database, table: str) -> bool:
    """Whether a table of another feature exists in this database and holds anything."""
    if not await table_exists(db, table):
        return False
    return bool(await db.fetchval(f'SELECT EXISTS (SELECT 1 FROM "{table}")'))
