"""Standard phrases (惯用语), box visits for the boxes' "new arrival" counts, the deadline
notice kind, and the indexes those counts read."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0011_dispatch_modes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="notification",
            name="kind",
            field=models.CharField(
                choices=[
                    ("arrival", "新到案件"),
                    ("application", "申请答复"),
                    ("callback", "办结回访"),
                    ("supervision", "督办"),
                    ("deadline", "时限提醒"),
                ],
                max_length=16,
            ),
        ),
        migrations.CreateModel(
            name="Phrase",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "action",
                    models.CharField(
                        help_text="the action or form it serves (accept, dispatch, supervise, …)",
                        max_length=32,
                    ),
                ),
                ("text", models.CharField(max_length=500)),
                ("sort_order", models.IntegerField(default=100)),
                ("created_at", models.DateTimeField()),
                ("updated_at", models.DateTimeField()),
                (
                    "owner",
                    models.ForeignKey(
                        blank=True,
                        help_text="blank: a system phrase everyone is offered",
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["sort_order", "id"],
                "indexes": [models.Index(fields=["action", "owner"], name="phrase_action_owner")],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("owner", "action", "text"),
                        name="phrase_unique_text",
                        nulls_distinct=False,
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="BoxVisit",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("box", models.CharField(max_length=32)),
                ("seen_at", models.DateTimeField()),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("user", "box"), name="box_visit_one")
                ],
            },
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["stage_started_at"], name="case_stage_started"),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["warning_at"], name="case_warning_at"),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["deadline"], name="case_deadline"),
        ),
    ]
