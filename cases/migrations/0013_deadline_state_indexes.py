"""The warning-time and deadline indexes led by the deadline state: beat's guard and refresh
read the few due cases instead of every past deadline; the boxes' arrivals read the same."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("cases", "0012_phrases_box_visits")]

    operations = [
        migrations.RemoveIndex(model_name="case", name="case_warning_at"),
        migrations.RemoveIndex(model_name="case", name="case_deadline"),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["deadline_state", "deadline"], name="case_state_deadline"),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["deadline_state", "warning_at"], name="case_state_warning"),
        ),
    ]
