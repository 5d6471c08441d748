"""Call-backs (回访, issue 20) over HTTP: the centre records the call to the reporter of a closed
hotline case who asked for one; the case waits in 待回访 until then, its `actions` offer
`callback`, the event keeps the result but never the phone, the state does not move; and the
refusals (a position outside the centre, a stale version, a case not asking, a second
call-back, a satisfaction without a reached reporter)."""

from __future__ import annotations

import pytest

from cases.models import Case, CaseCallback, CaseEvent
from tests.cases.test_main_path import report
from tests.cases.test_notifications import closed_hotline_case

pytestmark = pytest.mark.django_db
PHONE = "13800005555"


def record(client, cid: int, version: int, **body):
    return client.post(
        f"/api/v1/cases/{cid}/callback",
        {"version": version, **body},
        content_type="application/json",
    )


def box_count(client, key: str) -> int:
    boxes = {b["key"]: b["count"] for b in client.get("/api/v1/cases/boxes").json()["boxes"]}
    return boxes[key]


def listed(client, key: str) -> list[int]:
    page = client.get(f"/api/v1/cases?box={key}").json()
    return [f["id"] for f in page["features"]]


def test_the_centre_records_a_call_back_once_and_the_case_leaves_the_box(as_user, two_streets):
    acceptor = as_user("acceptor")
    cid = closed_hotline_case(as_user, two_streets[0], callback=True, phone=PHONE)
    closed = acceptor.get(f"/api/v1/cases/{cid}").json()
    assert closed["state"] == "closed" and "callback" in closed["actions"]
    assert "callback" not in as_user("dispatcher").get(f"/api/v1/cases/{cid}").json()["actions"]
    assert box_count(acceptor, "to_callback") == 1 and listed(acceptor, "to_callback") == [cid]
    version = closed["version"]

    assert record(acceptor, cid, version - 1, result="reached").status_code == 409  # stale
    refused = record(as_user("dispatcher"), cid, version, result="reached")
    assert refused.status_code == 403
    missing = record(acceptor, cid, version, result="reached")
    assert missing.status_code == 400 and missing.json()["error"]["field"] == "satisfaction"
    odd = record(acceptor, cid, version, result="refused", satisfaction="satisfied")
    assert odd.status_code == 400 and odd.json()["error"]["field"] == "satisfaction"
    bad = record(acceptor, cid, version, result="maybe")
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "result"
    assert not CaseCallback.objects.filter(case_id=cid).exists()

    made = record(
        acceptor, cid, version, result="reached", satisfaction="dissatisfied", opinion="太慢了"
    )
    assert made.status_code == 201, made.content
    row = made.json()
    assert (row["result"], row["satisfaction"], row["satisfaction_name"]) == (
        "reached",
        "dissatisfied",
        "不满意",
    )
    assert row["recorded_by"] == "acceptor" and row["case_version"] == version + 1

    case = acceptor.get(f"/api/v1/cases/{cid}").json()
    assert case["state"] == "closed" and "callback" not in case["actions"]  # a record, no rework
    event = CaseEvent.objects.get(case_id=cid, action="callback")
    assert (event.from_state, event.to_state, event.opinion) == ("closed", "closed", "太慢了")
    assert event.details == {
        "callback": row["id"],
        "result": "reached",
        "satisfaction": "dissatisfied",
    }
    assert PHONE not in str(event.details)
    history = acceptor.get(f"/api/v1/cases/{cid}/history").json()
    assert history["events"][-1]["action"] == "callback"

    assert box_count(acceptor, "to_callback") == 0 and listed(acceptor, "to_callback") == []
    second = record(acceptor, cid, version + 1, result="not_reached")
    assert second.status_code == 409 and second.json()["current"]["state"] == "closed"


def test_only_closed_cases_whose_reporter_asked_wait_for_a_call_back(as_user, two_streets):
    acceptor = as_user("acceptor")
    not_asked = closed_hotline_case(as_user, two_streets[0], callback=False, phone=PHONE)
    reporter = {"name": "李先生", "phone": PHONE, "callback_wanted": True}
    street_point = Case.objects.get(pk=not_asked).geom
    still_open = report(
        acceptor, street_point.x, street_point.y, source="hotline", reporter=reporter
    ).json()["id"]

    assert box_count(acceptor, "to_callback") == 0
    for cid in (not_asked, still_open):
        version = Case.objects.get(pk=cid).version
        answered = record(acceptor, cid, version, result="not_reached")
        assert answered.status_code == 409, cid
        assert "callback" not in acceptor.get(f"/api/v1/cases/{cid}").json()["actions"]
    # A handling department never gets the box.
    boxes = as_user("dept-huanwei").get("/api/v1/cases/boxes").json()["boxes"]
    assert "to_callback" not in {b["key"] for b in boxes}


def test_a_reporter_not_reached_is_recorded_without_a_satisfaction(as_user, two_streets):
    acceptor = as_user("acceptor")
    cid = closed_hotline_case(as_user, two_streets[0], callback=True, phone=PHONE)
    version = Case.objects.get(pk=cid).version
    made = record(acceptor, cid, version, result="not_reached", opinion="无人接听")
    assert made.status_code == 201, made.content
    assert made.json()["satisfaction"] == "" and made.json()["result_name"] == "未联系上"
    assert Case.objects.get(pk=cid).state == "closed"
