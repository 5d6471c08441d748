"""Sign-in throttling (登录限速): growing waits after failed sign-ins, never a lock-out.

Three counters of failed sign-ins, kept in Redis so that every worker shares them, each
forgotten `LoginPolicy.failure_window_minutes` after its last failure:

- ``client``: failures from one client address, whatever the usernames (`max_failures_per_ip`);
- ``pair``: failures for one username from one client (`max_failures`);
- ``username``: failures for one username from every client (`max_failures_per_username`).

Once a counter reaches its limit, each failure makes the next attempt wait
`throttle_base_seconds` · 2^(failures − limit), at most `throttle_max_seconds`. An attempt made
while waiting is answered at once (429 with Retry-After): its password is not checked and it is
not counted, so hammering does not lengthen the wait.

What keeps an attacker from keeping somebody out: the ``username`` counter holds back only
clients that have themselves failed for that username (their ``pair`` counter is not zero). A
person signing in from a client that has not failed gets in with the right password however
hard somebody hammers their username from elsewhere; one who has mistyped waits at most
`throttle_max_seconds` between attempts. A correct password clears the ``pair`` counter only:
one's own account must not wash a client (or a username under attack) clean.

Concurrent attempts cannot slip through together: an attempt takes a place (``inflight``) on
its counters atomically before the password is checked, and at the limit only one attempt per
counter may be in flight. A place left by a worker that died is given up after `HOLD_SECONDS`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache

import redis
from django.conf import settings

from accounts.models import LoginPolicy

log = logging.getLogger(__name__)

# How long an attempt's place on its counters lasts at most (a password check takes well under).
HOLD_SECONDS = 30
# A client without an address (a call outside HTTP) has no client counter; its pair uses this.
NO_CLIENT = "-"

_HELPERS = """
local function failures(key, now, window)
  local n, last = unpack(redis.call('HMGET', key, 'n', 'last'))
  if not n or now - tonumber(last) > window then return 0 end
  return tonumber(n)
end
local function inflight(key, now, hold)
  local count, since = unpack(redis.call('HMGET', key, 'inflight', 'inflight_at'))
  if not count or now - tonumber(since) > hold then return 0 end
  return tonumber(count)
end
local function release(key, now, hold)
  local count = inflight(key, now, hold)
  if count > 0 then redis.call('HSET', key, 'inflight', count - 1) end
end
"""

# KEYS: pair, username, [client]. ARGV: now, window, hold, then each counter's limit.
# Gives {1, places taken} or {0, seconds to wait}. The username counter applies only when the
# pair counter has failures.
_BEGIN = (
    _HELPERS
    + """
