"""Re-running the parser over stored raw messages after a parser change."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import aiopg

from app.api.ingest import build_record

# Timestamps as PostgreSQL's text: they only go back to match the same rows, and
# a stored value Python cannot represent (1 BC, infinity) must not stop a re-parse.
_SELECT = """
SELECT id, channel_id, message_id, ts::text, text, channel_name, edit_date::text, source,
       forwarded_to
FROM telegram_messages
WHERE id > %(after)s {extra}
ORDER BY id
LIMIT %(chunk)s
"""

_APPLY = """
WITH input AS (
    SELECT * FROM jsonb_to_recordset(%(rows)s::jsonb) AS x(
        idx int, channel_id bigint, message_id bigint, ts timestamptz, text text,
        channel_name text, source text, parse_status text, parse_reason text, is_signal boolean,
        asset text, signal_type text, side text, buy_min numeric, buy_max numeric,
        target_1 numeric, target_2 numeric, target_final numeric, targets numeric[],
        stop numeric)
),
msg AS (
    UPDATE telegram_messages m
    SET parse_status = i.parse_status, parse_reason = i.parse_reason
    FROM input i
    WHERE m.channel_id = i.channel_id AND m.message_id = i.message_id AND m.ts = i.ts
      AND (m.parse_status, coalesce(m.parse_reason, ''))
          IS DISTINCT FROM (i.parse_status, coalesce(i.parse_reason, ''))
    RETURNING m.id
),
sig AS (
    INSERT INTO tp_capital_signals AS s
        (channel_id, message_id, ts, channel_name, source, asset, signal_type, side,
         buy_min, buy_max, target_1, target_2, target_final, targets, stop, raw_message)
    SELECT i.channel_id, i.message_id, i.ts, i.channel_name, i.source, i.asset, i.signal_type,
           i.side, i.buy_min, i.buy_max, i.target_1, i.target_2, i.target_final,
           coalesce(i.targets, '{}'), i.stop, i.text
    FROM input i
    JOIN telegram_messages m
      ON m.channel_id = i.channel_id AND m.message_id = i.message_id AND m.ts = i.ts
    WHERE i.is_signal AND m.signal_deleted_at IS NULL
    ON CONFLICT (channel_id, message_id, ts) DO UPDATE SET
        asset = EXCLUDED.asset, signal_type = EXCLUDED.signal_type, side = EXCLUDED.side,
        buy_min = EXCLUDED.buy_min, buy_max = EXCLUDED.buy_max,
        target_1 = EXCLUDED.target_1, target_2 = EXCLUDED.target_2,
        target_final = EXCLUDED.target_final, targets = EXCLUDED.targets,
        stop = EXCLUDED.stop, version = s.version + 1, updated_at = now()
    WHERE (s.asset, s.signal_type, s.side, s.buy_min, s.buy_max, s.target_1, s.target_2,
           s.target_final, s.targets, s.stop)
          IS DISTINCT FROM
          (EXCLUDED.asset, EXCLUDED.signal_type, EXCLUDED.side, EXCLUDED.buy_min,
           EXCLUDED.buy_max, EXCLUDED.target_1, EXCLUDED.target_2, EXCLUDED.target_final,
           EXCLUDED.targets, EXCLUDED.stop)
    RETURNING s.version
),
gone AS (
    DELETE FROM tp_capital_signals s USING input i
    WHERE NOT i.is_signal
      AND s.channel_id = i.channel_id AND s.message_id = i.message_id AND s.ts = i.ts
    RETURNING s.id
)
SELECT (SELECT count(*) FROM msg),
       (SELECT count(*) FROM sig WHERE version = 1),
       (SELECT count(*) FROM sig WHERE version > 1),
       (SELECT count(*) FROM gone)
"""


@dataclass
class ReparseReport:
    scanned: int = 0
    status_changed: int = 0
    signals_created: int = 0
    signals_updated: int = 0
    signals_removed: int = 0
    by_status: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "scanned": self.scanned,
            "statusChanged": self.status_changed,
            "signalsCreated": self.signals_created,
            "signalsUpdated": self.signals_updated,
            "signalsRemoved": self.signals_removed,
            "byStatus": self.by_status,
        }


async def reparse(
    pool: aiopg.Pool,
    *,
    status: str | None = None,
    channel_id: int | None = None,
    from_: Any = None,
    to: Any = None,
    limit: int | None = None,
    chunk: int = 500,
) -> ReparseReport:
    extra = []
    params: dict[str, Any] = {"after": 0, "chunk": chunk}
    if status:
        extra.append("AND parse_status = %(status)s")
        params["status"] = status
    if channel_id is not None:
        extra.append("AND channel_id = %(channel_id)s")
        params["channel_id"] = channel_id
    if from_:
        extra.append("AND ts >= %(from)s")
        params["from"] = from_
    if to:
        extra.append("AND ts <= %(to)s")
        params["to"] = to
    select = _SELECT.format(extra=" ".join(extra))
    report = ReparseReport()
    async with pool.acquire() as conn, conn.cursor() as cur:
        while limit is None or report.scanned < limit:
            if limit is not None:
                params["chunk"] = min(chunk, limit - report.scanned)
            await cur.execute(select, params)
            rows = await cur.fetchall()
            if not rows:
                break
            records = [
                build_record(
                    row[0],
                    {
                        "channelId": row[1],
                        "messageId": row[2],
                        "timestamp": row[3],
                        "text": row[4],
                        "channelName": row[5],
                        "editDate": row[6],
                        "source": row[7],
                        "forwardedTo": row[8],
                    },
                )
                for row in rows
            ]
            for record in records:
                report.by_status[record.parse_status] = (
                    report.by_status.get(record.parse_status, 0) + 1
                )
            payload = json.dumps([r.row() for r in records], ensure_ascii=False)
            await cur.execute(_APPLY, {"rows": payload})
            changed, created, updated, removed = await cur.fetchone()
            report.scanned += len(rows)
            report.status_changed += changed
            report.signals_created += created
            report.signals_updated += updated
            report.signals_removed += removed
            params["after"] = rows[-1][0]
    return report
