"""An index for the 今日结案 (closed today) box: state = 'closed' AND closed_at >= today among
~all closed cases (bench/README.md "Cases at 1M": 0.6 s → ms at 1M cases)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("cases", "0002_triggers")]

    operations = [
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["state", "closed_at"], name="case_state_closed"),
        ),
    ]
