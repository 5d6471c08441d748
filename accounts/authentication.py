"""Who is calling: bearer tokens for apps, sessions for pages, password checks under the policy.

- `BearerTokenAuthentication` (DRF) and `request_user` (plain Django views) accept
  ``Authorization: Bearer <token>``; tokens are stored as sha256 digests with an expiry, and
  all of a user's tokens are revoked when the password changes (`revoke_tokens`).
- `PolicyBackend` is the only Django authentication backend: every password check (token
  endpoint, login page, Django admin) goes through the sign-in throttle of `LoginPolicy`
  (`accounts.throttle`) and writes the login log. A throttled attempt is refused without its
  password being checked, and says so (`throttle_wait`), never a silent lock-out.
- `client_ip` gives the caller's address, believing X-Forwarded-For only from
  `settings.TRUSTED_PROXIES`.
"""

from __future__ import annotations

import copy
import ipaddress
import secrets
from datetime import timedelta
from functools import cache

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest
from django.utils import timezone
from rest_framework import authentication, exceptions

from accounts import authcache, throttle
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


@cache
def _trusted_networks(names: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(name, strict=False) for name in names)


def _address(value: str):
    """Gives the IP address written in `value` (IPv4-mapped IPv6 as IPv4), None if it is none."""
    value = value.strip()
    if value.startswith("[") and "]" in value:  # [IPv6]:port
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # IPv4:port
        value = value.partition(":")[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def client_ip(request: HttpRequest) -> str | None:
    """Gives the caller's IP address: REMOTE_ADDR, or, when that peer is a trusted proxy
    (`settings.TRUSTED_PROXIES`), the right-most address of X-Forwarded-For that is not one.

    Walking from the right, each address a trusted proxy reports is believed; the first
    untrusted one is the client (what a client writes further left is its own say-so). When
    every hop is trusted, the left-most is the client; a malformed entry stops the walk at the
    proxy that passed it on."""
    remote = _address(request.META.get("REMOTE_ADDR") or "")
    if remote is None:
        return None
    networks = _trusted_networks(tuple(getattr(settings, "TRUSTED_PROXIES", ())))
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    current = remote
    hops = [hop for hop in forwarded.split(",") if hop.strip()]
    while hops and any(current in network for network in networks):
        hop = _address(hops.pop())
        if hop is None:
            break
        current = hop
    return str(current)


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


def revoke_tokens(user) -> int:
    """Revokes every bearer token of `user` not yet revoked; gives how many."""
    tokens = ApiToken.objects.filter(user=user, revoked_at__isnull=True)
    revoked = tokens.update(revoked_at=timezone.now())
    authcache.invalidate()  # update() sends no signal
    return revoked


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
    """Gives (user, token) for a valid raw token; raises `Unauthorized` otherwise.

    The token row with its user is kept by this process for a moment (`authcache.tokens`);
    revocation, expiry and the user's being active are checked on every call."""
    digest = hash_token(raw)
    token = authcache.tokens.get(digest)
    if token is None:
        try:
            token = ApiToken.objects.select_related("user").get(key_hash=digest)
        except ApiToken.DoesNotExist:
            raise _unauthorized("invalid token") from None
        authcache.tokens.put(digest, token)
    now = timezone.now()
    if token.revoked_at is not None:
        raise _unauthorized("token revoked")
    if token.expires_at <= now:
        raise _unauthorized("token expired")
    if not token.user.is_active:
        raise _unauthorized("account disabled")
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    # Copies: the cached rows are shared by the threads of this process.
    token = copy.copy(token)
    return copy.copy(token.user), token


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


def throttle_wait(request: HttpRequest | None) -> float | None:
    """Gives the seconds to wait when the request's last sign-in attempt was throttled."""
    if request is None:
        return None
    return getattr(_django_request(request), "citygrid_throttle_wait", None)


class PolicyBackend(ModelBackend):
    """Django's model backend behind the sign-in throttle, writing the login log.

    A throttled attempt returns None without checking the password; the wait is left on the
    request for the view to answer with (`throttle_wait`)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if not username or password is None:
            return None
        method = _login_method(request)
        ip = client_ip(request) if request is not None else None
        try:
            attempt = throttle.begin(username, ip, LoginPolicy.current())
        except throttle.SignInThrottled as exc:
            if request is not None:
                _django_request(request).citygrid_throttle_wait = exc.wait
            log_login(request, username, LoginLog.Outcome.THROTTLED, method)
            return None
        try:
            user = super().authenticate(request, username=username, password=password, **kwargs)
        except BaseException:
            throttle.finished(attempt, signed_in=False)
            raise
        if user is None:
            throttle.failed(attempt)
            log_login(request, username, LoginLog.Outcome.FAILURE, method)
            return None
        throttle.finished(attempt, signed_in=True)
        log_login(request, username, LoginLog.Outcome.SUCCESS, method, user=user)
        return user

    def get_user(self, user_id):
        """Gives the active user `user_id` (the session's), None otherwise; the row is kept by
        this process for a moment (`authcache.users`), a copy given to each request."""
        user = authcache.users.get(user_id)
        if user is None:
            user = super().get_user(user_id)
            if user is None:
                return None
            authcache.users.put(user_id, user)
        return copy.copy(user)
