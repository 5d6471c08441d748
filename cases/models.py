"""Cases (案件) and what runs them: conditions, time limits, the responsibility manual, workflow
definitions, the work calendar, events, tasks and media.

Only the actions in `cases.actions` write `Case.state`; each appends a `CaseEvent` in the same
transaction. Events are immutable (a trigger refuses UPDATE and DELETE). Edits of a case's
fields outside a transition are recorded by a trigger in `CaseChange` with old and new values.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex

from accounts.scoping import ScopedQuerySet
from spatial.models.geography import mercator_copy, mercator_index


class LimitUnit(models.TextChoices):
    """How a time limit counts."""

    WORKING_HOURS = "working_hours", "工作时"
    WORKING_DAYS = "working_days", "工作日"
    NATURAL_DAYS = "natural_days", "自然日"
    NATURAL_HOURS = "natural_hours", "自然时"


class Level(models.TextChoices):
    """A case's level (案件等级)."""

    ROUTINE = "routine", "日常"
    GENERAL = "general", "一般"
    SERIOUS = "serious", "严重"
    MAJOR = "major", "重大"


class Source(models.TextChoices):
    """Where a case comes from (案件来源)."""

    INSPECTOR = "inspector", "监督员上报"
    PUBLIC = "public", "公众举报"
    HOTLINE = "hotline", "12345热线"
    VIDEO = "video", "视频监控"
    LEADER = "leader", "领导交办"
    SURVEY = "survey", "专项普查"
    MEDIA = "media", "媒体曝光"


class State(models.TextChoices):
    """The states of the main workflow; `Case.state` holds one."""

    REPORTED = "reported", "待受理"
    NOT_ACCEPTED = "not_accepted", "不予受理"
    TO_VERIFY = "to_verify", "待核实"
    VERIFYING = "verifying", "核实中"
    SUPPLEMENTING = "supplementing", "补采中"
    TO_REVIEW = "to_review", "待审核"
    INVALID = "invalid", "核实无效"
    TO_REGISTER = "to_register", "待立案"
    NOT_REGISTERED = "not_registered", "不予立案"
    TO_DISPATCH = "to_dispatch", "待派遣"
    HANDLING = "handling", "处置中"
    TO_CHECK = "to_check", "待核查"
    CHECKING = "checking", "核查中"
    TO_CLOSE = "to_close", "待结案"
    CLOSED = "closed", "已结案"
    VOID = "void", "已作废"
    MERGED = "merged", "已合并"


class DispatchMode(models.TextChoices):
    """How a case was dispatched (派遣方式, spec 5.2.6; `cases.dispatching`)."""

    NORMAL = "normal", "普通派遣"
    FORCED = "forced", "强制派遣"
    PARALLEL = "parallel", "并行派遣"
    MULTI = "multi", "多部门派遣"


class DeadlineState(models.TextChoices):
    NORMAL = "normal", "正常"
    WARNING = "warning", "预警"
    OVERDUE = "overdue", "超期"
    NONE = "none", "无时限"


class Condition(models.Model):
    """A registration condition (立案条件) or closure condition (结案条件) of a minor class."""

    class Kind(models.TextChoices):
        REGISTER = "register", "立案条件"
        CLOSE = "close", "结案条件"

    category = models.ForeignKey(
        "data.Category", on_delete=models.CASCADE, related_name="conditions"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    code = models.CharField(max_length=16, help_text="unique within the class and kind")
    text = models.TextField()
    sort_order = models.IntegerField(default=100)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["category", "kind", "sort_order", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["category", "kind", "code"], name="condition_category_kind_code"
            )
        ]

    def __str__(self) -> str:
        return f"{self.category.code} {self.get_kind_display()} {self.code}"


