"""The organization (机构): departments, positions, people, roles; sign-in policy, tokens, logs.

Spec 5.1.8.1 (登录设置), 5.1.8.2 (机构设置) and 5.1.8.9 (日志管理).
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.gis.db.models.functions import Transform
from django.core.validators import MinValueValidator
from django.utils import timezone

WEB_MERCATOR = 3857


class Department(models.Model):
    """A department (部门): a node of the organization tree with its code and contacts."""

    class Kind(models.TextChoices):
        COMMAND_CENTRE = "command_centre", "监督指挥中心"
        DISTRICT_CENTRE = "district_centre", "区级中心"
        STREET_OFFICE = "street_office", "街道办事处"
        HANDLING = "handling", "专业处置部门"
        OTHER = "other", "其他"

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=64)
    kind = models.CharField(max_length=32, choices=Kind.choices, default=Kind.OTHER)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    area = models.ForeignKey(
        "spatial.AdminArea",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="the admin area the department serves, if any",
    )
    contact_name = models.CharField(max_length=64, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    address = models.CharField(max_length=256, blank=True)
    sort_order = models.IntegerField(default=100)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Position(models.Model):
    """A position (岗位): what its holders may do, which layers they see, and their pages.

    `permissions` holds names from `accounts.permissions`. Layer grants: `all_layers`, or the
    layers in `layers` (spec 5.1.8.2.2). `menus` and `columns` describe the position's pages as
    data for the front end.
    """

    key = models.SlugField(max_length=63, unique=True)
    name = models.CharField(max_length=64)
    description = models.TextField(blank=True)
    permissions = models.JSONField(default=list, blank=True)
    all_layers = models.BooleanField(default=False)
    layers = models.ManyToManyField("spatial.Layer", blank=True, related_name="granted_positions")
    menus = models.JSONField(default=list, blank=True)
    columns = models.JSONField(default=dict, blank=True)
    sort_order = models.IntegerField(default=100)

    class Meta:
        ordering = ["sort_order", "key"]

    def __str__(self) -> str:
        return self.name


class Person(models.Model):
    """A person (人员): a Django user with department, positions and the areas it acts in.

    The union of the person's admin areas and responsibility grids is kept in `area_geom` (one
    multipolygon in EPSG:4326, with a stored Web Mercator copy); `set_person_areas` and the
    m2m signals refresh it. `area_digest` fingerprints it for cache keys.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="person"
    )
    name = models.CharField(max_length=64, blank=True)
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.SET_NULL, related_name="people"
    )
    positions = models.ManyToManyField(Position, blank=True, related_name="people")
    work_card_no = models.CharField(max_length=32, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    admin_areas = models.ManyToManyField("spatial.AdminArea", blank=True, related_name="+")
    grids = models.ManyToManyField("spatial.ResponsibilityGrid", blank=True, related_name="+")
    area_geom = models.MultiPolygonField(srid=4326, null=True, blank=True)
    area_geom_mercator = models.GeneratedField(
        expression=Transform("area_geom", WEB_MERCATOR),
        output_field=models.MultiPolygonField(srid=WEB_MERCATOR, null=True, spatial_index=False),
        db_persist=True,
    )
    area_digest = models.CharField(max_length=32, blank=True)
    demo = models.BooleanField(default=False, help_text="created by demo_accounts")

    class Meta:
        ordering = ["user__username"]

    def __str__(self) -> str:
        return self.name or self.user.get_username()


class Role(models.Model):
    """A role (角色): a template of positions and areas for assigning people in bulk."""

    key = models.SlugField(max_length=63, unique=True)
    name = models.CharField(max_length=64)
    description = models.TextField(blank=True)
    positions = models.ManyToManyField(Position, blank=True, related_name="roles")
    admin_areas = models.ManyToManyField("spatial.AdminArea", blank=True, related_name="+")
    grids = models.ManyToManyField("spatial.ResponsibilityGrid", blank=True, related_name="+")

    def __str__(self) -> str:
        return self.name


class LoginPolicy(models.Model):
    """The sign-in policy (登录策略, 系统登录配置) as data: sign-in throttling, password rules,
    token lifetime.

    One row named "default" is in force; `LoginPolicy.current()` creates it with the defaults.
    Failed sign-ins are throttled, never locked out (see `accounts.throttle`): past a number of
    failures the next attempt waits `throttle_base_seconds`, doubling with each further failure
    up to `throttle_max_seconds`.
    """

    CHARACTER_CLASSES = ("lower", "upper", "digit", "symbol")

    name = models.SlugField(max_length=32, unique=True, default="default")
    max_failures = models.PositiveIntegerField(
        default=5,
        validators=[MinValueValidator(1)],
        help_text="failures for one username from one client before that client must wait",
    )
    max_failures_per_ip = models.PositiveIntegerField(
        default=20,
        validators=[MinValueValidator(1)],
        help_text="failures from one client, whatever the usernames, before it must wait",
    )
    max_failures_per_username = models.PositiveIntegerField(
        default=10,
        validators=[MinValueValidator(1)],
        help_text="failures for one username from all clients before clients that have "
        "failed for it themselves must wait (a client without failures is never held back)",
    )
    failure_window_minutes = models.PositiveIntegerField(
        default=15,
        validators=[MinValueValidator(1)],
        help_text="failures are forgotten this long after the last one",
    )
    throttle_base_seconds = models.PositiveIntegerField(
        default=1,
        validators=[MinValueValidator(1)],
        help_text="the first wait; each further failure doubles it",
    )
    throttle_max_seconds = models.PositiveIntegerField(
        default=300, validators=[MinValueValidator(1)], help_text="the longest wait"
    )
    min_password_length = models.PositiveIntegerField(default=10)
    required_classes = models.JSONField(
        default=list,
        blank=True,
        help_text='character classes a password must contain: "lower", "upper", "digit", "symbol"',
    )
    min_classes = models.PositiveIntegerField(
        default=2, help_text="how many different character classes a password needs at least"
    )
    token_hours = models.PositiveIntegerField(default=12, validators=[MinValueValidator(1)])
    # The sign-in page (登录页面配置, spec 5.1.8.1.2).
    page_title = models.CharField(max_length=64, default="城市运行管理服务平台")
    page_footer = models.CharField(max_length=256, blank=True)
    logo_url = models.CharField(max_length=512, blank=True, help_text="URL of the logo image")
    background_url = models.CharField(max_length=512, blank=True, help_text="URL of the backdrop")

    class Meta:
        verbose_name_plural = "login policies"

    def __str__(self) -> str:
        return self.name

    @classmethod
    def current(cls) -> LoginPolicy:
        """Gives the policy in force (created with defaults on first use)."""
        policy, _ = cls.objects.get_or_create(name="default")
        return policy


def hash_token(raw: str) -> str:
    """Gives the sha256 hex digest under which a bearer token is stored."""
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


class ApiToken(models.Model):
    """A bearer token for apps; only its sha256 is stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8, help_text="first characters, to tell tokens apart")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    client_ip = models.GenericIPAddressField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @property
    def is_valid(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()

    @staticmethod
    def lifetime(policy: LoginPolicy) -> timedelta:
        return timedelta(hours=policy.token_hours)


class LoginLog(models.Model):
    """A login log row (登录日志): who tried to sign in or out, from where, how, with what result."""

    class Outcome(models.TextChoices):
        SUCCESS = "success", "成功"
        FAILURE = "failure", "失败"
        LOCKED = "locked", "锁定"  # lock-out rows from before throttling replaced it
        THROTTLED = "throttled", "限速"
        LOGOUT = "logout", "退出"

    class Method(models.TextChoices):
        SESSION = "session", "页面登录"
        TOKEN = "token", "令牌"
        ADMIN = "admin", "管理后台"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    username = models.CharField(max_length=150, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    method = models.CharField(max_length=16, choices=Method.choices)
    user_agent = models.CharField(max_length=256, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["username", "at"], name="loginlog_user_at"),
            models.Index(fields=["ip", "at"], name="loginlog_ip_at"),
        ]


class OperationLog(models.Model):
    """An operation log row (操作日志): one write, its actor, how it came and its outcome.

    Written by the action (`accounts.oplog.action`) in the same transaction as the write, from
    HTTP, Celery, beat and commands alike; `accounts.audit.OperationLogMiddleware` completes an
    HTTP row with status and duration, and logs writes refused before any action ran.
    """

    class Via(models.TextChoices):
        HTTP = "http", "接口"
        TASK = "task", "后台任务"
        COMMAND = "command", "命令"
        SYSTEM = "system", "系统"

    class Outcome(models.TextChoices):
        SUCCESS = "success", "成功"
        FAILURE = "failure", "失败"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    username = models.CharField(max_length=150, blank=True, db_index=True)
    positions = models.CharField(max_length=256, blank=True)
    via = models.CharField(max_length=16, choices=Via.choices, default=Via.HTTP)
    method = models.CharField(max_length=8, blank=True)
    path = models.CharField(max_length=512, blank=True)
    action = models.CharField(
        max_length=128, help_text="the action's verb (layers.edit…), else the route's URL name"
    )
    target = models.CharField(max_length=256, blank=True, help_text="the route's arguments")
    status = models.PositiveSmallIntegerField(help_text="HTTP status, or its equivalent")
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    message = models.CharField(max_length=512, blank=True, help_text="why it failed")
    details = models.JSONField(default=dict, blank=True, help_text="the action's arguments")
    ip = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    duration_ms = models.FloatField(default=0)

    class Meta:
        ordering = ["-at", "-id"]
