"""Standard phrases (惯用语) and annotations (批注) over HTTP: the system phrases seeded per action,
each person's own phrases (added, edited, deleted by them alone, listed before the system's),
system phrases kept by administrators only, validation errors as JSON; a centre note on a case
kept in its history without moving its state or version."""

from __future__ import annotations

import pytest

from cases.models import Case, CaseEvent, Phrase
from cases.phrases import DEFAULT_PHRASES
from tests.cases.test_main_path import act
from tests.cases.test_notifications import to_dispatch

pytestmark = pytest.mark.django_db


def listed(client, action: str | None = None) -> list[dict]:
    answer = client.get("/api/v1/cases/phrases", {"action": action} if action else {})
    assert answer.status_code == 200, answer.content
    return answer.json()["phrases"]


def add(client, action: str, text: str, **extra):
    return client.post(
        "/api/v1/cases/phrases",
        {"action": action, "text": text, **extra},
        content_type="application/json",
    )


def edit(client, pk: int, **body):
    return client.patch(f"/api/v1/cases/phrases/{pk}", body, content_type="application/json")


def test_the_system_phrases_are_seeded_per_action_and_offered_to_everyone(as_user):
    assert Phrase.objects.filter(owner__isnull=True, action="dispatch").exists()
    seeded = [p["text"] for p in listed(as_user("dispatcher"), "dispatch")]
    assert seeded == DEFAULT_PHRASES["dispatch"]
    every = listed(as_user("dept-huanwei"))
    assert {p["action"] for p in every} == set(DEFAULT_PHRASES)
    assert not any(p["personal"] for p in every)


def test_a_person_keeps_their_own_phrases_listed_first_and_nobody_else_sees_them(as_user):
    mine, other = as_user("dispatcher"), as_user("shiftleader")
    made = add(mine, "dispatch", "  请联系现场网格员后处置。 ")
    assert made.status_code == 201, made.content
    row = made.json()
    assert (row["text"], row["personal"], row["action_name"]) == (
        "请联系现场网格员后处置。",
        True,
        "派遣",
    )
    second = add(mine, "dispatch", "夜间施工注意扰民。").json()
    texts = [p["text"] for p in listed(mine, "dispatch")]
    assert texts[:2] == ["请联系现场网格员后处置。", "夜间施工注意扰民。"]
    assert texts[2:] == DEFAULT_PHRASES["dispatch"]
    assert "请联系现场网格员后处置。" not in str(listed(other, "dispatch"))

    # Another person can neither edit nor delete it: 404, as if it did not exist.
    assert edit(other, row["id"], text="改掉").status_code == 404
    assert other.delete(f"/api/v1/cases/phrases/{row['id']}").status_code == 404
    changed = edit(mine, row["id"], text="请先联系网格员。", sort_order=5)
    assert changed.status_code == 200 and changed.json()["text"] == "请先联系网格员。"
    assert [p["text"] for p in listed(mine, "dispatch")][:2] == [
        "夜间施工注意扰民。",
        "请先联系网格员。",
    ]
    assert mine.delete(f"/api/v1/cases/phrases/{second['id']}").status_code == 204
    assert not Phrase.objects.filter(pk=second["id"]).exists()
    assert Phrase.objects.get(pk=row["id"]).text == "请先联系网格员。"


def test_system_phrases_are_kept_by_administrators_only(as_user):
    system = Phrase.objects.filter(owner__isnull=True, action="close").first()
    assert system is not None
    leader, admin = as_user("shiftleader"), as_user("admin")
    refused = add(leader, "close", "系统用语", system=True)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    assert edit(leader, system.pk, text="改掉").status_code == 403
    assert leader.delete(f"/api/v1/cases/phrases/{system.pk}").status_code == 403
    made = add(admin, "close", "经复核处置到位，予以结案。", system=True)
    assert made.status_code == 201 and made.json()["personal"] is False
    assert "经复核处置到位，予以结案。" in [p["text"] for p in listed(leader, "close")]
    assert edit(admin, system.pk, text="处置到位，结案。").status_code == 200
    assert admin.delete(f"/api/v1/cases/phrases/{made.json()['id']}").status_code == 204
    assert [p["text"] for p in listed(leader, "close")] == ["处置到位，结案。"]


def test_bad_phrases_are_refused_with_the_field(as_user, client):
    mine = as_user("dispatcher")
    cases = [
        (add(mine, "fly", "x"), 400, "action"),
        (add(mine, "dispatch", "   "), 400, "text"),
        (add(mine, "dispatch", "x" * 501), 400, "text"),
        (add(mine, "dispatch", 5), 400, "text"),
        (add(mine, "dispatch", DEFAULT_PHRASES["dispatch"][0], system=True), 403, None),
        (mine.get("/api/v1/cases/phrases", {"action": "fly"}), 400, "action"),
    ]
    for answer, status, field in cases:
        assert answer.status_code == status, answer.content
        assert answer.json()["error"]["field"] == field
    pk = add(mine, "dispatch", "重复的用语").json()["id"]
    again = add(mine, "dispatch", "重复的用语")
    assert again.status_code == 409 and again.json()["error"]["field"] == "text"
    assert edit(mine, pk).status_code == 400
    assert edit(mine, pk, action="fly").json()["error"]["field"] == "action"
    assert Phrase.objects.filter(owner__isnull=False).count() == 1
    assert client.get("/api/v1/cases/phrases").status_code == 401


def test_the_centre_annotates_a_case_in_its_history(as_user, two_streets):
    cid = to_dispatch(as_user, two_streets[0])
    before = Case.objects.get(pk=cid)
    leader = as_user("shiftleader")
    made = leader.post(
        f"/api/v1/cases/{cid}/annotations",
        {"note": "处置部门来电：需交警配合"},
        content_type="application/json",
    )
    assert made.status_code == 201, made.content
    assert made.json()["actor"] == "shiftleader"
    after = Case.objects.get(pk=cid)
    assert (after.state, after.version) == (before.state, before.version)
    event = CaseEvent.objects.get(case_id=cid, action="annotate")
    assert (event.from_state, event.to_state) == ("to_dispatch", "to_dispatch")
    history = leader.get(f"/api/v1/cases/{cid}/history").json()["events"]
    assert [(e["action"], e["opinion"]) for e in history][-1] == (
        "annotate",
        "处置部门来电：需交警配合",
    )
    # Acting at the version seen before the note is not turned away.
    assert act(as_user("dispatcher"), cid, "dispatch", before.version).status_code == 200

    refused = as_user("dept-huanwei").post(
        f"/api/v1/cases/{cid}/annotations", {"note": "部门批注"}, content_type="application/json"
    )
    assert refused.status_code == 403
    blank = leader.post(
        f"/api/v1/cases/{cid}/annotations", {"note": "  "}, content_type="application/json"
    )
    assert blank.status_code == 400 and blank.json()["error"]["field"] == "note"
    assert CaseEvent.objects.filter(case_id=cid, action="annotate").count() == 1
