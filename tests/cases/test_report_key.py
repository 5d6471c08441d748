"""The report key (Case.report_key, issue 22's field app): a report or a self-handled report
sent again with the same key — the phone's outbox resending after a lost answer — gives the
case the first one made, once, and never another person's case; two sent at the same moment
make one case."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connection
from django.test import Client

from cases.models import Case, CaseEvent, CaseMedia
from tests.cases.conftest import inside
from tests.cases.test_field_paths import photo, self_handled
from tests.cases.test_main_path import report


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.mark.django_db
def test_a_report_sent_again_with_its_key_answers_the_same_case(as_user, two_streets):
    street, other = two_streets
    inspector = as_user(f"inspector-{street.code}")
    key = str(uuid.uuid4())
    lon, lat = inside(street)
    assert not Case.objects.filter(report_key=key).exists()

    first = report(inspector, lon, lat, report_key=key)
    assert first.status_code == 201, first.content
    again = report(inspector, lon, lat, report_key=key)
    assert again.status_code == 200, again.content
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["number"] == first.json()["number"]
    assert Case.objects.filter(report_key=key).count() == 1
    assert CaseEvent.objects.filter(case_id=first.json()["id"], action="report").count() == 1

    # Without a key every report is a new case, as before.
    plain = [report(inspector, lon, lat) for _ in range(2)]
    assert all(p.status_code == 201 for p in plain)
    assert plain[0].json()["id"] != plain[1].json()["id"]

    # Another inspector's report with that key is refused and makes nothing.
    stranger = as_user(f"inspector-{other.code}")
    taken = report(stranger, *inside(other), report_key=key)
    assert taken.status_code == 409, taken.content
    assert taken.json()["error"]["field"] == "report_key"
    assert Case.objects.filter(reported_by__username=f"inspector-{other.code}").count() == 0

    bad = report(inspector, lon, lat, report_key="not-a-uuid")
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "report_key"


@pytest.mark.django_db
def test_a_self_handled_report_sent_again_keeps_one_case_and_its_photos(as_user, two_streets):
    street = two_streets[0]
    inspector = as_user(f"inspector-{street.code}")
    key = str(uuid.uuid4())
    first = self_handled(
        inspector, street, before=photo("b.png"), after=photo("a.png"), report_key=key
    )
    assert first.status_code == 201, first.content
    again = self_handled(
        inspector, street, before=photo("b.png"), after=photo("a.png"), report_key=key
    )
    assert again.status_code == 200, again.content
    assert again.json()["id"] == first.json()["id"]
    assert Case.objects.filter(report_key=key).count() == 1
    stored = CaseMedia.objects.filter(case_id=first.json()["id"])
    assert sorted(stored.values_list("stage", flat=True)) == ["report", "self_handled"]


@pytest.mark.django_db(transaction=True)
def test_two_reports_with_one_key_at_the_same_moment_make_one_case(org, two_streets):
    street = two_streets[0]
    user = org[f"inspector-{street.code}"].user
    key = str(uuid.uuid4())
    lon, lat = inside(street)
    answers: list[int] = []
    start = threading.Barrier(2)

    def send() -> None:
        client = Client()
        client.force_login(user)
        start.wait()
        try:
            answers.append(report(client, lon, lat, report_key=key).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers) == [200, 201]
    assert Case.objects.filter(report_key=key).count() == 1
