"""The Job model moves from the project shell (`web`) to the kernel (`core`) with its table:
only Django's idea of which app owns it changes, so no row is copied and none is lost."""

import django.db.models.deletion
import uuid
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("web", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Job",
                    fields=[
                        (
                            "id",
                            models.UUIDField(
                                default=uuid.uuid4,
                                editable=False,
                                primary_key=True,
                                serialize=False,
                            ),
                        ),
                        ("kind", models.CharField(max_length=32)),
                        (
                            "state",
                            models.CharField(
                                choices=[
                                    ("pending", "排队"),
                                    ("running", "运行中"),
                                    ("succeeded", "成功"),
                                    ("failed", "失败"),
                                ],
                                default="pending",
                                max_length=16,
                            ),
                        ),
                        ("params", models.JSONField(blank=True, default=dict)),
                        ("rows_done", models.BigIntegerField(default=0)),
                        ("rows_total", models.BigIntegerField(blank=True, null=True)),
                        ("errors", models.JSONField(blank=True, default=list)),
                        ("report", models.JSONField(blank=True, default=dict)),
                        ("result_path", models.CharField(blank=True, max_length=512)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("started_at", models.DateTimeField(blank=True, null=True)),
                        ("finished_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "owner",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "ordering": ["-created_at"],
                        "db_table": "web_job",
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