class TimeLimit(models.Model):
    """The time limit of one stage for cases registered under `condition`, in a timing zone
    kind and at a level (blank zone or level: any). The most specific row wins."""

    condition = models.ForeignKey(Condition, on_delete=models.CASCADE, related_name="limits")
    stage = models.CharField(max_length=16, choices=State.choices, default=State.HANDLING)
    zone = models.CharField(max_length=16, blank=True, help_text="timing zone kind; blank: any")
    level = models.CharField(max_length=16, choices=Level.choices, blank=True)
    amount = models.DecimalField(max_digits=8, decimal_places=2)
    unit = models.CharField(
        max_length=16, choices=LimitUnit.choices, default=LimitUnit.WORKING_HOURS
    )

    class Meta:
        ordering = ["condition", "stage", "zone", "level"]
        constraints = [
            models.UniqueConstraint(
                fields=["condition", "stage", "zone", "level"], name="timelimit_unique"
            ),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="timelimit_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.condition} {self.stage} {self.zone or '*'} {self.level or '*'}"


class ManualEntry(models.Model):
    """One row of the responsibility manual (事项指挥手册): who handles a minor class in an area
    (blank: the whole city), in what time and to what standard."""

    category = models.ForeignKey(
        "data.Category", on_delete=models.CASCADE, related_name="manual_entries"
    )
    area = models.ForeignKey(
        "spatial.AdminArea", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    department = models.ForeignKey(
        "accounts.Department", on_delete=models.PROTECT, related_name="manual_entries"
    )
    assisting = models.ManyToManyField("accounts.Department", blank=True, related_name="+")
    limit_amount = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    limit_unit = models.CharField(max_length=16, choices=LimitUnit.choices, blank=True)
    standard = models.TextField(blank=True, help_text="the handling standard (处置标准)")
    auto_dispatch = models.BooleanField(
        default=False,
        help_text="registration dispatches the case to the department at once (自动派遣)",
    )

    class Meta:
        verbose_name_plural = "manual entries"
        constraints = [
            models.UniqueConstraint(fields=["category", "area"], name="manual_category_area"),
            models.UniqueConstraint(
                fields=["category"],
                condition=models.Q(area__isnull=True),
                name="manual_category_citywide",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.category.code} → {self.department}"


class Workflow(models.Model):
    """A workflow definition (流程定义): the stages and transitions a case passes, chosen by
    case kind and source (blank: any); the matching row with the highest priority wins."""

    key = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=64)
    kind = models.CharField(max_length=16, blank=True, help_text="component / event; blank: any")
    source = models.CharField(max_length=16, choices=Source.choices, blank=True)
    self_handled = models.BooleanField(
        default=False, help_text="for self-handled reports (自行处置) only, or for the others"
    )
    initial_state = models.CharField(
        max_length=16,
        choices=State.choices,
        default=State.REPORTED,
        help_text="the state a new case starts in",
    )
    priority = models.IntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["-priority", "key"]

    def __str__(self) -> str:
        return self.name


class WorkflowStage(models.Model):
    """A stage of a workflow: a state a case waits in, with its time limit. A stage whose
    limit comes from the class (`from_category`) uses the condition's `TimeLimit` rows."""

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="stages")
    state = models.CharField(max_length=16, choices=State.choices)
    amount = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    unit = models.CharField(max_length=16, choices=LimitUnit.choices, blank=True)
    from_category = models.BooleanField(default=False)

    class Meta:
        ordering = ["workflow", "id"]
        constraints = [
            models.UniqueConstraint(fields=["workflow", "state"], name="stage_workflow_state")
        ]

    def __str__(self) -> str:
        return f"{self.workflow.key}:{self.state}"


class WorkflowTransition(models.Model):
    """One edge of a workflow's state machine: `action` (with `outcome` for verify and check:
    ``yes``/``no``; for a supplement answer: the state the case was asked from; blank
    otherwise) moves a case from `source` to `target`; the actor needs `permission`."""

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="transitions")
    action = models.CharField(max_length=32)
    outcome = models.CharField(max_length=16, blank=True)
    source = models.CharField(max_length=16, choices=State.choices)
    target = models.CharField(max_length=16, choices=State.choices)
    permission = models.CharField(max_length=64)

    class Meta:
        ordering = ["workflow", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workflow", "action", "outcome", "source"], name="transition_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.workflow.key}: {self.source} --{self.action}--> {self.target}"


class WorkCalendar(models.Model):
    """A work calendar (工作日历): working periods of a day, the official holidays and make-up
    days from the `chinesecalendar` library, `CalendarDay` overrides and `SeasonalHours`."""

    key = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=64)
    periods = models.JSONField(
        default=list,
        help_text='working periods of a day, e.g. [["08:30","12:00"],["13:30","17:30"]]',
    )
    use_official_holidays = models.BooleanField(default=True)
    is_default = models.BooleanField(default=False)
    warning_ratio = models.DecimalField(
        max_digits=4, decimal_places=2, default=0.8, help_text="share of a limit used → warning"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=models.Q(is_default=True), name="one_default"
            )
        ]

    def __str__(self) -> str:
        return self.name


class SeasonalHours(models.Model):
    """Working periods for a part of the year (e.g. summer hours), from month-day to
    month-day inclusive ("06-01" … "09-30")."""

    calendar = models.ForeignKey(WorkCalendar, on_delete=models.CASCADE, related_name="seasons")
    name = models.CharField(max_length=32)
    start = models.CharField(max_length=5, help_text="MM-DD")
    end = models.CharField(max_length=5, help_text="MM-DD")
    periods = models.JSONField(default=list)

    class Meta:
        verbose_name_plural = "seasonal hours"

    def __str__(self) -> str:
        return f"{self.calendar.key} {self.name}"


class CalendarDay(models.Model):
    """An override of one date: working or not, and its own periods (blank: the usual)."""

    calendar = models.ForeignKey(WorkCalendar, on_delete=models.CASCADE, related_name="days")
    date = models.DateField()
    working = models.BooleanField()
    periods = models.JSONField(null=True, blank=True)
    note = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["calendar", "date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="calendarday_unique")
        ]

    def __str__(self) -> str:
        return f"{self.calendar.key} {self.date}"


class CaseNumberCounter(models.Model):
    """The last task number handed out on a day (the daily sequence of `Case.number`)."""

    day = models.DateField(primary_key=True)
    last = models.PositiveIntegerField(default=0)


