"""The backends of core: the database health check that asks the socket first
(core/postgis/base.py) and the cache client made once per server (core/cache.py)."""

from __future__ import annotations

import time

import pytest
from django.contrib.gis.db.backends.postgis.base import DatabaseWrapper as PostGISWrapper
from django.db import connection, connections


@pytest.fixture
def second_connection(db):
    """A connection of its own to the test database, outside the test's transaction."""
    other = connections.create_connection("default")
    other.ensure_connection()
    yield other
    other.close()


def test_an_idle_well_connection_is_usable_without_a_query(second_connection, monkeypatch):
    def asked(self):
        raise AssertionError("the SELECT 1 check ran for an idle, well connection")

    monkeypatch.setattr(PostGISWrapper, "is_usable", asked)
    assert second_connection.is_usable()


def test_a_connection_the_server_ended_is_not_usable_and_is_replaced(second_connection):
    with second_connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        pid = cur.fetchone()[0]
    assert second_connection.is_usable()
    with connection.cursor() as cur:
        cur.execute("SELECT pg_terminate_backend(%s)", [pid])
        assert cur.fetchone()[0] is True
    deadline = time.monotonic() + 5
    while second_connection.is_usable():
        assert time.monotonic() < deadline, "the ended connection still looked usable"
        time.sleep(0.05)
    second_connection.close()
    with second_connection.cursor() as cur:  # a new connection
        cur.execute("SELECT pg_backend_pid()")
        assert cur.fetchone()[0] != pid


def test_the_cache_keeps_one_client_per_server():
    from django.core.cache import cache

    client = cache._cache.get_client()
    assert cache._cache.get_client() is client
    assert cache._cache.get_client(write=True) is client  # one server: reads and writes
    cache.set("backend-probe", b"\x00\x01", 30)
    assert cache.get("backend-probe") == b"\x00\x01"
    cache.delete("backend-probe")


def test_a_failed_transaction_is_not_usable_as_before(second_connection):
    """In a failed transaction Django's SELECT 1 fails, so the connection is not usable: the
    socket (quiet) is not asked."""
    from django.db import DatabaseError

    second_connection.set_autocommit(False)
    with pytest.raises(DatabaseError):
        with second_connection.cursor() as cur:
            cur.execute("SELECT 1 / 0")
    assert not second_connection.is_usable()
    second_connection.rollback()
    assert second_connection.is_usable()
    second_connection.set_autocommit(True)


@pytest.mark.parametrize("fd", [None, 1500], ids=["as-opened", "past-1023"])
def test_the_socket_test_sees_data_and_a_closed_peer(fd):
    """The socket test on a socket pair: quiet, written to, closed by the peer; also on a
    descriptor past select()'s limit of 1023, which a busy server reaches."""
    import os
    import socket

    from core.postgis.base import has_something_to_read

    ours, peer = socket.socketpair()
    number = ours.fileno() if fd is None else os.dup2(ours.fileno(), fd)
    try:
        assert not has_something_to_read(number)
        peer.send(b"E")
        assert has_something_to_read(number)
        ours.recv(1)
        assert not has_something_to_read(number)
        peer.close()
        assert has_something_to_read(number)
    finally:
        if fd is not None:
            os.close(number)
        ours.close()
