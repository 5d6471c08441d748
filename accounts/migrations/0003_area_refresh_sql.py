"""The person-area refresh as one SQL function, and triggers that run it when the shape of an
admin area or responsibility grid held by someone changes (also through bulk SQL, e.g. a
regenerated demo city)."""

from django.db import migrations

FORWARD = r"""
CREATE OR REPLACE FUNCTION accounts_refresh_person_area(pid bigint) RETURNS void
LANGUAGE sql AS $$
WITH parts AS (
    SELECT a.geom FROM accounts_person_admin_areas pa
    JOIN spatial_adminarea a ON a.id = pa.adminarea_id
    WHERE pa.person_id = pid
    UNION ALL
    SELECT g.geom FROM accounts_person_grids pg
    JOIN spatial_responsibilitygrid g ON g.id = pg.responsibilitygrid_id
    WHERE pg.person_id = pid AND g.geom IS NOT NULL
), merged AS (
    SELECT ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_Union(geom)), 3)) AS geom FROM parts
)
UPDATE accounts_person p
SET area_geom = CASE WHEN m.geom IS NULL OR ST_IsEmpty(m.geom) THEN NULL
                     ELSE ST_SetSRID(m.geom, 4326) END,
    area_digest = COALESCE(md5(ST_AsBinary(m.geom)), '')
FROM merged m
WHERE p.id = pid
$$;

CREATE OR REPLACE FUNCTION accounts_area_shapes_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'spatial_adminarea' THEN
    PERFORM accounts_refresh_person_area(x.person_id) FROM (
      SELECT DISTINCT pa.person_id FROM accounts_person_admin_areas pa
      JOIN new_rows n ON n.id = pa.adminarea_id JOIN old_rows o ON o.id = n.id
      WHERE ST_AsBinary(n.geom) IS DISTINCT FROM ST_AsBinary(o.geom)) x;
  ELSE
    PERFORM accounts_refresh_person_area(x.person_id) FROM (
      SELECT DISTINCT pg.person_id FROM accounts_person_grids pg
      JOIN new_rows n ON n.id = pg.responsibilitygrid_id JOIN old_rows o ON o.id = n.id
      WHERE ST_AsBinary(n.geom) IS DISTINCT FROM ST_AsBinary(o.geom)) x;
  END IF;
  RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS accounts_person_area_refresh ON spatial_adminarea;
CREATE TRIGGER accounts_person_area_refresh AFTER UPDATE ON spatial_adminarea
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION accounts_area_shapes_changed();
DROP TRIGGER IF EXISTS accounts_person_area_refresh ON spatial_responsibilitygrid;
CREATE TRIGGER accounts_person_area_refresh AFTER UPDATE ON spatial_responsibilitygrid
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION accounts_area_shapes_changed();

SELECT accounts_refresh_person_area(id) FROM accounts_person;
"""

BACKWARD = r"""
DROP TRIGGER IF EXISTS accounts_person_area_refresh ON spatial_adminarea;
DROP TRIGGER IF EXISTS accounts_person_area_refresh ON spatial_responsibilitygrid;
DROP FUNCTION IF EXISTS accounts_area_shapes_changed();
DROP FUNCTION IF EXISTS accounts_refresh_person_area(bigint);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_login_page"),
        ("spatial", "0001_initial"),
    ]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
