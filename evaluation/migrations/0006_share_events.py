"""The events as they concern each handling department's share (`ShareEvent`): the function
that gives an event's rows, the trigger that writes them for each appended event, and the rows
of the events already stored."""

import django.db.models.deletion
from django.db import migrations, models


# The rows of one event (the one definition, used by the trigger, the backfill and
# `evaluation.case_event_facts`). The codes as the department indicators read them before:
# a dispatch's list (parallel dispatch) or its one department; a re-dispatch's and a
# transfer's "before" are moved off / transferred away; a return names its department.
ROWS = """
CREATE FUNCTION evaluation_share_rows(e cases_caseevent)
    RETURNS TABLE (kind text, code text, any_share boolean, late boolean)
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT 'received', r.code, FALSE, NULL::boolean
    FROM jsonb_array_elements_text(
        CASE WHEN e.action = 'dispatch' AND jsonb_typeof(e.details -> 'departments') = 'array'
             THEN e.details -> 'departments'
             ELSE jsonb_build_array(e.details -> 'department') END) AS r(code)
    WHERE e.action IN ('dispatch', 'redispatch', 'approve_transfer')
      AND NOT e.details ? 'children' AND r.code IS NOT NULL
    UNION ALL
    SELECT 'fed', e.details ->> 'department', FALSE,
           CASE WHEN e.details ? 'overdue' THEN (e.details ->> 'overdue')::boolean END
    WHERE e.action = 'feedback' AND e.details ->> 'department' IS NOT NULL
    UNION ALL
    SELECT 'fed', '', TRUE, NULL
    WHERE e.action = 'feedback' AND NOT e.details ? 'department' AND e.to_state = 'to_check'
    UNION ALL
    SELECT 'moved', e.details ->> 'before', FALSE, NULL
    WHERE e.action = 'redispatch' AND e.details ->> 'before' IS NOT NULL
    UNION ALL
    SELECT 'returned', e.details ->> 'department', FALSE, NULL
    WHERE e.action IN ('return', 'approve_return') AND e.details ->> 'department' IS NOT NULL
    UNION ALL
    SELECT 'transferred', e.details ->> 'before', FALSE, NULL
    WHERE e.action = 'approve_transfer' AND e.details ->> 'before' IS NOT NULL
$$;

CREATE FUNCTION evaluation_fold_share_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO evaluation_shareevent (case_id, event_id, at, kind, code, any_share, late)
    SELECT NEW.case_id, NEW.id, NEW.at, r.kind, r.code, r.any_share, r.late
    FROM evaluation_share_rows(NEW) r;
    RETURN NULL;
END $$;
CREATE TRIGGER evaluation_fold_share_event AFTER INSERT ON cases_caseevent
    FOR EACH ROW
    WHEN (NEW.action IN ('dispatch', 'redispatch', 'approve_transfer', 'feedback', 'return',
                         'approve_return'))
    EXECUTE FUNCTION evaluation_fold_share_event();
"""

UNDO = """
DROP TRIGGER evaluation_fold_share_event ON cases_caseevent;
DROP FUNCTION evaluation_fold_share_event();
DROP FUNCTION evaluation_share_rows(cases_caseevent);
"""

BACKFILL = """
INSERT INTO evaluation_shareevent (case_id, event_id, at, kind, code, any_share, late)
SELECT e.case_id, e.id, e.at, r.kind, r.code, r.any_share, r.late
FROM cases_caseevent e CROSS JOIN LATERAL evaluation_share_rows(e) r
WHERE e.action IN ('dispatch', 'redispatch', 'approve_transfer', 'feedback', 'return',
                   'approve_return')
ORDER BY e.id;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0023_reported_cover"),
        ("evaluation", "0005_case_event_facts"),
    ]

    operations = [
        migrations.CreateModel(
            name="ShareEvent",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("at", models.DateTimeField()),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("received", "Received"),
                            ("fed", "Fed"),
                            ("moved", "Moved"),
                            ("returned", "Returned"),
                            ("transferred", "Transferred"),
                        ],
                        max_length=12,
                    ),
                ),
                (
                    "code",
                    models.CharField(blank=True, help_text="the department's code", max_length=64),
                ),
                ("any_share", models.BooleanField(default=False)),
                (
                    "late",
                    models.BooleanField(
                        help_text="a share's feedback: past its own clock", null=True
                    ),
                ),
                (
                    "case",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="cases.case",
                    ),
                ),
                (
                    "event",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="cases.caseevent",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(fields=["kind", "at"], name="shareevent_kind_at"),
                    models.Index(fields=["case", "at"], name="shareevent_case_at"),
                ],
            },
        ),
        migrations.RunSQL(ROWS, UNDO),
        migrations.RunSQL(BACKFILL, migrations.RunSQL.noop),
    ]
