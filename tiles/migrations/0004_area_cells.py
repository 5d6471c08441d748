"""Area cells (tiles.models.AreaCell): point cells per scope area, so a scoped cluster tile reads
index ranges as an admin's does; and the partial indexes that find the cells a write emptied."""

import django.contrib.gis.db.models.fields
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tiles", "0003_tiles_serial"),
    ]

    operations = [
        migrations.CreateModel(
            name="AreaCell",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("ix", models.BigIntegerField()),
                ("iy", models.BigIntegerField()),
                ("n", models.BigIntegerField()),
                ("sx", models.FloatField()),
                ("sy", models.FloatField()),
            ],
        ),
        migrations.CreateModel(
            name="AreaCellSet",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("digest", models.CharField(max_length=32)),
                ("source", models.CharField(help_text="schema.table", max_length=130)),
                ("area", django.contrib.gis.db.models.fields.GeometryField(srid=3857)),
                ("built_at", models.DateTimeField()),
            ],
        ),
        migrations.AddField(
            model_name="layertiling",
            name="area_cells_version",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddIndex(
            model_name="pointcell",
            index=models.Index(
                condition=models.Q(("n__lte", 0)), fields=["source"], name="pointcell_emptied"
            ),
        ),
        migrations.AddConstraint(
            model_name="areacellset",
            constraint=models.UniqueConstraint(
                fields=("digest", "source"), name="areacellset_digest_source"
            ),
        ),
        migrations.AddField(
            model_name="areacell",
            name="cellset",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="cells",
                to="tiles.areacellset",
            ),
        ),
        migrations.AddIndex(
            model_name="areacell",
            index=models.Index(
                condition=models.Q(("n__lte", 0)), fields=["cellset"], name="areacell_emptied"
            ),
        ),
        migrations.AddConstraint(
            model_name="areacell",
            constraint=models.UniqueConstraint(
                fields=("cellset", "ix", "iy"), name="areacell_set_cell"
            ),
        ),
    ]
