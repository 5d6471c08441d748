"""The evaluation app's models. Performance evaluation (绩效评价) here: the rules of the spatial
indicators and sampling (`EvaluationRules`), the weights of the composite index
(`IndicatorWeight`) and the grade bands (`GradeBand`) — the defaults
(`evaluation.scores.DEFAULT_WEIGHTS`, `DEFAULT_BANDS`) apply to a subject without rows;
docs/evaluation.md lists them — and the quality sampling. Comprehensive evaluation (综合评价)
lives in `evaluation.comprehensive.models`, imported at the end."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models


class EvaluationRules(models.Model):
    """The evaluation rules (one row; none: the defaults): when a public report counts as
    missed by an inspector (漏报), and the floor of the sampling's floor mode (保底方式)."""

    missed_report_metres = models.FloatField(
        default=50.0, help_text="an inspector's report of the class this near covers it"
    )
    missed_report_hours = models.FloatField(
        default=72.0, help_text="… when reported at most this long before the public report"
    )
    sample_floor = models.PositiveIntegerField(
        default=5, help_text="floor mode: cases drawn from each department first"
    )

    class Meta:
        verbose_name_plural = "evaluation rules"

    def __str__(self) -> str:
        return "evaluation rules"


class IndicatorWeight(models.Model):
    """The weight of a rate in the composite index (综合指标值) of a subject."""

    subject = models.CharField(max_length=16)
    indicator = models.CharField(max_length=32)
    weight = models.DecimalField(max_digits=6, decimal_places=2)

    class Meta:
        ordering = ["subject", "indicator"]
        constraints = [
            models.UniqueConstraint(fields=["subject", "indicator"], name="weight_unique"),
            models.CheckConstraint(condition=models.Q(weight__gt=0), name="weight_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} {self.indicator} {self.weight}"


class GradeBand(models.Model):
    """A grade (等级 A–E) of a subject's composite index: from `min_score` (inclusive) up to
    the next band's."""

    subject = models.CharField(max_length=16)
    grade = models.CharField(max_length=1)
    min_score = models.DecimalField(max_digits=6, decimal_places=2)

    class Meta:
        ordering = ["subject", "-min_score"]
        constraints = [
            models.UniqueConstraint(fields=["subject", "grade"], name="gradeband_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} {self.grade} ≥ {self.min_score}"


# ---------------------------------------------------------------------------------------------
# Closed-case quality sampling (案件质检, spec 5.3.7): see `evaluation.sampling`.


class DeductionItem(models.Model):
    """A deduction a quality score may take (扣分项, the spec's tc_dic_check_score): points off
    the 100 a sampled case starts with."""

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=64)
    points = models.DecimalField(max_digits=5, decimal_places=2)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=models.Q(points__gt=0), name="deduction_positive")
        ]

    def __str__(self) -> str:
        return f"{self.name} −{self.points}"


class SamplingTask(models.Model):
    """A sampling of closed cases (抽查任务): `total` cases drawn from the handling departments'
    cases closed (or reported, `basis`) in [start, end), spread over the departments by `mode`;
    then issued to other departments (`QualityAssignment`), who score them."""

    class Basis(models.TextChoices):
        CLOSED = "closed", "按结案时间"
        REPORTED = "reported", "按上报时间"

    class Mode(models.TextChoices):
        PROPORTIONAL = "proportional", "比例方式"
        AVERAGE = "average", "平均方式"
        FLOOR = "floor", "保底方式"

    name = models.CharField(max_length=128)
    basis = models.CharField(max_length=16, choices=Basis.choices, default=Basis.CLOSED)
    start = models.DateTimeField()
    end = models.DateTimeField()
    total = models.PositiveIntegerField()
    mode = models.CharField(max_length=16, choices=Mode.choices)
    floor = models.PositiveIntegerField(default=5, help_text="floor mode: first from each")
    seed = models.CharField(
        max_length=32, help_text="the draw's seed: the same seed, the same draw"
    )
    departments = models.ManyToManyField("accounts.Department", related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    issued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name


class SampledCase(models.Model):
    """A case a sampling drew, with the handling department it was drawn for."""

    task = models.ForeignKey(SamplingTask, on_delete=models.CASCADE, related_name="cases")
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="+")
    department = models.ForeignKey(
        "accounts.Department", on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["task", "department", "case"]
        constraints = [models.UniqueConstraint(fields=["task", "case"], name="sampledcase_unique")]


class QualityAssignment(models.Model):
    """A sampling issued to an evaluating department (评价任务): its people score the sampled
    cases of the other departments."""

    task = models.ForeignKey(SamplingTask, on_delete=models.CASCADE, related_name="assignments")
    department = models.ForeignKey(
        "accounts.Department", on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["task", "department"], name="assignment_unique")
        ]


class QualityScore(models.Model):
    """An evaluating department's score of a sampled case (案件评价): 100 less its deductions;
    editable until submitted (待提交 → 已提交)."""

    sampled = models.ForeignKey(SampledCase, on_delete=models.CASCADE, related_name="scores")
    department = models.ForeignKey(
        "accounts.Department", on_delete=models.PROTECT, related_name="+"
    )
    deductions = models.JSONField(default=list, help_text="codes of DeductionItem")
    score = models.DecimalField(max_digits=6, decimal_places=2)
    note = models.TextField(max_length=2000, blank=True)
    scored_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    scored_at = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["sampled", "department"], name="qualityscore_unique")
        ]


