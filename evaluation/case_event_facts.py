"""The projections of the case events the indicators read — per case (`CaseEventFacts`) and
per department's share (`ShareEvent`): how to write them again from the events and how to
find where they differ from them.

The triggers of migrations 0005 and 0006 keep them; nothing in Python writes a row in normal
work. These two functions are for an operator (`manage.py case_event_facts`): after restoring
a dump taken without the triggers, or to prove the projections right. The per-case rows have
two forms of the same facts, the trigger's fold of one event and the grouped query below;
`differences` is what holds them equal. Neither is a domain write (no actor, no
event): they derive data from the events, which they never change.
"""

from __future__ import annotations

from django.db import connection, transaction

# The facts of each case from all its events, grouped; lists in append order (by id).
FACTS_FROM_EVENTS = """
SELECT e.case_id, max(e.at) AS last_event_at,
       min(e.at) FILTER (WHERE e.to_state = 'to_register') AS valid_at,
       min(e.at) FILTER (WHERE e.action = 'register') AS registered_at,
       min(e.at) FILTER (WHERE e.action = 'dispatch') AS dispatched_at,
       min(e.at) FILTER (WHERE e.action = 'close') AS closed_at,
       min(e.at) FILTER (WHERE e.to_state = 'void') AS voided_at,
       max(e.at) FILTER (WHERE e.action IN ('dispatch', 'redispatch', 'rework')) AS last_start,
       max(e.at) FILTER (WHERE e.action = 'feedback' AND e.to_state = 'to_check')
           AS last_feedback,
       COALESCE(array_agg(e.at ORDER BY e.id)
                FILTER (WHERE e.action IN ('dispatch', 'redispatch', 'rework')), '{}')
           AS start_times,
       COALESCE(array_agg(e.at ORDER BY e.id)
                FILTER (WHERE e.action = 'feedback' AND e.to_state = 'to_check'), '{}')
           AS feedback_times,
       COALESCE(array_agg(e.at ORDER BY e.id) FILTER (WHERE e.action = 'rework'), '{}')
           AS rework_times,
       count(*) FILTER (WHERE e.action = 'rework') AS reworks
FROM cases_caseevent e GROUP BY e.case_id"""

COLUMNS = (
    "last_event_at",
    "valid_at",
    "registered_at",
    "dispatched_at",
    "closed_at",
    "voided_at",
    "last_start",
    "last_feedback",
    "start_times",
    "feedback_times",
    "rework_times",
    "reworks",
)
LISTS = ("start_times", "feedback_times", "rework_times")

# The share events of every event, by the function the trigger uses (migration 0006).
SHARE_COLUMNS = "case_id, event_id, at, kind, code, any_share, late"
SHARES_FROM_EVENTS = """
SELECT e.case_id, e.id AS event_id, e.at, r.kind, r.code, r.any_share, r.late
FROM cases_caseevent e CROSS JOIN LATERAL evaluation_share_rows(e) r
WHERE e.action IN ('dispatch', 'redispatch', 'approve_transfer', 'feedback', 'return',
                   'approve_return')"""
STORED_SHARES = f"SELECT {SHARE_COLUMNS} FROM evaluation_shareevent"


def _sorted(table: str, column: str) -> str:
    # Concurrent appends to one case may land out of id order: lists compare as sets in order.
    if column in LISTS:
        return f"ARRAY(SELECT t FROM unnest({table}.{column}) t ORDER BY t)"
    return f"{table}.{column}"


def differences(limit: int = 20) -> tuple[int, list[int]]:
    """Gives how many cases' rows differ from their events (a case row or a share event
    missing, extra or with another value) and the ids of up to `limit` of them."""
    differs = " OR ".join(f"{_sorted('p', c)} IS DISTINCT FROM {_sorted('e', c)}" for c in COLUMNS)
    sql = f"""
WITH e AS MATERIALIZED ({FACTS_FROM_EVENTS}),
bad AS MATERIALIZED (
    SELECT COALESCE(p.case_id, e.case_id) AS case_id
    FROM evaluation_caseeventfacts p FULL JOIN e ON e.case_id = p.case_id
    WHERE p.case_id IS NULL OR e.case_id IS NULL OR {differs}
    UNION
    SELECT case_id FROM (
        (({STORED_SHARES}) EXCEPT ALL ({SHARES_FROM_EVENTS}))
        UNION ALL
        (({SHARES_FROM_EVENTS}) EXCEPT ALL ({STORED_SHARES}))
    ) shares
)
SELECT (SELECT count(*) FROM bad), ARRAY(SELECT case_id FROM bad ORDER BY 1 LIMIT %s)"""
    with connection.cursor() as cursor:
        cursor.execute(sql, [limit])
        count, ids = cursor.fetchone()
    return count, list(ids)


def rebuild() -> int:
    """Writes every case's row and share events again from the events, in one transaction
    that holds off new events meanwhile (they wait, then fold in); gives the number of case
    rows."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("LOCK TABLE cases_caseevent IN SHARE MODE")
        cursor.execute("DELETE FROM evaluation_caseeventfacts")
        cursor.execute(
            f"INSERT INTO evaluation_caseeventfacts (case_id, {', '.join(COLUMNS)}) "
            f"SELECT case_id, {', '.join(COLUMNS)} FROM ({FACTS_FROM_EVENTS}) e"
        )
        rows = cursor.rowcount
        cursor.execute("DELETE FROM evaluation_shareevent")
        cursor.execute(
            f"INSERT INTO evaluation_shareevent ({SHARE_COLUMNS}) {SHARES_FROM_EVENTS} ORDER BY e.id"
        )
        return rows
