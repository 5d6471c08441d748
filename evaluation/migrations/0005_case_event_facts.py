"""The per-case projection of the event facts (`CaseEventFacts`) and the trigger that folds
each appended case event into it, then the rows of the events already stored."""

import django.contrib.postgres.fields
import django.db.models.deletion
from django.db import migrations, models

# One event into its case's row: first times by LEAST, latest by GREATEST (both skip NULLs),
# lists by appending. Events are never updated or deleted (cases 0002), so insert is enough.
TRIGGER = """
CREATE FUNCTION evaluation_fold_case_event() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    starts boolean := NEW.action IN ('dispatch', 'redispatch', 'rework');
    fed boolean := NEW.action = 'feedback' AND NEW.to_state = 'to_check';
BEGIN
    INSERT INTO evaluation_caseeventfacts AS f (
        case_id, last_event_at, valid_at, registered_at, dispatched_at, closed_at, voided_at,
        last_start, last_feedback, start_times, feedback_times, rework_times, reworks)
    VALUES (
        NEW.case_id, NEW.at,
        CASE WHEN NEW.to_state = 'to_register' THEN NEW.at END,
        CASE WHEN NEW.action = 'register' THEN NEW.at END,
        CASE WHEN NEW.action = 'dispatch' THEN NEW.at END,
        CASE WHEN NEW.action = 'close' THEN NEW.at END,
        CASE WHEN NEW.to_state = 'void' THEN NEW.at END,
        CASE WHEN starts THEN NEW.at END,
        CASE WHEN fed THEN NEW.at END,
        CASE WHEN starts THEN ARRAY[NEW.at] ELSE '{}' END,
        CASE WHEN fed THEN ARRAY[NEW.at] ELSE '{}' END,
        CASE WHEN NEW.action = 'rework' THEN ARRAY[NEW.at] ELSE '{}' END,
        CASE WHEN NEW.action = 'rework' THEN 1 ELSE 0 END)
    ON CONFLICT (case_id) DO UPDATE SET
        last_event_at = GREATEST(f.last_event_at, EXCLUDED.last_event_at),
        valid_at = LEAST(f.valid_at, EXCLUDED.valid_at),
        registered_at = LEAST(f.registered_at, EXCLUDED.registered_at),
        dispatched_at = LEAST(f.dispatched_at, EXCLUDED.dispatched_at),
        closed_at = LEAST(f.closed_at, EXCLUDED.closed_at),
        voided_at = LEAST(f.voided_at, EXCLUDED.voided_at),
        last_start = GREATEST(f.last_start, EXCLUDED.last_start),
        last_feedback = GREATEST(f.last_feedback, EXCLUDED.last_feedback),
        start_times = f.start_times || EXCLUDED.start_times,
        feedback_times = f.feedback_times || EXCLUDED.feedback_times,
        rework_times = f.rework_times || EXCLUDED.rework_times,
        reworks = f.reworks + EXCLUDED.reworks;
    RETURN NULL;
END $$;
CREATE TRIGGER evaluation_fold_case_event AFTER INSERT ON cases_caseevent
    FOR EACH ROW EXECUTE FUNCTION evaluation_fold_case_event();

-- The facts of a case as of a moment its case has events after: from its lists, read by case
-- (functions, not subqueries, so a query calling them may still run in parallel).
CREATE FUNCTION evaluation_latest_before(wanted bigint, list text, bound timestamptz)
    RETURNS timestamptz LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT max(t) FROM evaluation_caseeventfacts f,
        unnest(CASE list WHEN 'start' THEN f.start_times ELSE f.feedback_times END) t
    WHERE f.case_id = wanted AND t < bound $$;
CREATE FUNCTION evaluation_reworks_before(wanted bigint, bound timestamptz)
    RETURNS integer LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT count(*)::integer FROM evaluation_caseeventfacts f, unnest(f.rework_times) t
    WHERE f.case_id = wanted AND t < bound $$;
"""

UNDO = """
DROP FUNCTION evaluation_latest_before(bigint, text, timestamptz);
DROP FUNCTION evaluation_reworks_before(bigint, timestamptz);
DROP TRIGGER evaluation_fold_case_event ON cases_caseevent;
DROP FUNCTION evaluation_fold_case_event();
"""

# The rows of the events stored before the trigger existed (the same facts, grouped).
BACKFILL = """
INSERT INTO evaluation_caseeventfacts
SELECT e.case_id, max(e.at),
       min(e.at) FILTER (WHERE e.to_state = 'to_register'),
       min(e.at) FILTER (WHERE e.action = 'register'),
       min(e.at) FILTER (WHERE e.action = 'dispatch'),
       min(e.at) FILTER (WHERE e.action = 'close'),
       min(e.at) FILTER (WHERE e.to_state = 'void'),
       max(e.at) FILTER (WHERE e.action IN ('dispatch', 'redispatch', 'rework')),
       max(e.at) FILTER (WHERE e.action = 'feedback' AND e.to_state = 'to_check'),
       COALESCE(array_agg(e.at ORDER BY e.id)
                FILTER (WHERE e.action IN ('dispatch', 'redispatch', 'rework')), '{}'),
       COALESCE(array_agg(e.at ORDER BY e.id)
                FILTER (WHERE e.action = 'feedback' AND e.to_state = 'to_check'), '{}'),
       COALESCE(array_agg(e.at ORDER BY e.id) FILTER (WHERE e.action = 'rework'), '{}'),
       count(*) FILTER (WHERE e.action = 'rework')
FROM cases_caseevent e GROUP BY e.case_id;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0023_reported_cover"),
        ("evaluation", "0004_comprehensive"),
    ]

    operations = [
        migrations.CreateModel(
            name="CaseEventFacts",
            fields=[
                (
                    "case",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="cases.case",
                    ),
                ),
                ("last_event_at", models.DateTimeField()),
                (
                    "valid_at",
                    models.DateTimeField(help_text="first event into 待立案", null=True),
                ),
                ("registered_at", models.DateTimeField(null=True)),
                ("dispatched_at", models.DateTimeField(help_text="first dispatch", null=True)),
                ("closed_at", models.DateTimeField(null=True)),
                ("voided_at", models.DateTimeField(null=True)),
                (
                    "last_start",
                    models.DateTimeField(help_text="latest of start_times", null=True),
                ),
                (
                    "last_feedback",
                    models.DateTimeField(help_text="latest of feedback_times", null=True),
                ),
                (
                    "start_times",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.DateTimeField(),
                        default=list,
                        help_text="dispatches, re-dispatches, reworks",
                        size=None,
                    ),
                ),
                (
                    "feedback_times",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.DateTimeField(),
                        default=list,
                        help_text="feedbacks into 待核查",
                        size=None,
                    ),
                ),
                (
                    "rework_times",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.DateTimeField(), default=list, size=None
                    ),
                ),
                (
                    "reworks",
                    models.PositiveIntegerField(default=0, help_text="length of rework_times"),
                ),
            ],
            options={"verbose_name_plural": "case event facts"},
        ),
        migrations.RunSQL(TRIGGER, UNDO),
        migrations.RunSQL(BACKFILL, migrations.RunSQL.noop),
    ]
