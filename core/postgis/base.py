"""Django's PostGIS backend, with a connection health check that asks the socket first.

`CONN_HEALTH_CHECKS` keeps a reused connection from failing a request after PostgreSQL
restarted. Django checks with a `SELECT 1` at the start of every request that uses the
database: a round trip on every tile, `locate` and page, for an answer that is nearly always
yes. A connection the server has closed, or written to while no query was running (the
FATAL message of a shutdown or a terminated backend), has something to read on its socket; an
idle, well connection has nothing. So: nothing to read, the connection is usable without
asking; anything to read, or a connection that is not idle (a failed transaction), Django's
`SELECT 1` decides, as before.
"""

from __future__ import annotations

import select

from django.contrib.gis.db.backends.postgis.base import DatabaseWrapper as PostGISWrapper
from psycopg2 import extensions

# Idle, or idle in a transaction that has not failed: what the socket can vouch for. In any
# other state (a failed transaction, a query under way) Django's SELECT 1 answers, as before.
QUIET = (extensions.TRANSACTION_STATUS_IDLE, extensions.TRANSACTION_STATUS_INTRANS)


class DatabaseWrapper(PostGISWrapper):
    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed:
            return False
        if connection.info.transaction_status not in QUIET:  # e.g. a failed transaction
            return super().is_usable()
        try:
            waiting = has_something_to_read(connection.fileno())
        except (OSError, ValueError):  # the socket is gone
            return False
        return not waiting or super().is_usable()


def has_something_to_read(fd: int) -> bool:
    """Tells, without waiting, whether the socket `fd` has data or an end of stream to read.

    `poll`, not `select`: select refuses descriptors past 1023, which a busy server reaches."""
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))
