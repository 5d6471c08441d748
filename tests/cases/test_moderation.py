"""Moderation of public text and photos (issue 25): the centre rewrites a description, hides
an opinion, a photo or a whole case from the public and restores it; the public answers
(Open311, the public API, the photo route) follow, the originals stay on the case, the
history records each edit, and only the centre may moderate."""

from __future__ import annotations

import pytest
from django.test import Client

from cases.models import Case, CaseEvent, CaseMedia
from tests.cases.conftest import inside
from tests.cases.test_citizens import jpeg
from tests.cases.test_main_path import act
from tests.cases.test_open311 import make_key

pytestmark = pytest.mark.django_db
ORIGINAL = "路口垃圾成堆，隔壁王建国家门口最严重"


def moderate(client, case_id: int, **body):
    return client.post(f"/api/v1/cases/{case_id}/public", body, content_type="application/json")


def public_one(number: str) -> dict | None:
    answer = Client().get(f"/open311/v2/requests/{number}.json?extensions=true")
    if answer.status_code == 404:
        return None
    assert answer.status_code == 200, answer.content
    return answer.json()[0]


def test_the_centre_rewrites_and_hides_what_the_public_sees_and_keeps_the_originals(
    org, as_user, two_streets
):
    lon, lat = inside(two_streets[0])
    made = Client().post(
        "/open311/v2/requests.json",
        {"api_key": make_key("app"), "service_code": "E0102", "lat": lat, "long": lon,
         "description": ORIGINAL, "media": jpeg()},
    )  # fmt: skip
    assert made.status_code == 201, made.content
    case = Case.objects.get(number=made.json()[0]["service_request_id"])
    acceptor = as_user("acceptor")
    assert act(acceptor, case.pk, "accept", 1, opinion="已受理，联系王建国核实").status_code == 200
    accept_event = CaseEvent.objects.get(case=case, action="accept")
    photo = CaseMedia.objects.get(case=case)

    staff_view = acceptor.get(f"/api/v1/cases/{case.pk}/public").json()
    assert staff_view["report"] == {
        "channel": "miniprogram", "channel_name": "微信小程序", "report_type": "report",
        "feedback": "sms", "api_key": "app", "located": True, "reopened": 0,
    }  # fmt: skip
    seen = public_one(case.number)
    assert seen["description"] == ORIGINAL and seen["status_notes"] == "已受理，联系王建国核实"
    assert seen["media_url"].endswith(f"/api/v1/public/media/{photo.pk}")

    # Only the centre moderates.
    for username in ("dept-huanwei", f"inspector-{two_streets[0].code}"):
        refused = moderate(as_user(username), case.pk, target="description", text="x")
        assert refused.status_code in (403, 404), (username, refused.content)
    assert moderate(Client(), case.pk, target="case", hidden=True).status_code == 401

    rewritten = moderate(
        acceptor, case.pk, target="description", text="路口垃圾成堆", reason="含他人姓名"
    )
    assert rewritten.status_code == 200, rewritten.content
    assert rewritten.json()["public"]["description"] == "路口垃圾成堆"
    hidden_note = moderate(
        acceptor, case.pk, target="opinion", event=accept_event.pk, hidden=True, reason="含姓名"
    )
    assert hidden_note.status_code == 200, hidden_note.content
    hidden_photo = moderate(acceptor, case.pk, target="media", media=photo.pk, hidden=True)
    assert hidden_photo.status_code == 200, hidden_photo.content

    seen = public_one(case.number)
    assert seen["description"] == "路口垃圾成堆"
    assert seen["status_notes"] is None and seen["media_url"] is None
    assert "王建国" not in str(seen)
    assert Client().get(f"/api/v1/public/media/{photo.pk}").status_code == 404
    # The originals are kept, and the centre still reads them.
    case.refresh_from_db()
    assert case.description == ORIGINAL
    assert CaseEvent.objects.get(pk=accept_event.pk).opinion == "已受理，联系王建国核实"
    staff = acceptor.get(f"/api/v1/cases/{case.pk}").json()
    assert staff["description"] == ORIGINAL
    edits = CaseEvent.objects.filter(case=case, action="public_edit").count()
    assert edits == 3
    steps = [h["step"] for h in public_one(case.number)["extended_attributes"]["history"]]
    assert "public_edit" not in steps

    # A whole case hidden is gone from every public answer, and comes back when restored.
    assert moderate(acceptor, case.pk, target="case", hidden=True).status_code == 200
    assert public_one(case.number) is None
    listed = Client().get("/open311/v2/requests.json").json()
    assert case.number not in [r["service_request_id"] for r in listed]
    on_map = Client().get("/api/v1/public/cases").json()["cases"]
    assert case.number not in [c["number"] for c in on_map]
    assert Client().get(f"/api/v1/public/cases/{case.number}").status_code == 404
    restored = moderate(acceptor, case.pk, target="case", restore=True)
    assert restored.status_code == 200 and restored.json()["hidden"] is False
    assert public_one(case.number)["description"] == "路口垃圾成堆"

    # Bad input names its field.
    wrong_event = moderate(acceptor, case.pk, target="opinion", event=999999, hidden=True)
    assert wrong_event.status_code == 400 and wrong_event.json()["error"]["field"] == "event"
    nothing = moderate(acceptor, case.pk, target="description")
    assert nothing.status_code == 400 and nothing.json()["error"]["field"] == "text"
    odd = moderate(acceptor, case.pk, target="everything", hidden=True)
    assert odd.status_code == 400 and odd.json()["error"]["field"] == "target"
