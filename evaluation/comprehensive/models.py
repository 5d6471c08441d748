"""Comprehensive evaluation (综合评价, spec 4): the province judges cities — and a city its
districts and streets — by a three-level indicator system scored from four sources: platform
reports (平台上报), field inspections of sampled places (实地考察), surveys (问卷调查) and
self-evaluation reports (自评价报告). See docs/comprehensive-evaluation.md."""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models

from accounts.scoping import ScopedQuerySet


class EvaluationObject(models.Model):
    """An evaluation object (评价对象): a city, or one of a city's districts or streets, drawn
    as its administrative area where there is one."""

    class Kind(models.TextChoices):
        CITY = "city", "城市"
        DISTRICT = "district", "区"
        STREET = "street", "街道"

    class Size(models.TextChoices):
        LARGE = "large", "大城市"
        MEDIUM = "medium", "中等城市"
        SMALL = "small", "小城市"

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=64)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    area = models.ForeignKey(
        "spatial.AdminArea", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    geom = models.MultiPolygonField(srid=4326, null=True, blank=True)
    city_type = models.CharField(max_length=32, blank=True, help_text="e.g. 地级市, 县级市")
    size = models.CharField(max_length=16, choices=Size.choices, blank=True)
    participating = models.BooleanField(default=True)
    group = models.CharField(max_length=64, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class EvaluationCycle(models.Model):
    """An evaluation cycle (评价周期): the period one round of evaluation covers."""

    name = models.CharField(max_length=64, unique=True)
    year = models.PositiveSmallIntegerField(db_index=True)
    starts_on = models.DateField()
    ends_on = models.DateField()

    class Meta:
        ordering = ["-year", "starts_on", "id"]


class Evaluator(models.Model):
    """An evaluator (评价员): a person of an evaluating unit, bound to the objects and sample
    points they inspect."""

    person = models.OneToOneField(
        "accounts.Person", on_delete=models.CASCADE, related_name="evaluator"
    )
    unit = models.CharField(max_length=128, blank=True)
    objects_bound = models.ManyToManyField(EvaluationObject, blank=True, related_name="evaluators")
    sample_points = models.ManyToManyField("SamplePoint", blank=True, related_name="evaluators")
    active = models.BooleanField(default=True)


class BaseDataItem(models.Model):
    """A city base data item (基础数据项): built-up area, population, road area, … Its `code`
    is the name formulas use."""

    code = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=64)
    unit = models.CharField(max_length=16, blank=True)

    class Meta:
        ordering = ["code"]


class BaseDataValue(models.Model):
    """One data item's value for one object and year."""

    item = models.ForeignKey(BaseDataItem, on_delete=models.CASCADE, related_name="values")
    object = models.ForeignKey(EvaluationObject, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    value = models.FloatField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "object", "year"], name="datavalue_one")
        ]


