"""The report-time index carries the columns the evaluation indicators read (index-only scans)."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_login_throttle"),
        ("cases", "0022_public_service"),
        ("data", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                fields=["reported_at"],
                include=(
                    "id",
                    "parent",
                    "source",
                    "handling_deadline",
                    "category",
                    "reported_by",
                    "district_code",
                    "street_code",
                    "community_code",
                    "unit_grid_code",
                ),
                name="case_reported_cover",
            ),
        ),
        migrations.RemoveIndex(
            model_name="case",
            name="case_reported_at",
        ),
    ]
