"""The report key (Case.report_key): a UUID the reporting device makes for a report, unique, so
a report sent again after a lost answer gives the case the first made (the field app's outbox)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("cases", "0014_report_rules_similar")]

    operations = [
        migrations.AddField(
            model_name="case",
            name="report_key",
            field=models.UUIDField(
                blank=True,
                help_text="the reporting device's key for this report: a repeat answers this case",
                null=True,
                unique=True,
            ),
        ),
    ]