class Case(models.Model):
    """A case (案件): a problem with a component (部件) or an event (事件) reported at a point,
    run through its workflow. The placement columns are a snapshot taken at creation."""

    number = models.CharField(max_length=16, unique=True, help_text="task number (任务号)")
    source = models.CharField(max_length=16, choices=Source.choices)
    kind = models.CharField(max_length=16, help_text="component / event")
    category = models.ForeignKey("data.Category", on_delete=models.PROTECT, related_name="+")
    level = models.CharField(max_length=16, choices=Level.choices, default=Level.ROUTINE)
    urgent = models.BooleanField(default=False)
    description = models.TextField(max_length=4000)
    address = models.CharField(max_length=256, blank=True)
    geom = models.PointField(srid=4326)
    geom_mercator = mercator_copy(models.PointField)
    component_code = models.CharField(max_length=16, blank=True)

    reporter_name = models.CharField(max_length=64, blank=True)
    reporter_phone = models.CharField(max_length=32, blank=True)
    reporter_private = models.BooleanField(default=False, help_text="reporter asked for privacy")
    callback_wanted = models.BooleanField(default=False)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reported_at = models.DateTimeField()

    # Placement snapshot (落点快照).
    district_code = models.CharField(max_length=12, blank=True)
    district_name = models.CharField(max_length=64, blank=True)
    street_code = models.CharField(max_length=12, blank=True)
    street_name = models.CharField(max_length=64, blank=True)
    community_code = models.CharField(max_length=12, blank=True)
    community_name = models.CharField(max_length=64, blank=True)
    unit_grid_code = models.CharField(max_length=32, blank=True)
    grid_code = models.CharField(max_length=32, blank=True)
    grid_name = models.CharField(max_length=64, blank=True)
    timing_zone = models.CharField(max_length=16, blank=True)
    road_name = models.CharField(max_length=64, blank=True)

    workflow = models.ForeignKey(Workflow, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=16, choices=State.choices, default=State.REPORTED)
    register_condition = models.ForeignKey(
        Condition, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    close_condition = models.ForeignKey(
        Condition, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    department = models.ForeignKey(
        "accounts.Department",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="the handling department it is dispatched to",
    )
    check_passed = models.BooleanField(null=True, blank=True)
    rework_count = models.PositiveIntegerField(default=0)
    self_handled = models.BooleanField(
        default=False, help_text="reported as fixed on the spot by the inspector (自行处置)"
    )
    dispatch_mode = models.CharField(
        max_length=8, choices=DispatchMode.choices, default=DispatchMode.NORMAL
    )
    report_key = models.UUIDField(
        null=True,
        blank=True,
        unique=True,
        help_text="the reporting device's key for this report: a repeat answers this case",
    )
    similar_count = models.PositiveIntegerField(
        default=0, db_default=0, help_text="similar cases (相似案件) found when it was reported"
    )
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        help_text="multi-department dispatch: the case this one was split from",
    )
    duplicate_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="duplicates",
        help_text="linked as a duplicate (重复案件) of this earlier closed case",
    )
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged",
        help_text="merged (案件合并) into this earlier similar case; its reporter is listed there",
    )
    duplicate_dismissed = models.BooleanField(
        default=False,
        db_default=False,
        help_text="the suspicion of duplication was dismissed: registration proceeds",
    )
    acceptor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="the acceptor it was assigned to (cases.assignment); blank: waiting",
    )
    acceptor_returned = models.BooleanField(
        default=False,
        db_default=False,
        help_text="came back to its acceptor (补采, restore): not counted in their load",
    )

    stage_started_at = models.DateTimeField()
    stage_limit_amount = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    stage_limit_unit = models.CharField(max_length=16, blank=True)
    deadline = models.DateTimeField(null=True, blank=True, help_text="of the current stage")
    warning_at = models.DateTimeField(null=True, blank=True)
    deadline_state = models.CharField(
        max_length=8, choices=DeadlineState.choices, default=DeadlineState.NONE
    )
    custom_deadline = models.DateTimeField(
        null=True, blank=True, help_text="overrides the class limit of the handling stage"
    )
    handling_deadline = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    held_since = models.DateTimeField(null=True, blank=True, help_text="on hold (挂账) since")
    hold_until = models.DateTimeField(
        null=True, blank=True, help_text="released automatically then; blank: by hand"
    )
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        indexes = [
            mercator_index("case"),
            models.Index(fields=["state", "reported_at"], name="case_state_reported"),
            # 今日结案 (closed today) among ~all closed cases; bench/README.md "Cases at 1M".
            models.Index(fields=["state", "closed_at"], name="case_state_closed"),
            models.Index(fields=["street_code", "state"], name="case_street_state"),
            # The other area levels of the visibility rule (cases.visibility._in_areas).
            models.Index(fields=["district_code", "state"], name="case_district_state"),
            models.Index(fields=["community_code", "state"], name="case_community_state"),
            models.Index(fields=["grid_code", "state"], name="case_grid_state"),
            models.Index(fields=["department", "state"], name="case_dept_state"),
            models.Index(fields=["deadline_state", "state"], name="case_deadline_state"),
            # Periods by report time; it carries what the evaluation's indicators read of a
            # case (evaluation.facts), so a year's table scans this, not the wide rows.
            models.Index(
                fields=["reported_at"],
                include=[
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
                ],
                name="case_reported_cover",
            ),  # fmt: skip
            # Beat's due holds, among the few held cases.
            models.Index(
                fields=["hold_until"],
                condition=models.Q(held_since__isnull=False),
                name="case_held",
            ),
            models.Index(fields=["category", "reported_at"], name="case_category_reported"),
            # The boxes' "new arrival" counts: cases that entered a stage, or reached their
            # warning time or deadline, since a person last opened the box.
            models.Index(fields=["stage_started_at"], name="case_stage_started"),
            # By deadline state first: beat's due cases (normal or warning with the time
            # passed) are a short range of each, not every past deadline; and the arrivals of
            # 预警 and 超期 (bench/README.md "Deadline notices").
            models.Index(fields=["deadline_state", "deadline"], name="case_state_deadline"),
            models.Index(fields=["deadline_state", "warning_at"], name="case_state_warning"),
            # Duplicate suspicion (cases.duplicates): the closed cases of a class in a unit grid
            # closed within a period.
            models.Index(
                fields=["category", "unit_grid_code", "closed_at"],
                condition=models.Q(state="closed"),
                name="case_closed_class_grid",
            ),
            models.Index(
                fields=["category", "road_name", "closed_at"],
                condition=models.Q(state="closed"),
                name="case_closed_class_road",
            ),
            # Automatic assignment (cases.assignment): the cases waiting for an acceptor, and
            # each acceptor's load.
            models.Index(
                fields=["reported_at"],
                condition=models.Q(
                    acceptor__isnull=True, state__in=["reported", "to_verify", "to_review"]
                ),
                name="case_waiting_acceptor",
            ),
            models.Index(
                fields=["acceptor"],
                condition=models.Q(
                    acceptor__isnull=False, state__in=["reported", "to_verify", "to_review"]
                ),
                name="case_acceptor_load",
            ),
            GinIndex(
                name="case_description_trgm",
                fields=["description"],
                opclasses=["gin_trgm_ops"],
            ),
        ]

    def __str__(self) -> str:
        return self.number