local now, window, hold = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local wait, taken = 0, {}
for i, key in ipairs(KEYS) do
  if i ~= 2 or failures(KEYS[1], now, window) > 0 then
    local n, busy = failures(key, now, window), inflight(key, now, hold)
    local ready = tonumber(redis.call('HGET', key, 'until') or '0')
    if ready > now then
      wait = math.max(wait, ready - now)
    elseif busy > 0 and n + busy >= tonumber(ARGV[3 + i]) then
      wait = math.max(wait, 1)
    end
    taken[#taken + 1] = key
  end
end
if wait > 0 then return {0, tostring(wait)} end
for _, key in ipairs(taken) do
  redis.call('HSET', key, 'inflight', inflight(key, now, hold) + 1, 'inflight_at', now)
  if redis.call('TTL', key) < hold then redis.call('EXPIRE', key, hold) end
end
return {1, #taken}
"""
)

# KEYS: index, pair, username, [client]. ARGV: now, window, hold, base, cap, whether the
# username place was taken ('1'), then each counter's limit. Counts one failure on each.
_FAILED = (
    _HELPERS
    + """
local now, window, hold = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local base, cap = tonumber(ARGV[4]), tonumber(ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
for i = 2, #KEYS do
  local key = KEYS[i]
  if i ~= 3 or ARGV[6] == '1' then release(key, now, hold) end
  local n = failures(key, now, window) + 1
  local limit = tonumber(ARGV[5 + i])
  local wait = 0
  if n >= limit then wait = math.min(base * 2 ^ (n - limit), cap) end
  redis.call('HSET', key, 'n', n, 'last', now, 'until', now + wait)
  redis.call('EXPIRE', key, math.ceil(window + wait) + 1)
  redis.call('ZADD', KEYS[1], now + window + wait, key)
end
return 1
"""
)

# KEYS: index, pair, username, [client]. ARGV: now, hold, whether the username place was taken,
# whether the password was right ('1': the pair counter is cleared).
_FINISHED = (
    _HELPERS
    + """
local now, hold = tonumber(ARGV[1]), tonumber(ARGV[2])
for i = 2, #KEYS do
  if i ~= 3 or ARGV[3] == '1' then release(KEYS[i], now, hold) end
end
if ARGV[4] == '1' then
  redis.call('DEL', KEYS[2])
  redis.call('ZREM', KEYS[1], KEYS[2])
end
return 1
"""
)


def now() -> float:
    """Gives the current time in seconds (the throttle's clock)."""
    return time.time()


@cache
def _client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)


@cache
def _script(source: str):
    return _client().register_script(source)


def _prefix() -> str:
    return f"{settings.CACHES['default'].get('KEY_PREFIX') or 'citygrid'}:throttle:"


def _index() -> str:
    return _prefix() + "index"


def _key(kind: str, subject: str) -> str:
    return f"{_prefix()}{kind}:{subject}"


class SignInThrottled(Exception):
    """Raised when a sign-in attempt must wait `wait` seconds before it is tried."""

    def __init__(self, wait: float):
        super().__init__(f"try again in {wait:.0f} s")
        self.wait = wait


@dataclass
class Attempt:
    """One sign-in attempt holding its places on the counters until `failed` or `succeeded`."""

    username: str
    client: str | None
    policy: LoginPolicy
    keys: list[str] = field(default_factory=list)
    username_taken: bool = False

    def limits(self) -> list[int]:
        p = self.policy
        limits = [p.max_failures, p.max_failures_per_username]
        return limits + [p.max_failures_per_ip] if self.client else limits


def _keys(username: str, client: str | None) -> list[str]:
    keys = [_key("pair", f"{client or NO_CLIENT} {username}"), _key("username", username)]
    return keys + [_key("client", client)] if client else keys


def begin(username: str, client: str | None, policy: LoginPolicy | None = None) -> Attempt:
    """Gives the started attempt for `username` from `client`, holding its places; raises
    `SignInThrottled` when it must wait. Without Redis, sign-in goes on unthrottled (logged)."""
    policy = policy or LoginPolicy.current()
    attempt = Attempt(username=username, client=client, policy=policy)
    keys = _keys(username, client)
    window = policy.failure_window_minutes * 60
    try:
        allowed, value = _script(_BEGIN)(
            keys=keys, args=[now(), window, HOLD_SECONDS, *attempt.limits()]
        )
    except redis.RedisError:
        log.exception("sign-in throttle unavailable; %r signs in unthrottled", username)
        return attempt
    if not allowed:
        raise SignInThrottled(float(value))
    attempt.keys = keys
    attempt.username_taken = int(value) == len(keys)
    return attempt


def failed(attempt: Attempt) -> None:
    """Counts the attempt's failure on its counters (and gives up its places)."""
    if not attempt.keys:
        return
    p = attempt.policy
    args = [now(), p.failure_window_minutes * 60, HOLD_SECONDS]
    args += [p.throttle_base_seconds, p.throttle_max_seconds, int(attempt.username_taken)]
    _run(_FAILED, [_index(), *attempt.keys], [*args, *attempt.limits()])


def finished(attempt: Attempt, signed_in: bool) -> None:
    """Gives up the attempt's places without counting a failure; a successful sign-in
    (`signed_in`) clears the failures of its username at its client."""
    if not attempt.keys:
        return
    args = [now(), HOLD_SECONDS, int(attempt.username_taken), int(signed_in)]
    _run(_FINISHED, [_index(), *attempt.keys], args)


def _run(source: str, keys: list[str], args: list) -> None:
    try:
        _script(source)(keys=keys, args=args)
    except redis.RedisError:
        log.exception("sign-in throttle unavailable; an attempt was not recorded")


# --- what administrators see ----------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One counter with failures: whose (`kind` username, client or pair), how many, the last
    failure, and until when the next attempt must wait (None: it need not)."""

    kind: str
    username: str | None
    client: str | None
    failures: int
    last_failure_at: datetime
    until: datetime | None

    @property
    def key(self) -> str:
        if self.kind == "pair":
            return _key("pair", f"{self.client} {self.username}")
        return _key(self.kind, self.username if self.kind == "username" else self.client)


def _entry(key: str, values: list, at: float, window: int) -> Entry | None:
    n, last, ready = values
    if n is None or at - float(last) > window:
        return None
    kind, _, subject = key[len(_prefix()) :].partition(":")
    username: str | None = subject if kind == "username" else None
    client: str | None = subject if kind == "client" else None
    if kind == "pair":
        client, _, username = subject.partition(" ")
    until = float(ready or 0)
    return Entry(
        kind=kind,
        username=username,
        client=client,
        failures=int(float(n)),
        last_failure_at=datetime.fromtimestamp(float(last), UTC),
        until=datetime.fromtimestamp(until, UTC) if until > at else None,
    )


def entries(policy: LoginPolicy | None = None) -> list[Entry]:
    """Gives every counter with failures in the window, those waiting longest first."""
    policy = policy or LoginPolicy.current()
    at, window = now(), policy.failure_window_minutes * 60
    client = _client()
    keys = [k.decode() for k in client.zrangebyscore(_index(), at, "+inf")]
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.hmget(key, "n", "last", "until")
    found = []
    for key, values in zip(keys, pipe.execute(), strict=True):
        entry = _entry(key, [v.decode() if v is not None else None for v in values], at, window)
        if entry is not None:
            found.append(entry)
    epoch = datetime.fromtimestamp(0, UTC)
    return sorted(found, key=lambda e: (e.until or epoch, e.last_failure_at), reverse=True)


def clear(chosen: list[Entry]) -> None:
    """Forgets the failures of the `chosen` counters."""
    if not chosen:
        return
    keys = [e.key for e in chosen]
    pipe = _client().pipeline()
    pipe.delete(*keys)
    pipe.zrem(_index(), *keys)
    pipe.execute()


def clear_all() -> None:
    """Forgets every counter of this installation (tests start from a clean slate)."""
    client = _client()
    keys = list(client.scan_iter(match=_prefix() + "*", count=1000))
    if keys:
        client.delete(*keys)


def matching(found: list[Entry], username: str | None, client: str | None) -> list[Entry]:
    """Gives the counters of `found` naming `username` (when given) and `client` (when given)."""
    return [
        e
        for e in found
        if (username is None or e.username == username) and (client is None or e.client == client)
    ]


def visible_to(scope, policy: LoginPolicy | None = None) -> list[Entry]:
    """Gives the counters with failures that `scope` may see: all of them for system admins;
    for other people those naming the username of a person in their area (a client address
    alone could be anyone's, so only system admins see client counters)."""
    found = entries(policy)
    if scope.sees_everything:
        return found
    if scope.is_anonymous or not scope.has_area:
        return []
    from django.db.models import Subquery

    from accounts.models import Person

    names = {e.username for e in found if e.username is not None}
    area = Subquery(Person.objects.filter(pk=scope.person_id).values("area_geom")[:1])
    inside = set(
        Person.objects.filter(user__username__in=names, area_geom__intersects=area)
        .exclude(area_geom__touches=area)
        .values_list("user__username", flat=True)
    )
    return [e for e in found if e.username in inside]