class CaseEventFacts(models.Model):
    """Per case, the facts of its events that the indicators read (`evaluation.facts`): the
    first time of each milestone and the times of the handling rounds, feedbacks and reworks.
    A projection of the events, never written by Python: the trigger of migration 0005 folds
    each appended event into its case's row in the same transaction (events are never updated
    or deleted), and `manage.py case_event_facts --check` / `--rebuild` compare it with the
    events or write it again from them. Times, not counts: the facts "as of" any moment are
    the times before it."""

    case = models.OneToOneField(
        "cases.Case", primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    last_event_at = models.DateTimeField()
    valid_at = models.DateTimeField(null=True, help_text="first event into 待立案")
    registered_at = models.DateTimeField(null=True)
    dispatched_at = models.DateTimeField(null=True, help_text="first dispatch")
    closed_at = models.DateTimeField(null=True)
    voided_at = models.DateTimeField(null=True)
    last_start = models.DateTimeField(null=True, help_text="latest of start_times")
    last_feedback = models.DateTimeField(null=True, help_text="latest of feedback_times")
    start_times = ArrayField(
        models.DateTimeField(), default=list, help_text="dispatches, re-dispatches, reworks"
    )
    feedback_times = ArrayField(
        models.DateTimeField(), default=list, help_text="feedbacks into 待核查"
    )
    rework_times = ArrayField(models.DateTimeField(), default=list)
    reworks = models.PositiveIntegerField(default=0, help_text="length of rework_times")

    class Meta:
        verbose_name_plural = "case event facts"

    def __str__(self) -> str:
        return f"facts of case {self.case_id}"


class ShareEvent(models.Model):
    """A case event as it concerns one handling department's share of the case: the
    department received it (dispatch, re-dispatch, approved transfer), fed back, was moved off
    it by a re-dispatch, returned it or transferred it away; the department's code taken out
    of the event's details once. A feedback that names no department and sends the case to
    待核查 concerns every share (`any_share`). A projection of the events like
    `CaseEventFacts`: the trigger of migration 0006 writes the rows of each appended event
    (one SQL function gives them, `evaluation_share_rows`), and `manage.py case_event_facts`
    checks and rebuilds them. The department indicators read these narrow rows instead of
    every event's JSON (`evaluation.facts.department_facts`)."""

    class Kind(models.TextChoices):
        RECEIVED = "received"
        FED = "fed"
        MOVED = "moved"
        RETURNED = "returned"
        TRANSFERRED = "transferred"

    case = models.ForeignKey(
        "cases.Case", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    event = models.ForeignKey(
        "cases.CaseEvent", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    at = models.DateTimeField()
    kind = models.CharField(max_length=12, choices=Kind.choices)
    code = models.CharField(max_length=64, blank=True, help_text="the department's code")
    any_share = models.BooleanField(default=False)
    late = models.BooleanField(null=True, help_text="a share's feedback: past its own clock")

    class Meta:
        indexes = [
            models.Index(fields=["kind", "at"], name="shareevent_kind_at"),
            models.Index(fields=["case", "at"], name="shareevent_case_at"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.code or '*'} of case {self.case_id}"


from evaluation.comprehensive.models import *  # noqa: E402, F403