class CaseEvent(models.Model):
    """One step of a case's history (办理经过): who did what, when, from which state to which.
    Never updated or deleted (a trigger refuses both)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(max_length=32)
    from_state = models.CharField(max_length=16, blank=True)
    to_state = models.CharField(max_length=16, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150)
    position = models.CharField(max_length=256, blank=True)
    department = models.ForeignKey(
        "accounts.Department", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(db_index=True)
    opinion = models.TextField(blank=True, max_length=2000)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["case", "at", "id"]
        indexes = [models.Index(fields=["case", "at"], name="caseevent_case_at")]


class CaseTask(models.Model):
    """A task sent to an inspector: verification (核实), check (核查) or supplementary
    collection (补采: more photos and details of the scene, asked by the centre at acceptance
    or registration). Its deadline is the clock of the stage the case waits in meanwhile."""

    class Kind(models.TextChoices):
        VERIFY = "verify", "核实"
        CHECK = "check", "核查"
        SUPPLEMENT = "supplement", "补采"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="tasks")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="case_tasks",
        help_text="blank while the task waits in its grid's pool (任务池) to be claimed",
    )
    pool_grid = models.CharField(
        max_length=32, blank=True, help_text="sent to the pool of this responsibility grid"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(max_length=2000, blank=True, help_text="what the inspector is asked")
    created_at = models.DateTimeField()
    deadline = models.DateTimeField(null=True, blank=True)
    return_state = models.CharField(
        max_length=16, blank=True, help_text="supplement: the state the answer returns to"
    )
    done_at = models.DateTimeField(null=True, blank=True)
    result = models.BooleanField(null=True, blank=True)
    answer = models.TextField(max_length=2000, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["assignee", "done_at"], name="casetask_open"),
            models.Index(
                fields=["pool_grid"],
                condition=models.Q(assignee__isnull=True, done_at__isnull=True),
                name="casetask_pool_open",
            ),
        ]


class AutoTaskRule(models.Model):
    """A rule of automatic verification and check tasks (自动派发规则, spec 5.3.1-5.3.2): for
    the cases it matches — every filter left empty matches all — entering 待核实 or 待核查 in
    its hours, the task goes to the reporting inspector when online, else to the nearest
    online inspector of the case's grid (`target` ``nearest``), or straight to the grid's task
    pool (任务池, ``pool``) for its inspectors to claim; `none_online` says what happens when
    nobody is online. The active rule of the kind with the lowest `priority` that matches
    decides; no match, no automatic task. The filters are typed data compared field by field
    (`cases.autosend.matches`), never a query written by an administrator."""

    class Target(models.TextChoices):
        NEAREST = "nearest", "上报人或最近的在线监督员"
        POOL = "pool", "网格任务池"

    class NoneOnline(models.TextChoices):
        CENTRE = "centre", "留给中心人工派发"
        POOL = "pool", "放入网格任务池"

    name = models.CharField(max_length=64)
    kind = models.CharField(max_length=16, choices=[("verify", "核实"), ("check", "核查")])
    active = models.BooleanField(default=True)
    priority = models.IntegerField(default=100, help_text="lower decides first")
    sources = ArrayField(models.CharField(max_length=16), blank=True, default=list)
    categories = models.ManyToManyField(
        "data.Category", blank=True, related_name="+", help_text="a major class covers its minors"
    )
    levels = ArrayField(models.CharField(max_length=16), blank=True, default=list)
    urgent_only = models.BooleanField(default=False)
    area_codes = ArrayField(
        models.CharField(max_length=12),
        blank=True,
        default=list,
        help_text="district, street or community codes the case lies in",
    )
    hours = models.JSONField(
        default=list, blank=True, help_text='[["HH:MM", "HH:MM"], …] local; empty: all day'
    )
    target = models.CharField(max_length=8, choices=Target.choices, default=Target.NEAREST)
    none_online = models.CharField(
        max_length=8, choices=NoneOnline.choices, default=NoneOnline.CENTRE
    )

    class Meta:
        ordering = ["kind", "priority", "pk"]

    def __str__(self) -> str:
        return self.name


class CaseMedia(models.Model):
    """A photo, video or recording attached to a case at one stage."""

    class Stage(models.TextChoices):
        REPORT = "report", "上报"
        HANDLING = "handling", "处置"
        CHECK = "check", "核查"
        SUPPLEMENT = "supplement", "补采"
        SELF_HANDLED = "self_handled", "自行处置后"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="media")
    stage = models.CharField(max_length=16, choices=Stage.choices)
    file = models.FileField(upload_to="cases/%Y/%m/")
    name = models.CharField(max_length=128, blank=True)
    content_type = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField()
    event = models.ForeignKey(
        CaseEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="media"
    )

    class Meta:
        ordering = ["case", "uploaded_at", "id"]


class CaseChange(models.Model):
    """An edit of a case field outside a transition, written by a trigger with the old and new
    value and the actor the action named (``citygrid.actor``)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="changes")
    field = models.CharField(max_length=64)
    old = models.JSONField(null=True)
    new = models.JSONField(null=True)
    actor = models.CharField(max_length=150, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["case", "at", "id"]


# ---------------------------------------------------------------------------------------------
# Applications and approvals (申请与答复授权): see `cases.applications`.


class ApplicationKind(models.TextChoices):
    """What a handling department (or the centre) may apply for."""

    RETURN = "return", "申请回退"
    EXTENSION = "extension", "申请延期"
    HOLD = "hold", "申请挂账"
    VOID = "void", "申请作废"
    TRANSFER = "transfer", "申请转办"
    ASSIST = "assist", "申请协办"
    MERGE = "merge", "申请合并"


class HoldMode(models.TextChoices):
    NONE = "none", "不限期（手动解除）"
    HOURS = "hours", "挂账N小时"
    UNTIL = "until", "挂账至指定时间"


class Application(models.Model):
    """An application (申请) on a case, answered level by level by the authorizers its kind's
    `ApprovalRule` rows name (答复授权); approval applies its effect in the same transaction."""

    class State(models.TextChoices):
        PENDING = "pending", "待答复"
        APPROVED = "approved", "已同意"
        DENIED = "denied", "不同意"
        WITHDRAWN = "withdrawn", "已撤销"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="applications")
    kind = models.CharField(max_length=16, choices=ApplicationKind.choices)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    applicant_name = models.CharField(max_length=150)
    department = models.ForeignKey(
        "accounts.Department",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="the applicant's department",
    )
    reason = models.TextField(max_length=2000)
    # What is asked for (the last approver's changes overwrite these).
    amount = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    unit = models.CharField(max_length=16, choices=LimitUnit.choices, blank=True)
    new_deadline = models.DateTimeField(null=True, blank=True)
    hold_mode = models.CharField(max_length=8, choices=HoldMode.choices, blank=True)
    hold_hours = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    hold_until = models.DateTimeField(null=True, blank=True)
    target_department = models.ForeignKey(
        "accounts.Department",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="transfer / assist: the other department",
    )
    merge_cases = ArrayField(
        models.BigIntegerField(),
        blank=True,
        default=list,
        help_text="merge: the department's other cases of the same problem",
    )
    level = models.PositiveSmallIntegerField(default=1, help_text="the level answering next")
    created_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    forbid_reapply = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "kind"], name="application_state_kind")]
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=models.Q(state="pending"),
                name="application_one_pending_per_case",
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.state}"


