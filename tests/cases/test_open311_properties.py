"""Properties of the Open311 rules (hypothesis): the 90-day span of `GET requests` across zones
and at its edge, and the XML writer, whose every document reads back as the data it was given."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from urllib.parse import quote

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cases.open311.formats import to_xml

pytestmark = pytest.mark.django_db
NINETY_DAYS_S = 90 * 24 * 3600  # 7,776,000 seconds
ZONES = st.sampled_from(["Z", "+08:00", "-05:00", "+05:45", "+0800"])


def w3c(moment: dt.datetime, zone: str) -> str:
    """`moment` (UTC) written in `zone` (our own writer, not the server's)."""
    if zone == "Z":
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    sign = 1 if zone[0] == "+" else -1
    hours, minutes = int(zone[1:3]), int(zone[-2:])
    local = moment + sign * dt.timedelta(hours=hours, minutes=minutes)
    return local.strftime("%Y-%m-%dT%H:%M:%S") + zone


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    start_s=st.integers(min_value=0, max_value=3 * 365 * 24 * 3600),
    span_s=st.one_of(
        st.integers(min_value=0, max_value=200 * 24 * 3600),
        st.integers(min_value=NINETY_DAYS_S - 2, max_value=NINETY_DAYS_S + 2),
    ),
    start_zone=ZONES,
    end_zone=ZONES,
)
def test_a_span_over_90_days_is_refused_whatever_the_zones(
    db, start_s, span_s, start_zone, end_zone
):
    start = dt.datetime(2024, 1, 1) + dt.timedelta(seconds=start_s)
    end = start + dt.timedelta(seconds=span_s)
    query = f"start_date={quote(w3c(start, start_zone))}&end_date={quote(w3c(end, end_zone))}"
    answer = Client().get(f"/open311/v2/requests.json?{query}")
    if span_s > NINETY_DAYS_S:
        assert answer.status_code == 400, (query, answer.content)
        assert "90 days" in answer.json()[0]["description"]
    else:
        assert answer.status_code == 200, (query, answer.content)
        assert answer.json() == []  # no case in this database


# Any text but a carriage return (an XML parser reads it back as a newline), with the controls a
# description may carry.
TEXT = st.text(alphabet=st.characters(blacklist_characters="\r"), max_size=30).filter(
    lambda t: t == t.strip()
)


def xml_chars(text: str) -> str:
    """The characters of `text` XML 1.0 allows (its Char production, written out here)."""
    return "".join(
        c
        for c in text
        if c in "\t\n"
        or 0x20 <= ord(c) <= 0xD7FF
        or 0xE000 <= ord(c) <= 0xFFFD
        or ord(c) >= 0x10000
    )


NAMES = st.sampled_from(["service_code", "status", "description", "lat", "address"])
VALUES = st.one_of(TEXT, st.integers(-(10**9), 10**9), st.booleans(), st.none())


def read_back(element: ET.Element):
    return {child.tag: child.text or "" for child in element}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.dictionaries(NAMES, VALUES, min_size=1), max_size=5))
def test_every_xml_document_reads_back_as_its_data(requests_):
    document = to_xml("service_requests", requests_)
    root = ET.fromstring(document)
    assert root.tag == "service_requests"
    items = root.findall("request")
    assert len(items) == len(requests_)
    for item, data in zip(items, requests_, strict=True):
        expected = {
            key: (
                "true"
                if v is True
                else "false"
                if v is False
                else ""
                if v is None
                else xml_chars(str(v))
            )
            for key, v in data.items()
        }
        assert read_back(item) == expected
