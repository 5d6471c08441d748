"""Supplementary collection (补采) and self-handling (自行处置): the states ``supplementing``
(补采中) and ``to_review`` (待审核), the task's kind ``supplement`` with its asker, note,
deadline, answer and return state, the media stages of a supplement and of the state after a
self-handling, the case's and the workflow's ``self_handled`` flag, a workflow's initial state;
and the supplement transitions and stage added to the default workflow definitions already
stored (new databases get them, and the self-handling workflow, from
`cases.workflows.load_default_workflows` after migrate)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

STATES = [
    ("reported", "待受理"),
    ("not_accepted", "不予受理"),
    ("to_verify", "待核实"),
    ("verifying", "核实中"),
    ("supplementing", "补采中"),
    ("to_review", "待审核"),
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
]

# (action, outcome, source, target, permission): cases.workflows.SUPPLEMENT_TRANSITIONS as
# released with this migration.
SUPPLEMENT_TRANSITIONS = [
    ("request_supplement", "", "reported", "supplementing", "cases.accept"),
    ("request_supplement", "", "to_register", "supplementing", "cases.register"),
    ("supplement", "reported", "supplementing", "reported", "cases.report"),
    ("supplement", "to_register", "supplementing", "to_register", "cases.report"),
]


def add_supplement_transitions(apps, schema_editor):
    """Adds the supplement request and answer, and the supplementing stage (1 natural hour, as
    the verifying and checking stages), to the stored default workflows."""
    Workflow = apps.get_model("cases", "Workflow")
    Transition = apps.get_model("cases", "WorkflowTransition")
    Stage = apps.get_model("cases", "WorkflowStage")
    for workflow in Workflow.objects.filter(key__regex=r"^(direct|verified)-"):
        for action, outcome, source, target, permission in SUPPLEMENT_TRANSITIONS:
            Transition.objects.get_or_create(
                workflow=workflow,
                action=action,
                outcome=outcome,
                source=source,
                defaults={"target": target, "permission": permission},
            )
        Stage.objects.get_or_create(
            workflow=workflow,
            state="supplementing",
            defaults={"amount": 1, "unit": "natural_hours", "from_category": False},
        )


def state_field(**kwargs):
    return models.CharField(choices=STATES, max_length=16, **kwargs)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0009_supervisions"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="case", name="state", field=state_field(default="reported")
        ),
        migrations.AlterField(
            model_name="timelimit", name="stage", field=state_field(default="handling")
        ),
        migrations.AlterField(model_name="workflowstage", name="state", field=state_field()),
        migrations.AlterField(model_name="workflowtransition", name="source", field=state_field()),
        migrations.AlterField(model_name="workflowtransition", name="target", field=state_field()),
        migrations.AlterField(
            model_name="workflowtransition",
            name="outcome",
            field=models.CharField(blank=True, max_length=16),
        ),
        migrations.AddField(
            model_name="workflow",
            name="self_handled",
            field=models.BooleanField(
                default=False,
                help_text="for self-handled reports (自行处置) only, or for the others",
            ),
        ),
        migrations.AddField(
            model_name="workflow",
            name="initial_state",
            field=state_field(default="reported", help_text="the state a new case starts in"),
        ),
        migrations.AddField(
            model_name="case",
            name="self_handled",
            field=models.BooleanField(
                default=False,
                help_text="reported as fixed on the spot by the inspector (自行处置)",
            ),
        ),
        migrations.AlterField(
            model_name="casetask",
            name="kind",
            field=models.CharField(
                choices=[("verify", "核实"), ("check", "核查"), ("supplement", "补采")],
                max_length=16,
            ),
        ),
        migrations.AddField(
            model_name="casetask",
            name="requested_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="casetask",
            name="note",
            field=models.TextField(
                blank=True, help_text="what the inspector is asked", max_length=2000
            ),
        ),
        migrations.AddField(
            model_name="casetask",
            name="deadline",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="casetask",
            name="return_state",
            field=models.CharField(
                blank=True,
                help_text="supplement: the state the answer returns to",
                max_length=16,
            ),
        ),
        migrations.AddField(
            model_name="casetask",
            name="answer",
            field=models.TextField(blank=True, max_length=2000),
        ),
        migrations.AlterField(
            model_name="casemedia",
            name="stage",
            field=models.CharField(
                choices=[
                    ("report", "上报"),
                    ("handling", "处置"),
                    ("check", "核查"),
                    ("supplement", "补采"),
                    ("self_handled", "自行处置后"),
                ],
                max_length=16,
            ),
        ),
        migrations.RunPython(add_supplement_transitions, migrations.RunPython.noop),
    ]