class ApplicationStep(models.Model):
    """One answer to an application: its level, approver, decision and opinion, and the values
    the approver changed. Never updated or deleted (a trigger refuses both)."""

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="steps")
    level = models.PositiveSmallIntegerField()
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    approver_name = models.CharField(max_length=150)
    decision = models.CharField(max_length=8, help_text="approve / deny")
    opinion = models.TextField(blank=True, max_length=2000)
    changes = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["application", "level", "id"]


class ApprovalRule(models.Model):
    """One level of the authorizer chain of an application kind: who answers it (a permission,
    or the receiving department's handlers), whether an opinion is required, and from how many
    requested hours the level applies (blank: always)."""

    kind = models.CharField(max_length=16, choices=ApplicationKind.choices)
    level = models.PositiveSmallIntegerField()
    permission = models.CharField(max_length=64)
    receiving_department = models.BooleanField(
        default=False, help_text="answered by the target department's people (transfer)"
    )
    opinion_required = models.BooleanField(default=False)
    may_change_time = models.BooleanField(default=True)
    above_hours = models.DecimalField(
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="the level applies only when more hours than this are asked",
    )

    class Meta:
        ordering = ["kind", "level"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "level"], name="approvalrule_kind_level")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.level}: {self.permission}"


class CaseRules(models.Model):
    """The case rules as data (one row): classes that may not be extended, the cap on a
    department's share of extended cases, and which cases need an approved application to be
    returned."""

    non_extendable = models.ManyToManyField(
        "data.Category", blank=True, related_name="+", help_text="a major class covers its minors"
    )
    extension_cap = models.DecimalField(
        max_digits=4,
        decimal_places=2,
        null=True,
        blank=True,
        default=0.10,
        help_text="share of a department's cases that may be extended; blank: no cap",
    )
    free_return = models.BooleanField(
        default=True, help_text="a return no restriction applies to is taken without approval"
    )
    no_return_overdue = models.BooleanField(default=True)
    no_return_rework = models.BooleanField(default=True)
    no_return_extended = models.BooleanField(default=True)
    no_return_forced = models.BooleanField(
        default=True,
        help_text="the department of a forced dispatch (强制派遣) may not apply for a return",
    )
    # Automatic assignment to acceptors (cases.assignment, spec 5.2.5).
    assignment_mode = models.CharField(
        max_length=16,
        choices=[("off", "不自动分派"), ("sequential", "顺序分派"), ("balanced", "平均分派")],
        default="balanced",
        db_default="balanced",
    )
    acceptor_max_load = models.PositiveIntegerField(
        default=10, db_default=10, help_text="cases an acceptor holds at most; a seat may differ"
    )
    returned_to_acceptor = models.BooleanField(
        default=True,
        db_default=True,
        help_text="a case coming back (补采, restore) goes to its acceptor, outside their load",
    )
    assignment_first = models.ManyToManyField(
        "data.Category",
        blank=True,
        related_name="+",
        help_text="classes assigned before the others (after urgent cases); a major covers its "
        "minors",
    )
    assignment_cursor = models.PositiveIntegerField(
        default=0, db_default=0, help_text="sequential mode: the user id of the last seat served"
    )

    class Meta:
        verbose_name_plural = "case rules"

    def __str__(self) -> str:
        return "case rules"

    @classmethod
    def current(cls) -> CaseRules:
        """The rules in force (the one row, made with the defaults when missing)."""
        return cls.objects.get_or_create(pk=1)[0]


