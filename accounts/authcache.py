"""Per-process caches of who is calling, so a signed-in read does not pay a query for each of
its session, user, bearer token and scope (one signed-in tile cost 5 queries, now 1-2).

Four small maps, each entry living `settings.CITYGRID_AUTH_CACHE_SECONDS` (default 2 s):

- ``sessions``: session key -> the ``django_session`` row (`accounts.sessions.SessionStore`);
- ``users``: user id -> the ``auth_user`` row (`PolicyBackend.get_user`);
- ``tokens``: sha256 of a bearer token -> its ``ApiToken`` row with its user (`user_for_token`);
- ``scopes``: user id -> the row of `accounts.scoping.PERSON_SCOPE_SQL` (`scope_for_user`).

What is cached is the rows only: every check (session expiry, session auth hash, token revoked
or expired, user active, superuser, the scope's grants) still runs on each request.

Invalidation. This process drops every entry at once (`invalidate`) whenever anything they
depend on is written through Django: saves and deletes of users, people, positions, roles,
departments and tokens, changes of the person/position/role many-to-many tables, a person's
area refresh, token revocation and sign-out (accounts/signals.py), and again when the writing
transaction commits, so a read between the write and its commit cannot keep the old row.
Other processes (the other gunicorn workers, Celery) and writes Django does not see (the
database triggers that recompute a person's area when an admin area's shape changes, SQL run by
hand) are caught by the lifetime: at most `CITYGRID_AUTH_CACHE_SECONDS` after the commit, every
process reads the new rows, so a revoked grant, a deactivated user, a changed password, a
revoked token or a signed-out session stop working within that time everywhere, and at once in
the process that made the change.

Why a lifetime and not a shared "generation" counter in Redis: checking the counter is itself a
round trip on every request (what this removes), and checking it only every N seconds gives the
same N-second bound as a lifetime, plus a dependency on Redis for sign-in (a lifetime needs
nothing, so a Redis outage changes nothing here). The price, one query per user per process
every N seconds, is small. ``CITYGRID_AUTH_CACHE_SECONDS=0`` turns the caches off.
"""

from __future__ import annotations

import threading
import time

from django.conf import settings
from django.db import transaction

DEFAULT_SECONDS = 2.0
MAX_ENTRIES = 10_000  # per map; a full map starts again empty (sign-ins are far fewer)


def lifetime() -> float:
    """Gives how long an entry lives, in seconds (0: nothing is cached)."""
    return float(getattr(settings, "CITYGRID_AUTH_CACHE_SECONDS", DEFAULT_SECONDS))


class TimedMap:
    """A thread-safe dict whose entries expire `lifetime()` seconds after they were put."""

    def __init__(self) -> None:
        self._entries: dict = {}
        self._lock = threading.Lock()

    def get(self, key):
        """Gives the live value under `key`, or None."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] <= time.monotonic():
            with self._lock:
                if self._entries.get(key) is entry:
                    del self._entries[key]
            return None
        return entry[1]

    def put(self, key, value) -> None:
        seconds = lifetime()
        if seconds <= 0 or value is None:
            return
        with self._lock:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[key] = (time.monotonic() + seconds, value)

    def pop(self, key) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


sessions = TimedMap()
users = TimedMap()
tokens = TimedMap()
scopes = TimedMap()
ALL = (sessions, users, tokens, scopes)


def clear() -> None:
    """Drops every entry of this process now."""
    for timed in ALL:
        timed.clear()


def invalidate() -> None:
    """Drops every entry now and again when the current transaction commits (if there is one):
    called on every write that a cached row depends on."""
    clear()
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        transaction.on_commit(clear)
