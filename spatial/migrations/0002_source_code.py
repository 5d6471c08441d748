"""Admin areas and unit grids keep the code an imported set gave them (`source_code`) when
that code was not a standard one and a standard code was assigned."""

from django.db import migrations, models


def source_code_field():
    return models.CharField(
        blank=True,
        db_index=True,
        help_text="the code the imported set gave it, where that was not a standard code",
        max_length=64,
        null=True,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("spatial", "0001_initial"),
    ]

    operations = [
        migrations.AddField(model_name="adminarea", name="source_code", field=source_code_field()),
        migrations.AddField(model_name="unitgrid", name="source_code", field=source_code_field()),
    ]
