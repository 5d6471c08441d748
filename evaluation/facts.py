"""The SQL of each subject's facts (`evaluation.indicators`): one row per counted thing with
its case id, its key and one boolean column per count of `evaluation.definitions`.

What the facts read (docs/evaluation.md explains each choice):

- the cohort of areas and inspectors: the cases the caller sees (`cases.visibility`) reported in
  the period, without the department cases a multi-department dispatch splits off;
- per case, its row of the projection of its events (`CaseEventFacts`, kept by a trigger) as
  of `end`: found valid (an event into 待立案),
  registered, dispatched, the start of its last handling round (the last dispatch, re-dispatch
  or rework), its last feedback into 待核查, reworks, closed, voided;
- timeliness against the case row's ``handling_deadline``, the deadline of the last handling
  round after extensions, holds and re-dispatch (a hold's release moves it by the time held);
  a parallel share's by the flag its feedback carries.
"""

from __future__ import annotations

from django.db import connection

from accounts.scoping import Scope
from cases.visibility import visible_cases

from . import definitions as d

# The column of each area level's code (names come from `spatial`, `indicators.table`).
LEVELS = {
    "district": "district_code",
    "street": "street_code",
    "community": "community_code",
    "grid": "unit_grid_code",
}
POSITION_ACTIONS = {
    d.ACCEPTOR: ("accept", "not_accept", "restore", "request_verify", "request_check"),
    d.SHIFT_LEADER: ("register", "not_register", "close", "rework", "archive", "send_to_register"),
    d.DISPATCHER: ("dispatch", "redispatch"),
}


def visible_sql(scope: Scope) -> str | None:
    """The SQL of the ids of the cases the caller sees, literal values inlined; None when the
    caller sees every case (no test needed)."""
    cases = visible_cases(scope).order_by().values("id")
    if not cases.query.where:
        return None
    sql, params = cases.query.sql_with_params()
    with connection.cursor() as cursor:
        # The text is pasted into SQL run with named parameters: a literal % is doubled.
        return cursor.mogrify(sql, params).decode().replace("%", "%%")


def _in_visible(column: str, visible: str | None) -> str:
    return "TRUE" if visible is None else f"{column} IN ({visible})"


def _before_end(latest: str, list_name: str) -> str:
    """The latest of a fact's times before %(end)s: the row's latest when its case has no
    event from %(end)s on (nearly always), else from the row's list (migration 0005)."""
    return f"""CASE WHEN p.last_event_at < %(end)s THEN p.{latest}
     ELSE evaluation_latest_before(p.case_id, '{list_name}', %(end)s) END"""


def _case_facts() -> str:
    """Per case of `cohort` (a CTE of case rows): its columns and the facts of its events
    before %(end)s, read from its row of the projection (`CaseEventFacts`, one narrow row per
    case instead of its ~8 events): found valid (an event into 待立案), registered,
    dispatched, the start of its last handling round (the last dispatch, re-dispatch or
    rework), its last feedback into 待核查, reworks, closed, voided; handled and fed on time
    from those. A case without events has no row: all false."""
    return f"""
event_facts AS (
    SELECT c.*,
           COALESCE(p.valid_at < %(end)s, FALSE) AS valid,
           COALESCE(p.registered_at < %(end)s, FALSE) AS registered,
           COALESCE(p.dispatched_at < %(end)s, FALSE) AS dispatched,
           {_before_end("last_start", "start")} AS last_start,
           {_before_end("last_feedback", "feedback")} AS last_feedback,
           COALESCE(CASE WHEN p.last_event_at < %(end)s THEN p.reworks
                         ELSE evaluation_reworks_before(p.case_id, %(end)s) END, 0) AS reworks,
           COALESCE(p.closed_at < %(end)s, FALSE) AS closed,
           COALESCE(p.voided_at < %(end)s, FALSE) AS voided
    FROM cohort c LEFT JOIN evaluation_caseeventfacts p ON p.case_id = c.id
),
case_facts AS (
    SELECT f.*,
           COALESCE(f.dispatched AND f.last_feedback > f.last_start, FALSE) AS handled,
           f.handling_deadline IS NULL OR f.last_feedback <= f.handling_deadline AS fed_on_time
    FROM event_facts f
)"""


# What the facts read of a case row: the columns the report-time index carries
# (cases: case_reported_cover), so a period's cohort is an index-only scan of narrow entries.
COHORT_COLUMNS = """c.id, c.source, c.category_id, c.reported_by_id, c.reported_at,
       c.handling_deadline, c.district_code, c.street_code, c.community_code, c.unit_grid_code"""


def _cohort(visible: str | None) -> str:
    return f"""
cohort AS (
    SELECT {COHORT_COLUMNS} FROM cases_case c
    WHERE c.reported_at >= %(start)s AND c.reported_at < %(end)s AND c.parent_id IS NULL
      AND {_in_visible("c.id", visible)}
)"""


