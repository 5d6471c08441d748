"""Open311 API keys per channel (接入密钥): made and revoked by actions, checked on every
write, counted against their hourly quota.

A key is shown once, when it is made; only its SHA-256 is stored. A revoked key stays in the
table with its time and reason (the revocation list) and answers 403 like an unknown one.
The quota counts a key's requests in the current clock hour in Redis (the Django cache): one
INCR per request; a Redis that does not answer lets the request through (a quota is a brake on
a runaway client, not an access rule).
"""

from __future__ import annotations

import hashlib
import logging
import secrets

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from accounts import permissions as perms
from accounts.oplog import action
from accounts.scoping import Scope
from core.errors import ApiError, BadInput, Forbidden, NotFound

from .models import ApiKey, Channel

log = logging.getLogger(__name__)


class QuotaExceeded(ApiError):
    status, code = 429, "quota_exceeded"


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@action(
    "cases.open311_key",
    permission=perms.SYSTEM_ADMIN,
    target=lambda *, name, **_: name,
    details=lambda *, channel, **_: {"channel": channel},
)
def do_create_api_key(
    scope: Scope, *, name: str, channel: str, hourly_quota: int | None = None
) -> tuple[ApiKey, str]:
    """Makes a key for a channel; gives the row and the key itself (shown this once)."""
    name = (name or "").strip()
    if not name or len(name) > 64:
        raise BadInput("a key's name has 1 to 64 characters", field="name")
    if channel not in Channel.values:
        raise BadInput(f"channel is one of {', '.join(Channel.values)}", field="channel")
    quota = settings.OPEN311_DEFAULT_HOURLY_QUOTA if hourly_quota is None else hourly_quota
    if not 1 <= quota <= 1_000_000:
        raise BadInput("hourly_quota is 1 to 1000000", field="hourly_quota")
    if ApiKey.objects.filter(name=name).exists():
        raise BadInput(f"a key named {name!r} exists", field="name")
    plain = "o311_" + secrets.token_urlsafe(24)
    key = ApiKey.objects.create(
        name=name,
        channel=channel,
        digest=digest(plain),
        prefix=plain[:8],
        hourly_quota=quota,
        created_at=timezone.now(),
    )
    return key, plain


@action(
    "cases.open311_revoke",
    permission=perms.SYSTEM_ADMIN,
    target=lambda *, name, **_: name,
)
def do_revoke_api_key(scope: Scope, *, name: str, reason: str = "") -> ApiKey:
    """Revokes a key (it answers 403 from now on); revoking twice keeps the first time."""
    key = ApiKey.objects.select_for_update().filter(name=name).first()
    if key is None:
        raise NotFound(f"no key named {name!r}", field="name")
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.revoked_reason = reason[:200]
        key.save(update_fields=["revoked_at", "revoked_reason"])
    return key


def key_for(plain: str | None) -> ApiKey:
    """The active key `plain` names; 403 for none, an unknown or a revoked one."""
    if not plain:
        raise Forbidden("api_key is required", field="api_key")
    key = ApiKey.objects.filter(digest=digest(plain)).first()
    if key is None:
        raise Forbidden("unknown api_key", field="api_key")
    if key.revoked_at is not None:
        raise Forbidden("this api_key was revoked", field="api_key")
    return key


def spend(key: ApiKey) -> int:
    """Counts one request of `key` in this clock hour; 429 beyond its quota. Gives the count."""
    hour = timezone.now().strftime("%Y%m%d%H")
    counter = f"open311:quota:{key.digest[:16]}:{hour}"
    try:
        cache.add(counter, 0, timeout=3700)
        used = cache.incr(counter)
    except Exception:  # noqa: BLE001 - Redis down: let the request through, say so in the log
        log.warning("open311 quota of key %s not counted: the cache did not answer", key.name)
        return 0
    if used > key.hourly_quota:
        raise QuotaExceeded(
            f"this api_key's quota of {key.hourly_quota} requests per hour is used up",
            field="api_key",
        )
    return used