class AcceptorSeat(models.Model):
    """An acceptor's seat (受理席位) in automatic assignment (案件智能分配, spec 5.2.5): whether
    the person takes assigned cases at all, their order in sequential mode, their own maximum
    load, and whether they are on duty now (上岗; 交班 hands their cases back)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="acceptor_seat"
    )
    auto_assign = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0, help_text="order in sequential assignment")
    max_load = models.PositiveIntegerField(
        null=True, blank=True, help_text="blank: the rules' acceptor_max_load"
    )
    on_duty = models.BooleanField(default=False)
    on_duty_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["position", "user_id"]

    def __str__(self) -> str:
        return f"seat of {self.user_id}"


class CaseAssist(models.Model):
    """A department assisting with a case (协办), after an approved assist application: it sees
    the case."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="assists")
    department = models.ForeignKey(
        "accounts.Department", on_delete=models.PROTECT, related_name="+"
    )
    application = models.ForeignKey(
        Application, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "department"], name="caseassist_unique")
        ]


class Notification(models.Model):
    """A notice (通知) to one person in the app, or a text message to a reporter's phone,
    written in the transaction of the `CaseEvent` that caused it (the outbox row); delivered by
    `cases.notifications.deliver_due`. An in-app notice is the row itself; `sent_at` says it was
    delivered, `read_at` that its recipient read it."""

    class Kind(models.TextChoices):
        ARRIVAL = "arrival", "新到案件"
        APPLICATION = "application", "申请答复"
        CALLBACK = "callback", "办结回访"
        SUPERVISION = "supervision", "督办"
        DEADLINE = "deadline", "时限提醒"

    class Channel(models.TextChoices):
        APP = "app", "站内通知"
        SMS = "sms", "短信"

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="blank for a text message to a reporter",
    )
    phone = models.CharField(max_length=32, blank=True, help_text="sms: the reporter's phone")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey(
        CaseEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.APP)
    title = models.CharField(max_length=128)
    body = models.TextField(max_length=1000, blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    sent_message = models.TextField(
        max_length=1000, blank=True, help_text="sms: what the sender sent (or logged)"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # Delivery's claim: the few undelivered rows.
            models.Index(
                fields=["next_attempt_at", "id"],
                condition=models.Q(sent_at__isnull=True),
                name="notification_undelivered",
            ),
            # A person's notices, newest first (the list and its unread count).
            models.Index(fields=["recipient", "-created_at"], name="notification_recipient"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.kind} {self.title}"


class ScheduledDispatch(models.Model):
    """A timed dispatch (定时派遣): beat dispatches the case to `department` at `run_at`, as the
    person who scheduled it; editable and cancellable until then (`cases.scheduling`)."""

    class State(models.TextChoices):
        SCHEDULED = "scheduled", "待派遣"
        DONE = "done", "已派遣"
        CANCELLED = "cancelled", "已取消"
        FAILED = "failed", "未派遣"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="scheduled_dispatches")
    department = models.ForeignKey(
        "accounts.Department", on_delete=models.PROTECT, related_name="+"
    )
    opinion = models.TextField(max_length=2000, blank=True)
    run_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    state = models.CharField(max_length=16, choices=State.choices, default=State.SCHEDULED)
    done_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True, help_text="failed: why")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The beat's claim: scheduled rows by time.
            models.Index(
                fields=["run_at"],
                condition=models.Q(state="scheduled"),
                name="scheduled_dispatch_due",
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=models.Q(state="scheduled"),
                name="scheduled_dispatch_one_per_case",
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id} at {self.run_at} {self.state}"


