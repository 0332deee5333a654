"""Recording deleted channel messages on their raw rows (never erasing them)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import aiopg

# The first deletion time wins: a repeat (the gateway resends at least once) changes nothing.
_MARK_SQL = """
WITH input AS (
    SELECT * FROM jsonb_to_recordset(%(rows)s::jsonb)
        AS x(channel_id bigint, message_id bigint, deleted_at timestamptz)
),
marked AS (
    UPDATE telegram_messages m SET deleted_at = i.deleted_at, updated_at = now()
    FROM input i
    WHERE m.channel_id = i.channel_id AND m.message_id = i.message_id AND m.deleted_at IS NULL
    RETURNING m.channel_id, m.message_id
)
SELECT
    (SELECT count(*) FROM marked),
    (SELECT count(*) FROM input i WHERE NOT EXISTS (
        SELECT 1 FROM telegram_messages m
        WHERE m.channel_id = i.channel_id AND m.message_id = i.message_id))
"""


@dataclass(frozen=True, slots=True)
class DeletionOutcome:
    recorded: int  # rows newly marked deleted
    unknown: int  # deletions of messages this database never stored


async def mark_deleted(pool: aiopg.Pool, deletions: list[dict]) -> DeletionOutcome:
    rows = [
        {
            "channel_id": d["channelId"],
            "message_id": d["messageId"],
            "deleted_at": d["deletedAt"].isoformat(),
        }
        for d in deletions
    ]
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute(_MARK_SQL, {"rows": json.dumps(rows)})
        recorded, unknown = await cur.fetchone()
    return DeletionOutcome(int(recorded), int(unknown))
