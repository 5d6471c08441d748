"""How a tile's bytes leave PostgreSQL (tiles.service.fetch): by binary COPY, one statement,
never in a parallel plan. The stream parser is checked on streams written out byte by byte
here; the fetch on the real database against bytes whose value the test states."""

from __future__ import annotations

import pytest
from django.db import connection

from core.sqlparts import bind
from tiles.service import copy_bytea, fetch

SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
FLAGS = b"\x00\x00\x00\x00"
TRAILER = b"\xff\xff"


def stream(*, fields: bytes = b"\x00\x01", size: bytes, data: bytes = b"", extension=b""):
    header = SIGNATURE + FLAGS + len(extension).to_bytes(4, "big") + extension
    return header + fields + size + data + TRAILER


def test_the_stream_parser_gives_the_one_value():
    assert copy_bytea(stream(size=b"\x00\x00\x00\x03", data=b"\x1a\x00\xff")) == b"\x1a\x00\xff"


def test_the_stream_parser_skips_a_header_extension():
    data = stream(size=b"\x00\x00\x00\x02", data=b"ok", extension=b"\x01\x02\x03")
    assert copy_bytea(data) == b"ok"


@pytest.mark.parametrize("size", [b"\xff\xff\xff\xff", b"\x00\x00\x00\x00"], ids=["null", "empty"])
def test_a_null_or_empty_value_is_an_empty_tile(size):
    assert copy_bytea(stream(size=size)) == b""


@pytest.mark.parametrize(
    "data",
    [
        b"COPY\n" + b"\x00" * 30,  # not a binary COPY stream
        stream(fields=b"\x00\x02", size=b"\x00\x00\x00\x01", data=b"a"),  # two columns
        stream(size=b"\x00\x00\x00\x09", data=b"abc")[:-2],  # cut short
    ],
    ids=["signature", "two-columns", "cut-short"],
)
def test_any_other_stream_is_refused(data):
    with pytest.raises(ValueError):
        copy_bytea(data)


@pytest.mark.django_db
def test_fetch_gives_the_bytes_as_stored():
    assert fetch(bind("SELECT tiles_serial(decode('00ff10', 'hex'))")) == b"\x00\xff\x10"
    big = fetch(bind("SELECT tiles_serial(decode(repeat('ab', {n}), 'hex'))", n=300_000))
    assert len(big) == 300_000 and big == b"\xab" * 300_000
    assert fetch(bind("SELECT tiles_serial(''::bytea)")) == b""
    assert fetch(bind("SELECT tiles_serial(NULL::bytea)")) == b""


@pytest.mark.django_db
def test_the_serial_marker_keeps_a_tile_query_out_of_parallel_plans():
    """The same scan is planned in parallel when the costs say so, and not once the statement
    names tiles_serial()."""
    with connection.cursor() as cur:
        cur.execute("CREATE TABLE parallel_probe AS SELECT g AS n FROM generate_series(1, 50000) g")
        cur.execute("ANALYZE parallel_probe")
        for setting in (
            "parallel_setup_cost = 0",
            "parallel_tuple_cost = 0",
            "min_parallel_table_scan_size = 0",
            "max_parallel_workers_per_gather = 2",
        ):
            cur.execute(f"SET LOCAL {setting}")
        scan = "SELECT sum(n)::text::bytea FROM parallel_probe"
        cur.execute(f"EXPLAIN {scan}")
        plain = "\n".join(r[0] for r in cur.fetchall())
        cur.execute(f"EXPLAIN SELECT tiles_serial(({scan}))")
        marked = "\n".join(r[0] for r in cur.fetchall())
    assert "Gather" in plain, plain
    assert "Gather" not in marked and "Parallel" not in marked, marked