class CaseCallback(models.Model):
    """A call-back (回访) of a closed public or hotline case whose reporter asked for one: the
    centre's call, its result, the reporter's satisfaction and opinion. A record only: a
    dissatisfied call-back does not reopen the case (`cases.callbacks`)."""

    class Result(models.TextChoices):
        REACHED = "reached", "已联系"
        NOT_REACHED = "not_reached", "未联系上"
        REFUSED = "refused", "拒绝回访"

    class Satisfaction(models.TextChoices):
        SATISFIED = "satisfied", "满意"
        BASICALLY = "basically_satisfied", "基本满意"
        DISSATISFIED = "dissatisfied", "不满意"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="callbacks")
    result = models.CharField(max_length=16, choices=Result.choices)
    satisfaction = models.CharField(
        max_length=24, choices=Satisfaction.choices, blank=True, help_text="reached only"
    )
    opinion = models.TextField(max_length=2000, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-recorded_at", "-id"]
        constraints = [
            # One call-back per case: the box 待回访 holds the closed cases without one.
            models.UniqueConstraint(fields=["case"], name="case_callback_one_per_case")
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.result}"


class CaseSupervision(models.Model):
    """A supervision (督办) of a case in handling: a leader's note to the handling department
    with a time to reply by, and the department's reply (`cases.supervision`)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="supervisions")
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    department = models.ForeignKey(
        "accounts.Department", on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(max_length=2000)
    deadline = models.DateTimeField(help_text="reply by")
    created_at = models.DateTimeField()
    reply = models.TextField(max_length=2000, blank=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    replied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.case_id} by {self.by_id} at {self.created_at}"


class Phrase(models.Model):
    """A standard phrase (惯用语) offered in the opinion box of an action: system-wide (no
    owner; kept by system administrators) or a person's own (`cases.phrases`)."""

    action = models.CharField(
        max_length=32, help_text="the action or form it serves (accept, dispatch, supervise, …)"
    )
    text = models.CharField(max_length=500)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="blank: a system phrase everyone is offered",
    )
    sort_order = models.IntegerField(default=100)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["sort_order", "id"]
        indexes = [models.Index(fields=["action", "owner"], name="phrase_action_owner")]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "action", "text"],
                nulls_distinct=False,
                name="phrase_unique_text",
            )
        ]

    def __str__(self) -> str:
        return f"{self.action}: {self.text}"


class BoxVisit(models.Model):
    """When a person last opened one of their case boxes (案件箱): the box's "new arrival"
    count is of the cases that came into it since (`cases.queries.box_counts`)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    box = models.CharField(max_length=32)
    seen_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "box"], name="box_visit_one")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.box} {self.seen_at}"


class CaseDispatch(models.Model):
    """One department's share of a parallel dispatch (并行派遣): its own handling clock, timed
    alone from the class limit, and its own feedback. The case goes to check when the last
    open row is fed back; a rework reopens the rows of the departments concerned
    (`cases.dispatching`)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="dispatches")
    department = models.ForeignKey(
        "accounts.Department", on_delete=models.PROTECT, related_name="+"
    )
    dispatched_at = models.DateTimeField(help_text="its clock started (again, after a rework)")
    deadline = models.DateTimeField(null=True, blank=True)
    warning_at = models.DateTimeField(null=True, blank=True)
    fed_back_at = models.DateTimeField(null=True, blank=True, help_text="blank: still handling")
    feedback = models.TextField(max_length=2000, blank=True)
    overdue = models.BooleanField(
        null=True, blank=True, help_text="fed back after its deadline (blank: not yet)"
    )
    rework_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["case", "id"]
        indexes = [
            # A department's open shares (visibility and its 处置中 box).
            models.Index(fields=["department", "fed_back_at"], name="casedispatch_department"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["case", "department"], name="casedispatch_unique")
        ]

    def __str__(self) -> str:
        return f"{self.case_id} → {self.department_id}"


