"""Trackers (终端设备), their fixes, latest positions and alarms.

A `Tracker` is one device id (终端设备标识) bound, for a validity period, to a person (an
inspector's phone) or to a vehicle (a vehicle terminal, which signs its batches with a device
key). Its fixes go to ``tracking_fix``, a table partitioned by day that Django cannot create:
migration 0001 does it in SQL (see `tracking.partitions`), and `Fix` is an unmanaged model
over it for reading. `LatestPosition` keeps one row per tracker (the live map) with the alarm
rules' running state; `Alarm` is one episode with a start and, once over, an end.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.gis.db import models


def hash_key(key: str) -> str:
    """Gives the stored form of a device key: its SHA-256 (keys are random tokens, so a fast
    hash suffices)."""
    return hashlib.sha256(key.encode()).hexdigest()


class Tracker(models.Model):
    """A tracked device (终端设备): an inspector's phone or a vehicle terminal."""

    class Kind(models.TextChoices):
        PERSON = "person", "监督员"
        VEHICLE = "vehicle", "车辆"

    device_id = models.CharField("终端设备标识", max_length=64, unique=True)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    name = models.CharField(max_length=64, blank=True)
    person = models.ForeignKey(
        "accounts.Person",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="trackers",
        help_text="the inspector carrying the device (person trackers)",
    )
    plate = models.CharField("车牌", max_length=16, blank=True)
    vehicle_type = models.CharField("车辆类型", max_length=32, blank=True)
    unit = models.ForeignKey(
        "accounts.Department",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="the managing unit (vehicles)",
    )
    key_hash = models.CharField(
        max_length=64, blank=True, help_text="SHA-256 of the device key (vehicle terminals)"
    )
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_to = models.DateTimeField(null=True, blank=True)
    active = models.BooleanField(default=True)
    route = models.ForeignKey(
        "tracking.PatrolRoute",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="trackers",
        help_text="the assigned patrol route (off-route alarms for vehicles, checkpoints)",
    )

    class Meta:
        ordering = ["device_id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="vehicle") | models.Q(person__isnull=False),
                name="tracking_person_tracker_has_person",
            )
        ]

    def __str__(self) -> str:
        return self.name or self.plate or self.device_id


class Fix(models.Model):
    """One position report, in the day-partitioned table ``tracking_fix`` (read-only here).

    `flag` names why an implausible fix is kept out of the alarm rules: ``future``,
    ``accuracy`` or ``jump``; null for a plausible one."""

    pk = models.CompositePrimaryKey("tracker_id", "t")
    tracker = models.ForeignKey(Tracker, on_delete=models.DO_NOTHING, db_constraint=False)
    t = models.DateTimeField()
    geom = models.PointField(srid=4326)
    accuracy = models.FloatField(null=True)
    speed = models.FloatField(null=True, help_text="m/s")
    heading = models.FloatField(null=True)
    battery = models.SmallIntegerField(null=True)
    flag = models.CharField(max_length=16, null=True)
    received_at = models.DateTimeField()

    class Meta:
        managed = False
        db_table = "tracking_fix"


class LatestPosition(models.Model):
    """A tracker's newest plausible fix, and the alarm rules' running state after it."""

    tracker = models.OneToOneField(
        Tracker, primary_key=True, on_delete=models.CASCADE, related_name="latest"
    )
    geom = models.PointField(srid=4326)
    t = models.DateTimeField()
    speed = models.FloatField(null=True)
    heading = models.FloatField(null=True)
    accuracy = models.FloatField(null=True)
    battery = models.SmallIntegerField(null=True)
    state = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)


class Alarm(models.Model):
    """An alarm (报警): one episode of a rule, from its start to its end (null while open)."""

    class Kind(models.TextChoices):
        OUT_OF_GRID = "out_of_grid", "离开责任网格"
        LONG_STAY = "long_stay", "滞留"
        SIGNAL_LOST = "signal_lost", "信号丢失"
        SPEEDING = "speeding", "超速"
        ABSENT = "absent", "缺勤"
        OFF_ROUTE = "off_route", "偏离路线"
        CHECKPOINT_MISSED = "checkpoint_missed", "巡查点漏巡"

    tracker = models.ForeignKey(Tracker, on_delete=models.CASCADE, related_name="alarms")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    start_geom = models.PointField(srid=4326, null=True)
    end_geom = models.PointField(srid=4326, null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)
    justified = models.BooleanField(
        default=False, help_text="explained (leave, a task elsewhere): left out of statistics"
    )

    class Meta:
        ordering = ["-started_at"]
        indexes = [
            models.Index(fields=["tracker", "kind", "-started_at"], name="tracking_alarm_tk"),
            models.Index(fields=["-started_at"], name="tracking_alarm_started"),
        ]
        constraints = [
            # Checkpoint-missed alarms are one per checkpoint and window, so several may be open.
            models.UniqueConstraint(
                fields=["tracker", "kind"],
                condition=models.Q(ended_at__isnull=True) & ~models.Q(kind="checkpoint_missed"),
                name="tracking_one_open_alarm_per_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.tracker} {self.started_at:%Y-%m-%d %H:%M}"


class Shift(models.Model):
    """A shift (班次): local times from `start` to `end`; an end at or before the start runs
    past midnight into the next day (a night shift 22:00–06:00; equal times, 24 hours)."""

    name = models.CharField(max_length=32, unique=True)
    start = models.TimeField()
    end = models.TimeField()

    class Meta:
        ordering = ["start", "name"]

    def __str__(self) -> str:
        return f"{self.name} {self.start:%H:%M}–{self.end:%H:%M}"


class RosterEntry(models.Model):
    """One tracker on one shift of one date (排班): on duty, or on leave with a substitute
    (替班) who is on duty in its place."""

    class Kind(models.TextChoices):
        ON_DUTY = "on_duty", "在岗"
        LEAVE = "leave", "请假"

    tracker = models.ForeignKey(Tracker, on_delete=models.CASCADE, related_name="roster")
    date = models.DateField(help_text="the local date the shift starts on")
    shift = models.ForeignKey(Shift, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.ON_DUTY)
    substitute = models.ForeignKey(
        Tracker, null=True, blank=True, on_delete=models.SET_NULL, related_name="substituting"
    )
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["date", "shift__start", "tracker_id"]
        indexes = [models.Index(fields=["date"], name="tracking_roster_date")]
        constraints = [
            models.UniqueConstraint(
                fields=["tracker", "date", "shift"], name="tracking_one_entry_per_shift"
            )
        ]


class ClockRecord(models.Model):
    """A clock-in or clock-out (考勤打卡): when, where, the responsibility grid it fell in and a
    photo. Allowed outside the person's grids, and then flagged `off_grid`."""

    class Kind(models.TextChoices):
        IN = "in", "上班"
        OUT = "out", "下班"

    tracker = models.ForeignKey(Tracker, on_delete=models.CASCADE, related_name="clocks")
    kind = models.CharField(max_length=4, choices=Kind.choices)
    at = models.DateTimeField(
        help_text="server time of the clock; a clock made offline: the phone's time of it"
    )
    received_at = models.DateTimeField(
        null=True, blank=True, help_text="made offline (离线打卡): when the server received it"
    )
    geom = models.PointField(srid=4326)
    accuracy = models.FloatField(null=True, blank=True, help_text="metres")
    grid = models.ForeignKey(
        "spatial.ResponsibilityGrid",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="the responsibility grid the position fell in (the person's first)",
    )
    off_grid = models.BooleanField(
        default=False, help_text="outside the person's grids (their area when none)"
    )
    off_grid_m = models.FloatField(default=0, help_text="metres outside the person's grids")
    photo = models.FileField(upload_to="attendance/%Y/%m/")
    photo_type = models.CharField(max_length=32)
    photo_size = models.PositiveIntegerField()
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["tracker", "at"], name="tracking_clock_tracker_at")]


