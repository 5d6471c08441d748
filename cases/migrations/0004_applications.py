"""Applications and approvals (申请与答复授权): applications, their immutable steps, the approval
rules, the case rules, assisting departments, the hold columns and the ``void`` state; and the
``return`` and ``void`` transitions added to the workflow definitions already stored."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


STEPS_IMMUTABLE = """
CREATE TRIGGER cases_applicationstep_immutable BEFORE UPDATE OR DELETE ON cases_applicationstep
    FOR EACH ROW EXECUTE FUNCTION cases_event_immutable();
"""
STEPS_MUTABLE = "DROP TRIGGER IF EXISTS cases_applicationstep_immutable ON cases_applicationstep;"


# (action, outcome, source, target, permission): cases.workflows.APPLICATION_TRANSITIONS as
# released with this migration.
APPLICATION_TRANSITIONS = [
    ("return", "", "handling", "to_dispatch", "cases.register"),
    *[
        ("void", "", source, "void", "cases.register")
        for source in ("to_dispatch", "handling", "to_check", "checking", "to_close")
    ],
]


def add_application_transitions(apps, schema_editor):
    """Adds return and void to the stored default workflows (new databases get them from
    `load_default_workflows` after migrate)."""
    Workflow = apps.get_model("cases", "Workflow")
    Transition = apps.get_model("cases", "WorkflowTransition")
    for workflow in Workflow.objects.filter(key__regex=r"^(direct|verified)-"):
        for action, outcome, source, target, permission in APPLICATION_TRANSITIONS:
            Transition.objects.get_or_create(
                workflow=workflow,
                action=action,
                outcome=outcome,
                source=source,
                defaults={"target": target, "permission": permission},
            )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_login_throttle"),
        ("cases", "0003_bench_state_closed"),
        ("data", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="case",
            name="held_since",
            field=models.DateTimeField(blank=True, help_text="on hold (挂账) since", null=True),
        ),
        migrations.AddField(
            model_name="case",
            name="hold_until",
            field=models.DateTimeField(
                blank=True, help_text="released automatically then; blank: by hand", null=True
            ),
        ),
        migrations.AlterField(
            model_name="case",
            name="state",
            field=models.CharField(
                choices=[
                    ("reported", "待受理"),
                    ("not_accepted", "不予受理"),
                    ("to_verify", "待核实"),
                    ("verifying", "核实中"),
                    ("invalid", "核实无效"),
                    ("to_register", "待立案"),
                    ("not_registered", "不予立案"),
                    ("to_dispatch", "待派遣"),
                    ("handling", "处置中"),
                    ("to_check", "待核查"),
                    ("checking", "核查中"),
                    ("to_close", "待结案"),
                    ("closed", "已结案"),
                    ("void", "已作废"),
                ],
                default="reported",
                max_length=16,
            ),
        ),
        migrations.AlterField(
            model_name="timelimit",
            name="stage",
            field=models.CharField(
                choices=[
                    ("reported", "待受理"),
                    ("not_accepted", "不予受理"),
                    ("to_verify", "待核实"),
                    ("verifying", "核实中"),
                    ("invalid", "核实无效"),
                    ("to_register", "待立案"),
                    ("not_registered", "不予立案"),
                    ("to_dispatch", "待派遣"),
                    ("handling", "处置中"),
                    ("to_check", "待核查"),
                    ("checking", "核查中"),
                    ("to_close", "待结案"),
                    ("closed", "已结案"),
                    ("void", "已作废"),
                ],
                default="handling",
                max_length=16,
            ),
        ),
        migrations.AlterField(
            model_name="workflowstage",
            name="state",
            field=models.CharField(
                choices=[
                    ("reported", "待受理"),
                    ("not_accepted", "不予受理"),
                    ("to_verify", "待核实"),
                    ("verifying", "核实中"),
                    ("invalid", "核实无效"),
                    ("to_register", "待立案"),
                    ("not_registered", "不予立案"),
                    ("to_dispatch", "待派遣"),
                    ("handling", "处置中"),
                    ("to_check", "待核查"),
                    ("checking", "核查中"),
                    ("to_close", "待结案"),
                    ("closed", "已结案"),
                    ("void", "已作废"),
                ],
                max_length=16,
            ),
        ),
        migrations.AlterField(
            model_name="workflowtransition",
            name="source",
            field=models.CharField(
                choices=[
                    ("reported", "待受理"),
                    ("not_accepted", "不予受理"),
                    ("to_verify", "待核实"),
                    ("verifying", "核实中"),
                    ("invalid", "核实无效"),
                    ("to_register", "待立案"),
                    ("not_registered", "不予立案"),
                    ("to_dispatch", "待派遣"),
                    ("handling", "处置中"),
                    ("to_check", "待核查"),
                    ("checking", "核查中"),
                    ("to_close", "待结案"),
                    ("closed", "已结案"),
                    ("void", "已作废"),
                ],
                max_length=16,
            ),
        ),
        migrations.AlterField(
            model_name="workflowtransition",
            name="target",
            field=models.CharField(
                choices=[
                    ("reported", "待受理"),
                    ("not_accepted", "不予受理"),
                    ("to_verify", "待核实"),
                    ("verifying", "核实中"),
                    ("invalid", "核实无效"),
                    ("to_register", "待立案"),
                    ("not_registered", "不予立案"),
                    ("to_dispatch", "待派遣"),
                    ("handling", "处置中"),
                    ("to_check", "待核查"),
                    ("checking", "核查中"),
                    ("to_close", "待结案"),
                    ("closed", "已结案"),
                    ("void", "已作废"),
                ],
                max_length=16,
            ),
        ),
        migrations.CreateModel(
            name="Application",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("return", "申请回退"),
                            ("extension", "申请延期"),
                            ("hold", "申请挂账"),
                            ("void", "申请作废"),
                            ("transfer", "申请转办"),
                            ("assist", "申请协办"),
                        ],
                        max_length=16,
                    ),
                ),
                (
                    "state",
                    models.CharField(
                        choices=[
                            ("pending", "待答复"),
                            ("approved", "已同意"),
                            ("denied", "不同意"),
                            ("withdrawn", "已撤销"),
                        ],
                        default="pending",
                        max_length=16,
                    ),
                ),
                ("applicant_name", models.CharField(max_length=150)),
                ("reason", models.TextField(max_length=2000)),
                (
                    "amount",
                    models.DecimalField(blank=True, decimal_places=2, max_digits=8, null=True),
                ),
                (
                    "unit",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("working_hours", "工作时"),
                            ("working_days", "工作日"),
                            ("natural_days", "自然日"),
                            ("natural_hours", "自然时"),
                        ],
                        max_length=16,
                    ),
                ),
                ("new_deadline", models.DateTimeField(blank=True, null=True)),
                (
                    "hold_mode",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("none", "不限期（手动解除）"),
                            ("hours", "挂账N小时"),
                            ("until", "挂账至指定时间"),
                        ],
                        max_length=8,
                    ),
                ),
                (
                    "hold_hours",
                    models.DecimalField(blank=True, decimal_places=2, max_digits=8, null=True),
                ),
                ("hold_until", models.DateTimeField(blank=True, null=True)),
                (
                    "level",
                    models.PositiveSmallIntegerField(
                        default=1, help_text="the level answering next"
                    ),
                ),
                ("created_at", models.DateTimeField()),
                ("answered_at", models.DateTimeField(blank=True, null=True)),
                ("forbid_reapply", models.BooleanField(default=False)),
                (
                    "applicant",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "case",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="applications",
                        to="cases.case",
                    ),
                ),
                (
                    "department",
                    models.ForeignKey(
                        blank=True,
                        help_text="the applicant's department",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="accounts.department",
                    ),
                ),
                (
                    "target_department",
                    models.ForeignKey(
                        blank=True,
                        help_text="transfer / assist: the other department",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="accounts.department",
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="ApplicationStep",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("level", models.PositiveSmallIntegerField()),
                ("approver_name", models.CharField(max_length=150)),
                ("decision", models.CharField(help_text="approve / deny", max_length=8)),
                ("opinion", models.TextField(blank=True, max_length=2000)),
                ("changes", models.JSONField(blank=True, default=dict)),
                ("at", models.DateTimeField()),
                (
                    "application",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="steps",
                        to="cases.application",
                    ),
                ),
                (
                    "approver",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["application", "level", "id"],
            },
        ),
        migrations.CreateModel(
            name="ApprovalRule",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("return", "申请回退"),
                            ("extension", "申请延期"),
                            ("hold", "申请挂账"),
                            ("void", "申请作废"),
                            ("transfer", "申请转办"),
                            ("assist", "申请协办"),
                        ],
                        max_length=16,
                    ),
                ),
                ("level", models.PositiveSmallIntegerField()),
                ("permission", models.CharField(max_length=64)),
                (
                    "receiving_department",
                    models.BooleanField(
                        default=False,
                        help_text="answered by the target department's people (transfer)",
                    ),
                ),
                ("opinion_required", models.BooleanField(default=False)),
                ("may_change_time", models.BooleanField(default=True)),
                (
                    "above_hours",
                    models.DecimalField(
                        blank=True,
                        decimal_places=2,
                        help_text="the level applies only when more hours than this are asked",
                        max_digits=8,
                        null=True,
                    ),
                ),
            ],
            options={
                "ordering": ["kind", "level"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("kind", "level"), name="approvalrule_kind_level"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="CaseAssist",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("at", models.DateTimeField()),
                (
                    "application",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="cases.application",
                    ),
                ),
                (
                    "case",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="assists",
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
        ),
        migrations.CreateModel(
            name="CaseRules",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "extension_cap",
                    models.DecimalField(
                        blank=True,
                        decimal_places=2,
                        default=0.1,
                        help_text="share of a department's cases that may be extended; blank: no cap",
                        max_digits=4,
                        null=True,
                    ),
                ),
                (
                    "free_return",
                    models.BooleanField(
                        default=True,
                        help_text="a return no restriction applies to is taken without approval",
                    ),
                ),
                ("no_return_overdue", models.BooleanField(default=True)),
                ("no_return_rework", models.BooleanField(default=True)),
                ("no_return_extended", models.BooleanField(default=True)),
                (
                    "non_extendable",
                    models.ManyToManyField(
                        blank=True,
                        help_text="a major class covers its minors",
                        related_name="+",
                        to="data.category",
                    ),
                ),
            ],
            options={
                "verbose_name_plural": "case rules",
            },
        ),
        migrations.AddIndex(
            model_name="application",
            index=models.Index(fields=["state", "kind"], name="application_state_kind"),
        ),
        migrations.AddConstraint(
            model_name="application",
            constraint=models.UniqueConstraint(
                condition=models.Q(("state", "pending")),
                fields=("case",),
                name="application_one_pending_per_case",
            ),
        ),
        migrations.AddConstraint(
            model_name="caseassist",
            constraint=models.UniqueConstraint(
                fields=("case", "department"), name="caseassist_unique"
            ),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                condition=models.Q(("held_since__isnull", False)),
                fields=["hold_until"],
                name="case_held",
            ),
        ),
        migrations.RunSQL(STEPS_IMMUTABLE, STEPS_MUTABLE),
        migrations.RunPython(add_application_transitions, migrations.RunPython.noop),
    ]
