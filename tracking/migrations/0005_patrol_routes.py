# Patrol routes (巡查路线) and checkpoints (巡查点), their visits, a tracker's assigned route, and
# the alarm kinds off_route and checkpoint_missed (written by hand: only these operations).

import django.contrib.gis.db.models.fields
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tracking", "0004_attendance"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="PatrolRoute",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=64)),
                ("geom", django.contrib.gis.db.models.fields.LineStringField(srid=4326)),
                (
                    "tolerance_m",
                    models.FloatField(
                        blank=True,
                        help_text="off-route distance; null: TRACKING_OFF_ROUTE_TOLERANCE_M",
                        null=True,
                    ),
                ),
                ("version", models.PositiveIntegerField(default=1)),
                ("active", models.BooleanField(default=True)),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={"ordering": ["name", "id"]},
        ),
        migrations.CreateModel(
            name="Checkpoint",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=64)),
                ("geom", django.contrib.gis.db.models.fields.PointField(srid=4326)),
                ("radius_m", models.FloatField(default=30)),
                ("order", models.PositiveSmallIntegerField(default=0)),
                ("window_start", models.TimeField(blank=True, null=True)),
                ("window_end", models.TimeField(blank=True, null=True)),
                (
                    "required",
                    models.PositiveSmallIntegerField(default=1, help_text="visits a window needs"),
                ),
                (
                    "route",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="checkpoints",
                        to="tracking.patrolroute",
                    ),
                ),
            ],
            options={
                "ordering": ["route", "order", "id"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(window_start__isnull=True, window_end__isnull=True)
                        | models.Q(window_start__isnull=False, window_end__isnull=False),
                        name="tracking_checkpoint_window_both_or_none",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="CheckpointVisit",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("t", models.DateTimeField()),
                ("geom", django.contrib.gis.db.models.fields.PointField(srid=4326)),
                (
                    "checkpoint",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="visits",
                        to="tracking.checkpoint",
                    ),
                ),
                (
                    "tracker",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="visits",
                        to="tracking.tracker",
                    ),
                ),
            ],
            options={
                "ordering": ["t"],
                "indexes": [models.Index(fields=["tracker", "t"], name="tracking_visit_tracker_t")],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("tracker", "checkpoint", "t"), name="tracking_one_visit_per_fix"
                    )
                ],
            },
        ),
        migrations.AddField(
            model_name="tracker",
            name="route",
            field=models.ForeignKey(
                blank=True,
                help_text="the assigned patrol route (off-route alarms for vehicles, checkpoints)",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="trackers",
                to="tracking.patrolroute",
            ),
        ),
        migrations.AlterField(
            model_name="alarm",
            name="kind",
            field=models.CharField(
                choices=[
                    ("out_of_grid", "离开责任网格"),
                    ("long_stay", "滞留"),
                    ("signal_lost", "信号丢失"),
                    ("speeding", "超速"),
                    ("absent", "缺勤"),
                    ("off_route", "偏离路线"),
                    ("checkpoint_missed", "巡查点漏巡"),
                ],
                max_length=24,
            ),
        ),
        migrations.RemoveConstraint(model_name="alarm", name="tracking_one_open_alarm_per_kind"),
        migrations.AddConstraint(
            model_name="alarm",
            constraint=models.UniqueConstraint(
                condition=models.Q(ended_at__isnull=True) & ~models.Q(kind="checkpoint_missed"),
                fields=("tracker", "kind"),
                name="tracking_one_open_alarm_per_kind",
            ),
        ),
    ]