# ---------------------------------------------------------------------------------------------
# Rules at report time: no-report rules (spec 5.1.2.19-5.1.2.21, 5.2.2) and similar cases (5.2.3).
# Controlled areas themselves are `spatial.ControlledArea` (placed by `locate`).


class RuleEffect(models.TextChoices):
    """What a no-report rule does to a report it hits (the values of ControlledArea.Action)."""

    FORBID = "forbid", "禁止上报"
    WARN = "warn", "提醒"


class RoadReportRule(models.Model):
    """A road-segment rule (上报路段, spec 5.1.2.21): reports of some classes near a road (one
    segment by id, or every segment of a name) within `buffer_m` metres are forbidden or
    warned about, during the validity and the daily windows (empty: all day)."""

    name = models.CharField(max_length=128)
    road = models.ForeignKey(
        "spatial.RoadSegment", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    road_name = models.CharField(max_length=64, blank=True, help_text="every segment so named")
    buffer_m = models.FloatField(default=15.0)
    categories = ArrayField(models.CharField(max_length=4), default=list, blank=True)
    daily_windows = models.JSONField(default=list, blank=True)
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_to = models.DateTimeField(null=True, blank=True)
    action = models.CharField(max_length=8, choices=RuleEffect.choices, default=RuleEffect.FORBID)
    reason = models.TextField(blank=True)
    active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return self.name


class ReportHours(models.Model):
    """Reporting hours of a class (上报时段, spec 5.1.2.19 / 5.2.2.2): a major or minor class
    may be reported only within its daily windows (local time; a window may run past
    midnight); outside them the report is forbidden or warned about."""

    category = models.OneToOneField("data.Category", on_delete=models.CASCADE, related_name="+")
    daily_windows = models.JSONField(default=list)
    action = models.CharField(max_length=8, choices=RuleEffect.choices, default=RuleEffect.FORBID)
    reason = models.TextField(blank=True)
    active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"{self.category_id}: {self.daily_windows}"


class SimilarRule(models.Model):
    """A minor class's own similar-case rule (相似案件规则, spec 5.2.3.1): its distance and time
    window (blank: the settings' defaults), the related classes counted with it, and whether a
    similar report is refused."""

    category = models.OneToOneField("data.Category", on_delete=models.CASCADE, related_name="+")
    metres = models.FloatField(null=True, blank=True)
    hours = models.FloatField(null=True, blank=True)
    related = ArrayField(models.CharField(max_length=4), default=list, blank=True)
    refuse = models.BooleanField(default=False, help_text="refuse a similar report")

    def __str__(self) -> str:
        return f"{self.category_id}"


class CollectionSuspension(models.Model):
    """A department's application to suspend collection (暂停采集申请, spec 5.1.2.20) in an area
    for a period: approved by the centre, it becomes a forbidding controlled area."""

    class State(models.TextChoices):
        PENDING = "pending", "待审核"
        APPROVED = "approved", "已通过"
        DENIED = "denied", "未通过"

    department = models.ForeignKey(
        "accounts.Department", on_delete=models.PROTECT, related_name="+"
    )
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField(max_length=128)
    geom = models.MultiPolygonField(srid=4326)
    reason = models.TextField()
    requirement = models.TextField(blank=True)
    categories = ArrayField(models.CharField(max_length=4), default=list, blank=True)
    valid_from = models.DateTimeField()
    valid_to = models.DateTimeField()
    daily_windows = models.JSONField(default=list, blank=True)
    permit = models.FileField(upload_to="controlled-areas/", null=True, blank=True)
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    applied_at = models.DateTimeField()
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    opinion = models.TextField(blank=True)
    area = models.ForeignKey(
        "spatial.ControlledArea",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="the controlled area its approval made",
    )

    objects = ScopedQuerySet.as_manager()

    def __str__(self) -> str:
        return self.name


class DuplicateRule(models.Model):
    """A minor class checked for duplicate cases (重复案件规则, spec 5.2.4.1): a class without an
    active row is not checked. A case registered after a closed case of the class within `days`
    (blank: `CASES_DUPLICATE_DAYS`) in the same unit grid, or within `metres` when given, is a
    suspected duplicate."""

    category = models.OneToOneField("data.Category", on_delete=models.CASCADE, related_name="+")
    days = models.FloatField(null=True, blank=True)
    metres = models.FloatField(
        null=True, blank=True, help_text="within this distance instead of the same unit grid"
    )
    same_road = models.BooleanField(
        default=False, db_default=False, help_text="on the same named road instead of the unit grid"
    )
    active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"{self.category_id}"


# The public service (公众服务): Open311 keys, public reports, citizens, ratings, moderation and
# convenience points (`cases.open311`).
from .open311.models import (  # noqa: E402, F401
    ApiKey,
    CaseRating,
    Channel,
    Citizen,
    CitizenCode,
    CitizenToken,
    ConveniencePoint,
    Feedback,
    PublicEdit,
    PublicReport,
    ReportType,
)
