"""The public service's rows (公众服务, spec 7): API keys per channel, the public report beside
its case, citizens and their one-time codes, ratings, moderation and convenience points.

Imported by `cases.models`, so they belong to the cases app and its migrations.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models


class Channel(models.TextChoices):
    """The channel a public report came through (上报渠道)."""

    MINIPROGRAM = "miniprogram", "微信小程序"
    CITY_APP = "city_app", "城市App"
    HOTLINE = "hotline", "12345热线"
    WEB = "web", "公众服务网页"


class ReportType(models.TextChoices):
    """What a citizen sends: a problem report (上报), a complaint (投诉) or a question (咨询)."""

    REPORT = "report", "上报"
    COMPLAINT = "complaint", "投诉"
    CONSULTATION = "consultation", "咨询"


class Feedback(models.TextChoices):
    """How the citizen wants to hear back (反馈方式)."""

    SMS = "sms", "短信"
    EMAIL = "email", "邮件"
    PUBLIC = "public", "公开答复"


class ApiKey(models.Model):
    """An Open311 API key (接入密钥) of one channel: only its SHA-256 is stored; a quota of
    requests per hour; revoked keys stay listed (the revocation list)."""

    name = models.CharField(max_length=64, unique=True)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    digest = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the key")
    prefix = models.CharField(max_length=8, help_text="the key's first characters, to name it")
    hourly_quota = models.PositiveIntegerField(default=600)
    created_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "Open311 API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.channel}, {self.prefix}…)"


class Citizen(models.Model):
    """A citizen's account (市民账号): a phone number proven by a one-time code."""

    phone = models.CharField(max_length=32, unique=True)
    created_at = models.DateTimeField()
    last_signed_in_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"citizen {self.pk}"


class CitizenCode(models.Model):
    """A one-time sign-in code (验证码) sent by SMS: its digest, expiry and failed tries."""

    phone = models.CharField(max_length=32, db_index=True)
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]


class CitizenToken(models.Model):
    """A signed-in citizen's bearer token (its SHA-256), until it expires."""

    citizen = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="tokens")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()


class PublicReport(models.Model):
    """What a public report (公众上报) adds to its case: the type, channel and key, the
    citizen, the contact details Open311 carries, and the request's token."""

    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, related_name="public")
    report_type = models.CharField(
        max_length=16, choices=ReportType.choices, default=ReportType.REPORT
    )
    channel = models.CharField(max_length=16, choices=Channel.choices)
    api_key = models.ForeignKey(
        ApiKey, null=True, blank=True, on_delete=models.PROTECT, related_name="reports"
    )
    citizen = models.ForeignKey(
        Citizen, null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )
    feedback = models.CharField(max_length=8, choices=Feedback.choices, default=Feedback.SMS)
    email = models.EmailField(blank=True)
    device_id = models.CharField(max_length=64, blank=True)
    account_id = models.CharField(max_length=64, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    media_url = models.URLField(max_length=500, blank=True, help_text="a photo link sent")
    token = models.UUIDField(unique=True)
    located = models.BooleanField(
        default=True,
        help_text="False: a complaint or question sent without a place (filed at the centre)",
    )
    reopened = models.PositiveSmallIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["citizen"], name="publicreport_citizen")]


class CaseRating(models.Model):
    """A citizen's satisfaction stars (1–5, 满意度评价) and comment on a closed case."""

    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, related_name="rating")
    citizen = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="ratings")
    stars = models.PositiveSmallIntegerField()
    comment = models.TextField(max_length=1000, blank=True)
    rated_at = models.DateTimeField()


class PublicEdit(models.Model):
    """A moderator's change of what the public sees of a case (公开内容审核): its description,
    an event's opinion or a photo, hidden or its text replaced. The original is never changed."""

    class Target(models.TextChoices):
        CASE = "case", "整个案件"
        DESCRIPTION = "description", "问题描述"
        OPINION = "opinion", "办理意见"
        MEDIA = "media", "照片"

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="public_edits")
    target = models.CharField(max_length=16, choices=Target.choices)
    event = models.ForeignKey(
        "cases.CaseEvent", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    media = models.ForeignKey(
        "cases.CaseMedia", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    hidden = models.BooleanField(default=False)
    text = models.TextField(max_length=4000, blank=True, help_text="the public text instead")
    reason = models.CharField(max_length=200, blank=True)
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    edited_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["case", "target", "event", "media"],
                name="publicedit_one_per_target",
                nulls_distinct=False,
            )
        ]


class ConveniencePoint(models.Model):
    """A convenience point (便民设施): a public toilet, a car park, a market, a service hall…
    shown on the public map near the citizen."""

    class Kind(models.TextChoices):
        TOILET = "toilet", "公厕"
        PARKING = "parking", "停车场"
        MARKET = "market", "超市市场"
        SERVICE_HALL = "service_hall", "政务服务大厅"
        BICYCLE = "bicycle", "公共自行车"
        PARK = "park", "公园"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    name = models.CharField(max_length=128)
    address = models.CharField(max_length=256, blank=True)
    contact = models.CharField(max_length=64, blank=True)
    opening_hours = models.CharField(max_length=128, blank=True)
    photo_url = models.CharField(max_length=500, blank=True)
    geom = models.PointField(srid=4326)
    source = models.CharField(max_length=64, blank=True, help_text="e.g. osm:node/123")

    class Meta:
        indexes = [models.Index(fields=["kind"], name="convenience_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.name}"
