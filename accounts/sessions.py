"""The session engine (``SESSION_ENGINE = "accounts.sessions"``): Django's database sessions,
with each process keeping the rows it read for `accounts.authcache.lifetime()` seconds, so a
signed-in request does not read ``django_session`` every time.

The expiry is checked on every use, as the database engine does in its query. Saving or
deleting a session (sign-in, sign-out, `cycle_key`, a password change ending the other
sessions) drops it from this process's map at once; other processes keep using their copy for
at most the lifetime (see accounts/authcache.py). Nothing here needs Redis.
"""

from __future__ import annotations

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.utils import timezone

from accounts import authcache


class SessionStore(DatabaseSessionStore):
    def _get_session_from_db(self):
        key = self.session_key
        row = authcache.sessions.get(key) if key else None
        if row is not None and row.expire_date > timezone.now():
            return row
        row = super()._get_session_from_db()
        if row is not None and key:
            authcache.sessions.put(key, row)
        return row

    def save(self, must_create=False):
        if self.session_key:
            authcache.sessions.pop(self.session_key)
        super().save(must_create=must_create)
        if self.session_key:
            authcache.sessions.pop(self.session_key)

    def delete(self, session_key=None):
        key = session_key if session_key is not None else self.session_key
        if key:
            authcache.sessions.pop(key)
        super().delete(session_key)