class AttendanceExplanation(models.Model):
    """An explanation (考勤说明) of one attendance anomaly of one rostered shift, written by the
    inspector and accepted or rejected by a supervisor."""

    class Anomaly(models.TextChoices):
        LATE = "late", "迟到"
        LEFT_EARLY = "left_early", "早退"
        MISSING_IN = "missing_in", "未签到"
        MISSING_OUT = "missing_out", "未签退"
        OFF_GRID = "off_grid", "网格外打卡"

    class Status(models.TextChoices):
        PENDING = "pending", "待审批"
        ACCEPTED = "accepted", "已通过"
        REJECTED = "rejected", "已驳回"

    tracker = models.ForeignKey(Tracker, on_delete=models.CASCADE, related_name="explanations")
    date = models.DateField(help_text="the date the shift starts on")
    shift = models.ForeignKey(Shift, on_delete=models.PROTECT, related_name="+")
    anomaly = models.CharField(max_length=12, choices=Anomaly.choices)
    text = models.TextField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["date", "shift_id", "anomaly"]
        constraints = [
            models.UniqueConstraint(
                fields=["tracker", "date", "shift", "anomaly"],
                name="tracking_one_explanation_per_anomaly",
            )
        ]


class PatrolRoute(models.Model):
    """A patrol route (巡查路线, the spec's 巡更路线): a line along the roads an inspector walks or
    a vehicle drives, with its checkpoints. `version` moves with every change of the route or
    its checkpoints, so ingest's in-process index (`tracking.routes`) rebuilds at once."""

    name = models.CharField(max_length=64)
    geom = models.LineStringField(srid=4326)
    tolerance_m = models.FloatField(
        null=True, blank=True, help_text="off-route distance; null: TRACKING_OFF_ROUTE_TOLERANCE_M"
    )
    version = models.PositiveIntegerField(default=1)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Checkpoint(models.Model):
    """A patrol checkpoint (巡查点, the spec's 巡更点): a point of a route to be reached within
    `radius_m`, in route `order`, either within a daily window of local time (`window_start` to
    `window_end`) or, without one, `required` times a shift."""

    route = models.ForeignKey(PatrolRoute, on_delete=models.CASCADE, related_name="checkpoints")
    name = models.CharField(max_length=64)
    geom = models.PointField(srid=4326)
    radius_m = models.FloatField(default=30)
    order = models.PositiveSmallIntegerField(default=0)
    window_start = models.TimeField(null=True, blank=True)
    window_end = models.TimeField(null=True, blank=True)
    required = models.PositiveSmallIntegerField(default=1, help_text="visits a window needs")

    class Meta:
        ordering = ["route", "order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(window_start__isnull=True, window_end__isnull=True)
                | models.Q(window_start__isnull=False, window_end__isnull=False),
                name="tracking_checkpoint_window_both_or_none",
            )
        ]

    def __str__(self) -> str:
        return self.name


class CheckpointVisit(models.Model):
    """A tracker reaching a checkpoint: the first plausible fix of a run within its radius."""

    tracker = models.ForeignKey(Tracker, on_delete=models.CASCADE, related_name="visits")
    checkpoint = models.ForeignKey(Checkpoint, on_delete=models.CASCADE, related_name="visits")
    t = models.DateTimeField()
    geom = models.PointField(srid=4326)

    class Meta:
        ordering = ["t"]
        constraints = [
            models.UniqueConstraint(
                fields=["tracker", "checkpoint", "t"], name="tracking_one_visit_per_fix"
            )
        ]
        indexes = [models.Index(fields=["tracker", "t"], name="tracking_visit_tracker_t")]
