"""Edits outside transitions, placement corrections (立案修正), media by stage, and the
handling deadline set by the registration condition's time limit under the work calendar."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from accounts.scoping import scope_for_user
from cases import actions
from cases.models import Case, CaseChange, Condition, TimeLimit
from data.models import Category
from tests.cases.conftest import inside
from tests.cases.test_main_path import report

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_edits_are_recorded_with_old_and_new_values_and_bump_the_version(as_user, two_streets):
    acceptor = as_user("acceptor")
    cid = report(acceptor, *inside(two_streets[0]), source="hotline").json()["id"]
    edited = acceptor.patch(
        f"/api/v1/cases/{cid}",
        {"version": 1, "address": "学院路1号", "level": "serious"},
        content_type="application/json",
    )
    assert edited.status_code == 200, edited.content
    assert edited.json()["version"] == 2 and edited.json()["level"] == "serious"
    changes = {(c.field, c.old, c.new, c.actor) for c in CaseChange.objects.filter(case_id=cid)}
    assert changes == {
        ("address", "", "学院路1号", "acceptor"),
        ("level", "routine", "serious", "acceptor"),
    }
    stale = acceptor.patch(
        f"/api/v1/cases/{cid}", {"version": 1, "urgent": True}, content_type="application/json"
    )
    assert stale.status_code == 409 and stale.json()["current"]["version"] == 2
    inspector = as_user(f"inspector-{two_streets[0].code}")
    refused = inspector.patch(
        f"/api/v1/cases/{cid}", {"version": 2, "urgent": True}, content_type="application/json"
    )
    assert refused.status_code in (403, 404)
    assert Case.objects.get(pk=cid).urgent is False


def test_a_placement_correction_moves_the_case_to_the_other_street(as_user, two_streets):
    street, other = two_streets
    acceptor = as_user("acceptor")
    cid = report(acceptor, *inside(street), source="hotline").json()["id"]
    lon, lat = inside(other)
    body = {"version": 1, "lon": lon, "lat": lat}
    missing = acceptor.post(f"/api/v1/cases/{cid}/placement", body, content_type="application/json")
    assert missing.status_code == 400 and missing.json()["error"]["field"] == "opinion"
    moved = acceptor.post(
        f"/api/v1/cases/{cid}/placement",
        {**body, "opinion": "实际位置在对面街道"},
        content_type="application/json",
    )
    assert moved.status_code == 200, moved.content
    assert moved.json()["placement"]["street"]["code"] == other.code
    assert as_user(f"inspector-{street.code}").get(f"/api/v1/cases/{cid}").status_code == 404
    assert as_user(f"inspector-{other.code}").get(f"/api/v1/cases/{cid}").status_code == 200
    event = acceptor.get(f"/api/v1/cases/{cid}/history").json()["events"][-1]
    assert event["action"] == "correct_placement"
    assert event["details"]["before"]["street"] == street.code
    assert event["details"]["after"]["street"] == other.code
    fields = set(CaseChange.objects.filter(case_id=cid).values_list("field", flat=True))
    assert {"geom", "street_code"} <= fields


def test_media_follow_the_stage_type_and_size_rules(as_user, two_streets, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    street = two_streets[0]
    inspector = as_user(f"inspector-{street.code}")
    cid = report(inspector, *inside(street)).json()["id"]

    def upload(client, name, content, content_type):
        from django.core.files.uploadedfile import SimpleUploadedFile

        return client.post(
            f"/api/v1/cases/{cid}/media",
            {"file": SimpleUploadedFile(name, content, content_type=content_type)},
        )

    stored = upload(inspector, "scene.png", PNG, "image/png")
    assert stored.status_code == 201, stored.content
    assert stored.json()["stage"] == "report" and stored.json()["size"] == len(PNG)
    fetched = inspector.get(stored.json()["url"])
    assert fetched.status_code == 200 and b"".join(fetched.streaming_content) == PNG
    lying = upload(inspector, "scene.png", b"MZ\x90\x00 not a png", "image/png")
    assert lying.status_code == 400 and lying.json()["error"]["field"] == "file"
    script = upload(inspector, "x.html", b"<script>", "text/html")
    assert script.status_code == 400
    settings.CASE_MEDIA_LIMITS = {"image": (("image/png",), 10)}
    assert upload(inspector, "big.png", PNG, "image/png").status_code == 413
    # A handling department attaches only once the case is theirs.
    assert upload(as_user("dept-huanwei"), "done.png", PNG, "image/png").status_code == 404
    assert (
        as_user(f"inspector-{two_streets[1].code}").get(f"/api/v1/cases/{cid}/media").status_code
        == 404
    )
    assert len(inspector.get(f"/api/v1/cases/{cid}/media").json()["media"]) == 1


def test_the_handling_deadline_follows_the_condition_zone_level_and_calendar(org, two_streets):
    acceptor = scope_for_user(org["acceptor"].user)
    leader = scope_for_user(org["shiftleader"].user)
    dispatcher = scope_for_user(org["dispatcher"].user)
    category = Category.objects.get(kind="event", code="0102")
    condition = Condition.objects.filter(category=category, kind="register").first()
    assert condition is not None
    # Friday 2026-12-04 16:00 local with a 2-working-hour limit: 16:00–17:30 counts 1.5 h,
    # the weekend nothing, Monday 08:30–09:00 the last 0.5 h.
    TimeLimit.objects.filter(condition=condition).delete()
    TimeLimit.objects.create(condition=condition, amount=Decimal(2), unit="working_hours")
    friday = dt.datetime(2026, 12, 4, 16, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    case = actions.do_report_case(
        acceptor, actions.NewCase("inspector", category, "x", *inside(two_streets[0])), at=friday
    )
    actions.do_accept_case(acceptor, case.pk, version=1, at=friday)
    actions.do_register_case(leader, case.pk, version=2, condition=condition.pk, at=friday)
    actions.do_dispatch_case(dispatcher, case.pk, version=3, at=friday)
    case = Case.objects.get(pk=case.pk)
    monday = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert case.handling_deadline == monday
    assert case.stage_limit_amount == 2 and case.stage_limit_unit == "working_hours"
