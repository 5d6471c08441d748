"""The road graph (spatial.routing): the edge table, pgRouting when the server has it (tolerated
when it has not: road distances then fall back to straight lines), and the graph built from the
roads already loaded."""

import django.contrib.gis.db.models.fields
from django.db import migrations, models

# Only where the package is installed (postgresql-15-pgrouting); a failure (no package, no
# right to create it) leaves a notice, not a failed migration.
CREATE_PGROUTING = """
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pgrouting') THEN
        CREATE EXTENSION IF NOT EXISTS pgrouting;
    END IF;
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'pgrouting not created: %', SQLERRM;
END
$$;
"""


def build_graph(apps, schema_editor):
    from spatial.routing import rebuild_graph

    rebuild_graph()


class Migration(migrations.Migration):
    dependencies = [
        ("spatial", "0002_source_code"),
    ]

    operations = [
        migrations.CreateModel(
            name="RoadEdge",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("source", models.BigIntegerField(db_index=True)),
                ("target", models.BigIntegerField(db_index=True)),
                ("cost", models.FloatField(help_text="metres")),
                ("reverse_cost", models.FloatField(help_text="metres (roads are two-way)")),
                ("geom", django.contrib.gis.db.models.fields.LineStringField(srid=4326)),
            ],
            options={
                "db_table": "spatial_roadedge",
            },
        ),
        migrations.RunSQL(CREATE_PGROUTING, migrations.RunSQL.noop),
        migrations.RunPython(build_graph, migrations.RunPython.noop),
    ]
