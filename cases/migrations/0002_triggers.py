"""Triggers: case events are immutable; edits of a case's fields are recorded with old and new
values (the actor comes from the ``citygrid.actor`` setting an action sets for its
transaction)."""

from django.db import migrations

# The fields whose edits are history (transitions change state, deadlines and the department
# and leave their own events).
TRACKED = [
    "source",
    "kind",
    "category_id",
    "level",
    "urgent",
    "description",
    "address",
    "geom",
    "component_code",
    "reporter_name",
    "reporter_phone",
    "reporter_private",
    "callback_wanted",
    "district_code",
    "street_code",
    "community_code",
    "unit_grid_code",
    "grid_code",
    "timing_zone",
    "custom_deadline",
]

_CHANGE_ROWS = (
    "\n".join(
        f"""    IF NEW.{f} IS DISTINCT FROM OLD.{f} THEN
        INSERT INTO cases_casechange (case_id, field, old, new, actor, at)
        VALUES (NEW.id, '{f}', {_j}(OLD.{f}), {_j}(NEW.{f}), who, now());
    END IF;"""
        for f, _j in ((f, "ST_AsGeoJSON" if f == "geom" else "to_jsonb") for f in TRACKED)
    )
    .replace("ST_AsGeoJSON(OLD.geom)", "ST_AsGeoJSON(OLD.geom)::jsonb")
    .replace("ST_AsGeoJSON(NEW.geom)", "ST_AsGeoJSON(NEW.geom)::jsonb")
)

SQL = f"""
CREATE FUNCTION cases_event_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'case events are never updated or deleted' USING ERRCODE = 'P0001';
END $$;
CREATE TRIGGER cases_event_immutable BEFORE UPDATE OR DELETE ON cases_caseevent
    FOR EACH ROW EXECUTE FUNCTION cases_event_immutable();

CREATE FUNCTION cases_case_history() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE who text := coalesce(current_setting('citygrid.actor', true), '');
BEGIN
{_CHANGE_ROWS}
    RETURN NEW;
END $$;
CREATE TRIGGER cases_case_history AFTER UPDATE ON cases_case
    FOR EACH ROW EXECUTE FUNCTION cases_case_history();
"""

REVERSE = """
DROP TRIGGER IF EXISTS cases_case_history ON cases_case;
DROP FUNCTION IF EXISTS cases_case_history();
DROP TRIGGER IF EXISTS cases_event_immutable ON cases_caseevent;
DROP FUNCTION IF EXISTS cases_event_immutable();
"""


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]

    operations = [migrations.RunSQL(SQL, REVERSE)]