class EvaluationIndicator(models.Model):
    """An indicator (评价指标) of the three-level tree: first level (干净, 整洁, 有序, 群众满意…),
    second and third. A leaf is scored by its `method`; a parent's score is its children's
    sum."""

    class Method(models.TextChoices):
        PLATFORM = "platform", "平台上报"
        FIELD = "field", "实地考察"
        SURVEY = "survey", "问卷调查"
        SELF = "self", "自评价"

    code = models.CharField(max_length=32, unique=True)
    short_name = models.CharField(max_length=64)
    definition = models.TextField(blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    level = models.PositiveSmallIntegerField()
    advanced = models.BooleanField(default=False, help_text="an advanced (提高) indicator")
    method = models.CharField(max_length=16, choices=Method.choices, blank=True)
    scored = models.BooleanField(default=True)
    full_score = models.FloatField(default=0)
    reference_value = models.FloatField(null=True, blank=True)
    sort_order = models.IntegerField(default=0)

    class Meta:
        ordering = ["level", "sort_order", "code"]


class CalculationRule(models.Model):
    """A calculation rule (计算规则): the indicator's value as a formula over data items."""

    indicator = models.OneToOneField(
        EvaluationIndicator, on_delete=models.CASCADE, related_name="calculation"
    )
    formula = models.TextField()
    items = models.JSONField(default=list, help_text="the data item codes the formula uses")


class IntervalRule(models.Model):
    """An interval rule (区间规则): a value within (lower, upper) — each end open or closed,
    absent for unbounded — loses `deduction` points, or `deduction` per `step` of the distance
    from the `start` end. The matching rule of lowest `priority` applies."""

    class Start(models.TextChoices):
        LOWER = "lower", "自下限"
        UPPER = "upper", "自上限"

    indicator = models.ForeignKey(
        EvaluationIndicator, on_delete=models.CASCADE, related_name="intervals"
    )
    lower = models.FloatField(null=True, blank=True)
    lower_closed = models.BooleanField(default=True)
    upper = models.FloatField(null=True, blank=True)
    upper_closed = models.BooleanField(default=False)
    step = models.FloatField(null=True, blank=True)
    start = models.CharField(max_length=8, choices=Start.choices, default=Start.UPPER)
    deduction = models.FloatField()
    priority = models.IntegerField(default=0)

    class Meta:
        ordering = ["indicator", "priority", "id"]


class LogicalRule(models.Model):
    """A logical rule (逻辑规则): a condition on the value against last year's or the reference
    value; not met, it loses `deduction` points."""

    class Kind(models.TextChoices):
        BETTER_THAN_LAST_YEAR = "better_than_last_year", "优于上年"
        NOT_WORSE_THAN_LAST_YEAR = "not_worse_than_last_year", "不低于上年"
        REACHES_REFERENCE = "reaches_reference", "达到参考值"

    indicator = models.ForeignKey(
        EvaluationIndicator, on_delete=models.CASCADE, related_name="logic"
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    higher_is_better = models.BooleanField(default=True)
    deduction = models.FloatField()


class SampleType(models.Model):
    """A sample type (样本类型): 主次干道, 背街小巷, 公园, 农贸市场, … with the attributes its
    sample points carry."""

    class Shape(models.TextChoices):
        POINT = "point", "点"
        LINE = "line", "线"
        POLYGON = "polygon", "面"

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=32, unique=True)
    shape = models.CharField(max_length=8, choices=Shape.choices)
    attributes = models.JSONField(default=list, blank=True, help_text="attribute names")

    class Meta:
        ordering = ["code"]


class CheckItem(models.Model):
    """A check item (检查项) of a field-inspected indicator: what the evaluator looks at on a
    sample of a type, and how a finding deducts points."""

    class Mode(models.TextChoices):
        PER_OCCURRENCE = "per_occurrence", "每处扣分"
        ONCE = "once", "发现即扣"
        ALL = "all", "扣除全部分值"

    indicator = models.ForeignKey(
        EvaluationIndicator, on_delete=models.CASCADE, related_name="check_items"
    )
    sample_type = models.ForeignKey(SampleType, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=128)
    mode = models.CharField(max_length=16, choices=Mode.choices)
    deduction = models.FloatField()
    max_deduction = models.FloatField(null=True, blank=True)
    sort_order = models.IntegerField(default=0)

    class Meta:
        ordering = ["indicator", "sort_order", "id"]


class SamplePoint(models.Model):
    """A sample point (样本点): one place of a sample type in an object — a crossing or market
    (point), a road (line), a park or community (polygon) — with the street (stratum) it
    lies in."""

    sample_type = models.ForeignKey(SampleType, on_delete=models.PROTECT, related_name="points")
    object = models.ForeignKey(EvaluationObject, on_delete=models.CASCADE, related_name="samples")
    street = models.ForeignKey(
        "spatial.AdminArea", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField(max_length=128)
    attributes = models.JSONField(default=dict, blank=True)
    geom = models.GeometryField(srid=4326)
    anchor = models.PointField(srid=4326, help_text="a point on the sample, for distances")
    enabled = models.BooleanField(default=True)
    source = models.CharField(max_length=64, blank=True, help_text="where it was imported from")

    objects = ScopedQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["object", "sample_type"], name="samplepoint_type")]
        constraints = [
            models.UniqueConstraint(
                fields=["object", "sample_type", "source"],
                condition=~models.Q(source=""),
                name="samplepoint_source_once",
            )
        ]