def area_facts(level: str, visible: str | None) -> str:
    code = LEVELS[level]
    public = "source IN ('public', 'hotline')"
    return f"""
WITH {_cohort(visible)}, {_case_facts()}
SELECT id AS case_id, {code} AS key, NULL::text AS name,
       TRUE AS reports,
       source = 'inspector' AS inspector_reports,
       {public} AS public_reports,
       {public} AND valid AS public_valid_reports,
       valid AS valid_reports,
       registered,
       dispatched AS due_handling,
       COALESCE(handled, FALSE) AS handled,
       COALESCE(handled AND fed_on_time, FALSE) AS handled_on_time,
       registered AND NOT voided AS due_close,
       closed,
       closed AND COALESCE(fed_on_time, TRUE) AS closed_on_time,
       COALESCE(handled, FALSE) AND reworks > 0 AS reworked
FROM case_facts"""


def department_facts(visible: str | None) -> str:
    # A share: a department given the case in the period (its receipts in `ShareEvent`: a
    # parallel dispatch's list, else its one department; the parent of a multi-department
    # dispatch gives none, its department cases do). The case's facts come from the projection
    # (`_case_facts`). The share's fate from its share events in the period after its first
    # receipt in it, in the same grouped pass: each fate is a latest time (the latest of the
    # share's feedbacks is after the receipt exactly when one of them is), and a feedback that
    # names no department counts for every share of its case.
    return f"""
WITH by_share AS (
    SELECT s.case_id AS id, s.code,
           min(s.at) FILTER (WHERE s.kind = 'received') AS received_at,
           max(s.at) FILTER (WHERE s.kind = 'fed') AS fed_own,
           max(s.at) FILTER (WHERE s.kind = 'fed' AND s.late IS NOT NULL) AS flagged_at,
           max(s.at) FILTER (WHERE s.kind = 'fed' AND s.late) AS late_at,
           max(s.at) FILTER (WHERE s.kind = 'moved') AS moved_at,
           max(s.at) FILTER (WHERE s.kind = 'returned') AS returned_at,
           max(s.at) FILTER (WHERE s.kind = 'transferred') AS transferred_at
    FROM evaluation_shareevent s
    WHERE s.at >= %(start)s AND s.at < %(end)s AND NOT s.any_share
      AND {_in_visible("s.case_id", visible)}
    GROUP BY 1, 2
),
fed_any AS (
    SELECT s.case_id AS id, max(s.at) AS at FROM evaluation_shareevent s
    WHERE s.any_share AND s.at >= %(start)s AND s.at < %(end)s
      AND {_in_visible("s.case_id", visible)}
    GROUP BY 1
),
fates AS (
    SELECT b.id, b.code, b.received_at,
           CASE WHEN GREATEST(b.fed_own, a.at) > b.received_at
                THEN GREATEST(b.fed_own, a.at) END AS fed_at,
           -- a parallel share's feedback says whether it beat its own clock (CaseDispatch)
           CASE WHEN b.flagged_at > b.received_at
                THEN COALESCE(b.late_at > b.received_at, FALSE) END AS fed_late,
           COALESCE(b.moved_at >= b.received_at, FALSE) AS moved,
           COALESCE(b.returned_at >= b.received_at, FALSE) AS returned,
           COALESCE(b.transferred_at >= b.received_at, FALSE) AS transferred
    FROM by_share b LEFT JOIN fed_any a ON a.id = b.id
    WHERE b.received_at IS NOT NULL
),
cohort AS (  -- a row per share, with its case's columns
    SELECT {COHORT_COLUMNS}, f.code, f.received_at, f.fed_at, f.fed_late, f.moved, f.returned,
           f.transferred
    FROM fates f JOIN cases_case c ON c.id = f.id
),
{_case_facts()},
judged AS (
    SELECT s.id, s.code, s.closed, s.voided, s.reworks, s.moved, s.returned, s.handling_deadline,
           s.moved OR s.returned OR s.transferred AS gone,
           COALESCE(s.fed_at > GREATEST(s.last_start, s.received_at), FALSE) AS done,
           COALESCE(CASE WHEN s.fed_late IS NOT NULL THEN NOT s.fed_late
                         ELSE s.handling_deadline IS NULL OR s.fed_at <= s.handling_deadline
                    END, FALSE) AS fed_on_time
    FROM case_facts s
)
SELECT j.id AS case_id, j.code AS key, COALESCE(dp.name, j.code) AS name,
       TRUE AS received,
       NOT gone AND NOT closed AND NOT voided AND NOT done AS in_progress,
       NOT gone AND NOT closed AND NOT voided AND NOT done
           AND handling_deadline < %(end)s AS overdue_in_progress,
       NOT gone AND done AS handled,
       NOT gone AND done AND fed_on_time AS handled_on_time,
       NOT gone AND closed AS closed,
       NOT gone AND closed AND NOT fed_on_time AS closed_overdue,
       NOT gone AND reworks > 0 AS reworked,
       moved AS wrong_dispatches,
       returned
FROM judged j LEFT JOIN accounts_department dp ON dp.code = j.code"""


