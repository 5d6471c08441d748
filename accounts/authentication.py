"""Who is calling: bearer tokens for apps, sessions for pages, password checks under the policy.

- `BearerTokenAuthentication` (DRF) and `request_user` (plain Django views) accept
  ``Authorization: Bearer <token>``; tokens are stored as sha256 digests with an expiry.
- `PolicyBackend` is the only Django authentication backend: every password check (token
  endpoint, login page, Django admin) goes through the lockout of `LoginPolicy` and writes the
  login log. A locked account answers exactly like a wrong password.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db.models import Max
from django.http import HttpRequest
from django.utils import timezone
from rest_framework import authentication, exceptions

from accounts.models import ApiToken, LoginLog, LoginPolicy, hash_token

TOKEN_BYTES = 32
MAX_TOKEN_LENGTH = 256
# last_used_at is written at most once a minute per token, so reads don't all become writes.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _unauthorized(message: str):
    # core.errors imports rest_framework.views, which imports this module through DRF settings:
    # import it when needed, not at module load.
    from core.errors import Unauthorized

    return Unauthorized(message, code="invalid_token")


def client_ip(request: HttpRequest) -> str | None:
    """Gives the caller's IP address (REMOTE_ADDR; a proxy in front must set it)."""
    return request.META.get("REMOTE_ADDR") or None


def _django_request(request) -> HttpRequest:
    return getattr(request, "_request", request)


# --- tokens ---------------------------------------------------------------------------------


def issue_token(user, request: HttpRequest | None = None) -> tuple[str, ApiToken]:
    """Gives a new raw bearer token for `user` and its stored row (sha256 only, with expiry)."""
    raw = secrets.token_urlsafe(TOKEN_BYTES)
    policy = LoginPolicy.current()
    token = ApiToken.objects.create(
        user=user,
        key_hash=hash_token(raw),
        prefix=raw[:8],
        expires_at=timezone.now() + ApiToken.lifetime(policy),
        client_ip=client_ip(request) if request is not None else None,
    )
    return raw, token


def bearer_from_header(request: HttpRequest) -> str | None:
    """Gives the raw token of an ``Authorization: Bearer`` header, None when there is none.

    Raises `Unauthorized` for a malformed Bearer header.
    """
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    value = value.strip()
    if not value or len(value) > MAX_TOKEN_LENGTH or " " in value:
        raise _unauthorized("malformed bearer token")
    return value


def user_for_token(raw: str) -> tuple[object, ApiToken]:
    """Gives (user, token) for a valid raw token; raises `Unauthorized` otherwise."""
    try:
        token = ApiToken.objects.select_related("user").get(key_hash=hash_token(raw))
    except ApiToken.DoesNotExist:
        raise _unauthorized("invalid token") from None
    now = timezone.now()
    if token.revoked_at is not None:
        raise _unauthorized("token revoked")
    if token.expires_at <= now:
        raise _unauthorized("token expired")
    if not token.user.is_active:
        raise _unauthorized("account disabled")
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user, token


def request_user(request) -> object | None:
    """Gives the authenticated user of a Django or DRF request (bearer token first, then the
    session), or None for an anonymous caller. Cached on the request."""
    django_request = _django_request(request)
    cached = getattr(django_request, "_citygrid_auth", None)
    if cached is not None:
        return cached[0]
    raw = bearer_from_header(django_request)
    if raw is not None:
        user, token = user_for_token(raw)
    else:
        session_user = getattr(django_request, "user", None)
        user = session_user if session_user is not None and session_user.is_authenticated else None
        token = None
    django_request._citygrid_auth = (user, token)
    return user


def request_token(request) -> ApiToken | None:
    """Gives the bearer token the request was authenticated with, if any."""
    request_user(request)
    return _django_request(request)._citygrid_auth[1]


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """DRF authentication for ``Authorization: Bearer <token>`` (401 with a JSON error when the
    token is malformed, unknown, expired or revoked)."""

    keyword = "Bearer"

    def authenticate(self, request):
        from core.errors import Unauthorized

        django_request = _django_request(request)
        try:
            raw = bearer_from_header(django_request)
            if raw is None:
                return None
            user, token = user_for_token(raw)
        except Unauthorized as exc:
            raise exceptions.AuthenticationFailed(exc.message) from None
        django_request._citygrid_auth = (user, token)
        return user, token

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="citygrid"'


# --- password checks under the login policy --------------------------------------------------


def _failures_since(filter_kwargs: dict, since) -> int:
    return LoginLog.objects.filter(
        outcome=LoginLog.Outcome.FAILURE, at__gte=since, **filter_kwargs
    ).count()


def is_locked(username: str, ip: str | None, policy: LoginPolicy | None = None) -> bool:
    """Whether sign-in is locked for this account or this client IP.

    An account is locked when it has `max_failures` failures within the last `lockout_minutes`
    since its last success; an IP when it has `max_failures_per_ip` failures in that window
    (successes don't reset the IP count, so one's own account can't be used to clear it).
    """
    policy = policy or LoginPolicy.current()
    window_start = timezone.now() - timedelta(minutes=policy.lockout_minutes)
    last_success = LoginLog.objects.filter(
        username=username, outcome=LoginLog.Outcome.SUCCESS
    ).aggregate(at=Max("at"))["at"]
    since = max(window_start, last_success) if last_success else window_start
    if _failures_since({"username": username}, since) >= policy.max_failures:
        return True
    if ip and _failures_since({"ip": ip}, window_start) >= policy.max_failures_per_ip:
        return True
    return False


def log_login(request: HttpRequest | None, username: str, outcome: str, method: str, user=None):
    """Appends a login log row."""
    meta = request.META if request is not None else {}
    return LoginLog.objects.create(
        user=user,
        username=(username or "")[:150],
        ip=client_ip(request) if request is not None else None,
        outcome=outcome,
        method=method,
        user_agent=str(meta.get("HTTP_USER_AGENT", ""))[:256],
    )


def _login_method(request: HttpRequest | None) -> str:
    if request is None:
        return LoginLog.Method.SESSION
    explicit = getattr(_django_request(request), "citygrid_login_method", None)
    if explicit:
        return explicit
    if request.path.startswith("/admin/"):
        return LoginLog.Method.ADMIN
    return LoginLog.Method.SESSION


class PolicyBackend(ModelBackend):
    """Django's model backend behind the login policy's lockout, writing the login log."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if not username or password is None:
            return None
        method = _login_method(request)
        ip = client_ip(request) if request is not None else None
        if is_locked(username, ip):
            # Run the hasher anyway so a locked account takes as long as a wrong password.
            get_user_model()().set_password(password)
            log_login(request, username, LoginLog.Outcome.LOCKED, method)
            return None
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            log_login(request, username, LoginLog.Outcome.FAILURE, method)
            return None
        log_login(request, username, LoginLog.Outcome.SUCCESS, method, user=user)
        return user
