# Sign-in throttling replaces the lock-out: progressive waits per client, per username at a
# client and per username (accounts.throttle); lockout_minutes becomes the failure window.

import django.core.validators
from django.db import migrations, models


def _count(default: int, help_text: str) -> models.PositiveIntegerField:
    return models.PositiveIntegerField(
        default=default,
        help_text=help_text,
        validators=[django.core.validators.MinValueValidator(1)],
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_operation_log_actions"),
    ]

    operations = [
        migrations.RenameField(
            model_name="loginpolicy",
            old_name="lockout_minutes",
            new_name="failure_window_minutes",
        ),
        migrations.AlterField(
            model_name="loginpolicy",
            name="failure_window_minutes",
            field=_count(15, "failures are forgotten this long after the last one"),
        ),
        migrations.AlterField(
            model_name="loginpolicy",
            name="max_failures",
            field=_count(
                5, "failures for one username from one client before that client must wait"
            ),
        ),
        migrations.AlterField(
            model_name="loginpolicy",
            name="max_failures_per_ip",
            field=_count(
                20, "failures from one client, whatever the usernames, before it must wait"
            ),
        ),
        migrations.AddField(
            model_name="loginpolicy",
            name="max_failures_per_username",
            field=_count(
                10,
                "failures for one username from all clients before clients that have failed "
                "for it themselves must wait (a client without failures is never held back)",
            ),
        ),
        migrations.AddField(
            model_name="loginpolicy",
            name="throttle_base_seconds",
            field=_count(1, "the first wait; each further failure doubles it"),
        ),
        migrations.AddField(
            model_name="loginpolicy",
            name="throttle_max_seconds",
            field=_count(300, "the longest wait"),
        ),
        migrations.AlterField(
            model_name="loginlog",
            name="outcome",
            field=models.CharField(
                choices=[
                    ("success", "成功"),
                    ("failure", "失败"),
                    ("locked", "锁定"),
                    ("throttled", "限速"),
                    ("logout", "退出"),
                ],
                max_length=16,
            ),
        ),
    ]
