# Dispatch modes (派遣方式, spec 5.2.6): forced, parallel and multi-department dispatch, the
# manual's automatic dispatch and the rule that a forced case is not returned.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_login_throttle"),
        ("cases", "0010_supplement_self_handling"),
    ]

    operations = [
        migrations.AddField(
            model_name="case",
            name="dispatch_mode",
            field=models.CharField(
                choices=[
                    ("normal", "普通派遣"),
                    ("forced", "强制派遣"),
                    ("parallel", "并行派遣"),
                    ("multi", "多部门派遣"),
                ],
                default="normal",
                max_length=8,
            ),
        ),
        migrations.AddField(
            model_name="case",
            name="parent",
            field=models.ForeignKey(
                blank=True,
                help_text="multi-department dispatch: the case this one was split from",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="children",
                to="cases.case",
            ),
        ),
        migrations.AddField(
            model_name="caserules",
            name="no_return_forced",
            field=models.BooleanField(
                default=True,
                help_text="the department of a forced dispatch (强制派遣) may not apply for a return",
            ),
        ),
        migrations.AddField(
            model_name="manualentry",
            name="auto_dispatch",
            field=models.BooleanField(
                default=False,
                help_text="registration dispatches the case to the department at once (自动派遣)",
            ),
        ),
        migrations.CreateModel(
            name="CaseDispatch",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "dispatched_at",
                    models.DateTimeField(help_text="its clock started (again, after a rework)"),
                ),
                ("deadline", models.DateTimeField(blank=True, null=True)),
                ("warning_at", models.DateTimeField(blank=True, null=True)),
                (
                    "fed_back_at",
                    models.DateTimeField(blank=True, help_text="blank: still handling", null=True),
                ),
                ("feedback", models.TextField(blank=True, max_length=2000)),
                (
                    "overdue",
                    models.BooleanField(
                        blank=True,
                        help_text="fed back after its deadline (blank: not yet)",
                        null=True,
                    ),
                ),
                ("rework_count", models.PositiveIntegerField(default=0)),
                (
                    "case",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="dispatches",
                        to="cases.case",
                    ),
                ),
                (
                    "department",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="accounts.department",
                    ),
                ),
            ],
            options={
                "ordering": ["case", "id"],
                "indexes": [
                    models.Index(
                        fields=["department", "fed_back_at"], name="casedispatch_department"
                    )
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("case", "department"), name="casedispatch_unique"
                    )
                ],
            },
        ),
    ]