def inspector_facts(visible: str | None) -> str:
    return f"""
WITH {_cohort(visible)}, {_case_facts()},
people AS (
    SELECT p.id, p.user_id, COALESCE(NULLIF(p.name, ''), u.username) AS name, COALESCE(
        (SELECT ST_Union(g.geom) FROM accounts_person_grids pg
         JOIN spatial_responsibilitygrid g ON g.id = pg.responsibilitygrid_id
         WHERE pg.person_id = p.id AND g.geom IS NOT NULL),
        p.area_geom) AS area
    FROM accounts_person p JOIN auth_user u ON u.id = p.user_id
    WHERE p.id = ANY(%(people)s)
),
facts AS (
    SELECT cf.id, pe.id AS key, pe.name, TRUE AS reports, cf.valid AS valid_reports,
           FALSE AS missed_reports, NULL::text AS task, NULL::boolean AS task_on_time
    FROM case_facts cf JOIN people pe ON pe.user_id = cf.reported_by_id
    WHERE cf.source = 'inspector'
    UNION ALL
    SELECT cf.id, pe.id, pe.name, FALSE, FALSE, TRUE, NULL, NULL
    FROM case_facts cf JOIN cases_case pc ON pc.id = cf.id
    JOIN people pe ON ST_Covers(pe.area, pc.geom)
    WHERE cf.source IN ('public', 'hotline') AND cf.valid
      AND NOT EXISTS (
          SELECT 1 FROM cases_case m
          WHERE m.reported_by_id = pe.user_id AND m.category_id = cf.category_id
            AND m.reported_at <= cf.reported_at
            AND m.reported_at >= cf.reported_at - %(missed_hours)s * interval '1 hour'
            AND ST_DWithin(m.geom::geography, pc.geom::geography, %(missed_m)s))
    UNION ALL
    SELECT k.case_id, pe.id, pe.name, FALSE, FALSE, FALSE, k.kind,
           k.done_at IS NOT NULL AND k.done_at < %(end)s
               AND (k.deadline IS NULL OR k.done_at <= k.deadline)
    FROM cases_casetask k JOIN people pe ON pe.user_id = k.assignee_id
    WHERE k.kind IN ('verify', 'check') AND k.created_at >= %(start)s
      AND k.created_at < %(end)s AND {_in_visible("k.case_id", visible)}
)
SELECT id AS case_id, key, name, reports, valid_reports, missed_reports,
       valid_reports OR missed_reports AS found,
       task IS NOT DISTINCT FROM 'verify' AS verify_tasks,
       task IS NOT DISTINCT FROM 'verify' AND task_on_time AS verified_on_time,
       task IS NOT DISTINCT FROM 'check' AS check_tasks,
       task IS NOT DISTINCT FROM 'check' AND task_on_time AS checked_on_time
FROM facts"""


def position_facts(subject: str, visible: str | None) -> str:
    # An act ends the stage its case was in (from_state): entered by the case's latest earlier
    # event into that state; on time when the stage has a limit in natural time and the act came
    # within it (working-time limits need the calendar: not judged here, on time).
    actions = ", ".join(f"'{a}'" for a in POSITION_ACTIONS[subject])
    accurate = "TRUE"
    if subject == d.DISPATCHER:
        accurate = """COALESCE((
            SELECT n.details ->> 'evaluation' FROM cases_caseevent n
            WHERE n.case_id = e.case_id AND n.id > e.id AND n.at < %(end)s
              AND n.action IN ('dispatch', 'redispatch', 'return', 'approve_return')
            ORDER BY n.at, n.id LIMIT 1) NOT IN ('wrong_dispatch', 'returned'), TRUE)"""
    return f"""
WITH acts AS (
    SELECT e.id, e.case_id, e.actor_id, e.at, e.from_state, c.workflow_id,
           (SELECT max(p.at) FROM cases_caseevent p
            WHERE p.case_id = e.case_id AND p.to_state = e.from_state AND p.id < e.id
              AND p.from_state IS DISTINCT FROM p.to_state)
               AS stage_start,
           {accurate} AS accurate
    FROM cases_caseevent e JOIN cases_case c ON c.id = e.case_id
    WHERE e.action IN ({actions}) AND e.at >= %(start)s AND e.at < %(end)s
      AND e.actor_id IS NOT NULL AND {_in_visible("e.case_id", visible)}
)
SELECT a.case_id, p.id AS key, COALESCE(NULLIF(p.name, ''), u.username) AS name,
       TRUE AS acts,
       a.stage_start IS NULL OR s.id IS NULL OR s.amount IS NULL
           OR s.unit NOT IN ('natural_hours', 'natural_days')
           OR a.at <= a.stage_start + s.amount * CASE s.unit WHEN 'natural_days'
                  THEN interval '1 day' ELSE interval '1 hour' END AS acts_on_time,
       a.accurate
FROM acts a JOIN auth_user u ON u.id = a.actor_id
JOIN accounts_person p ON p.user_id = a.actor_id
LEFT JOIN cases_workflowstage s ON s.workflow_id = a.workflow_id AND s.state = a.from_state"""