class FieldSamplingRule(models.Model):
    """A sampling rule (抽样规则) of a sample type in an object: how many to draw, from which
    street or attributes, spread over streets in proportion to their samples, how far apart,
    with which seed (the same rule and seed give the same draw)."""

    name = models.CharField(max_length=64)
    sample_type = models.ForeignKey(SampleType, on_delete=models.PROTECT, related_name="+")
    object = models.ForeignKey(EvaluationObject, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    count = models.PositiveIntegerField()
    area = models.ForeignKey(
        "spatial.AdminArea", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    attributes = models.JSONField(default=dict, blank=True, help_text="attribute equal values")
    stratify = models.BooleanField(default=True)
    min_distance_m = models.FloatField(default=0)
    seed = models.BigIntegerField(default=1)
    enabled = models.BooleanField(default=True)


class TaskState(models.TextChoices):
    PENDING = "pending", "待填报"
    DRAFT = "draft", "草稿"
    SUBMITTED = "submitted", "待审核"
    APPROVED = "approved", "已通过"
    RETURNED = "returned", "已退回"


class FieldInspectionTask(models.Model):
    """A field inspection task (实地考察任务): one sampled place of an object for one
    evaluator, scored per check item and reviewed."""

    cycle = models.ForeignKey(EvaluationCycle, on_delete=models.PROTECT, related_name="inspections")
    object = models.ForeignKey(EvaluationObject, on_delete=models.PROTECT, related_name="+")
    sample = models.ForeignKey(SamplePoint, on_delete=models.PROTECT, related_name="tasks")
    rule = models.ForeignKey(
        FieldSamplingRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    evaluator = models.ForeignKey(Evaluator, on_delete=models.PROTECT, related_name="tasks")
    state = models.CharField(max_length=16, choices=TaskState.choices, default=TaskState.PENDING)
    deadline = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    return_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["cycle", "sample"], name="inspection_sample_once")
        ]


class FieldInspectionScore(models.Model):
    """One check item's finding on an inspection: occurrences, the deduction they give, the
    photo, where and when it was taken (recorded by the app, not typed)."""

    task = models.ForeignKey(FieldInspectionTask, on_delete=models.CASCADE, related_name="scores")
    check_item = models.ForeignKey(CheckItem, on_delete=models.PROTECT, related_name="+")
    occurrences = models.PositiveIntegerField(default=0)
    deduction = models.FloatField(default=0)
    note = models.TextField(blank=True)
    photo = models.FileField(upload_to="evaluation/%Y/%m/", null=True, blank=True)
    position = models.PointField(srid=4326, null=True, blank=True)
    distance_m = models.FloatField(
        null=True, blank=True, help_text="from the position to the sample, metres (geodesic)"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["task", "check_item"], name="inspection_score_once")
        ]


class FillingTask(models.Model):
    """A fill → submit → review task (填报任务) of one object in a cycle: platform data
    (平台上报: data item values), survey results (问卷调查: five satisfaction shares per
    indicator) or a self-evaluation report (自评价报告: a score per indicator)."""

    class Kind(models.TextChoices):
        PLATFORM = "platform", "平台上报"
        SURVEY = "survey", "问卷调查"
        SELF = "self", "自评价报告"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    cycle = models.ForeignKey(EvaluationCycle, on_delete=models.PROTECT, related_name="reports")
    object = models.ForeignKey(EvaluationObject, on_delete=models.PROTECT, related_name="+")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(max_length=16, choices=TaskState.choices, default=TaskState.PENDING)
    deadline = models.DateTimeField()
    values = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    return_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["deadline", "id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "cycle", "object"], name="report_task_once")
        ]


class FillingAttachment(models.Model):
    task = models.ForeignKey(FillingTask, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="evaluation/reports/%Y/%m/")
    name = models.CharField(max_length=128)
    content_type = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    uploaded_at = models.DateTimeField()


class EvaluationTaskEvent(models.Model):
    """What happened to an inspection or report task, by whom and when."""

    inspection = models.ForeignKey(
        FieldInspectionTask, null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    report = models.ForeignKey(
        FillingTask, null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    action = models.CharField(max_length=32)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField()
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]


class EvaluationResult(models.Model):
    """An indicator's computed value and score for one object in one cycle (评价结果)."""

    cycle = models.ForeignKey(EvaluationCycle, on_delete=models.CASCADE, related_name="results")
    object = models.ForeignKey(EvaluationObject, on_delete=models.CASCADE, related_name="+")
    indicator = models.ForeignKey(EvaluationIndicator, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=16, blank=True)
    value = models.FloatField(null=True, blank=True)
    score = models.FloatField()
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["cycle", "object", "indicator"], name="indicator_result_once"
            )
        ]
