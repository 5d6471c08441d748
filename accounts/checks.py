"""Refuses to serve with DEBUG off while demo users (password `citygrid-demo`) exist."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError

SERVER_MARKERS = ("runserver", "gunicorn", "uvicorn", "daphne", "uwsgi")
MESSAGE = (
    "demo users exist (manage.py demo_accounts) and DEBUG is off: delete them, or set "
    "CITYGRID_ALLOW_DEMO_USERS=1 to serve them anyway"
)


def is_serving(argv: Sequence[str] | None = None) -> bool:
    """Whether this process is a web server (runserver, gunicorn, ...), judged by its argv."""
    argv = sys.argv if argv is None else argv
    return any(marker in part for part in argv[:2] for marker in SERVER_MARKERS)


def demo_users_block_serving() -> bool:
    """Whether demo users exist while DEBUG is off and ALLOW_DEMO_USERS is not set."""
    if settings.DEBUG or getattr(settings, "ALLOW_DEMO_USERS", False):
        return False
    from accounts.models import Person

    try:
        return Person.objects.filter(demo=True, user__is_active=True).exists()
    except DatabaseError:  # not migrated yet
        return False


def refuse_demo_users_if_serving(argv: Sequence[str] | None = None) -> None:
    """Raises ImproperlyConfigured when a server process would start with demo users."""
    if is_serving(argv) and demo_users_block_serving():
        raise ImproperlyConfigured(MESSAGE)


@checks.register(checks.Tags.security)
def demo_users_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """System check error (for runserver and `check --deploy`) while demo users may not serve."""
    if not (is_serving() or "--deploy" in sys.argv) or not demo_users_block_serving():
        return []
    return [checks.Error(MESSAGE, id="accounts.E001")]
