"""Merging similar cases (案件合并, spec 5.3.3) over HTTP: three hotline reports of one problem
metres apart merge into the earliest, which lists every reporter; undoing one merge returns it
to where it was; every reporter and every event is kept throughout; the refusals (not similar,
dispatched, stale, a position that may not, one case, undo after dispatch)."""

from __future__ import annotations

import pytest
from pyproj import Geod

from cases.models import Case, CaseEvent, Condition
from tests.cases.conftest import inside

pytestmark = pytest.mark.django_db
GEOD = Geod(ellps="WGS84")


def moved(lon, lat, metres):
    lon2, lat2, _ = GEOD.fwd(lon, lat, 90.0, metres)
    return lon2, lat2


def report(client, point, source="hotline", **extra) -> dict:
    made = client.post(
        "/api/v1/cases",
        {
            "source": source,
            "kind": "event",
            "category": "0102",
            "description": "路边暴露垃圾",
            "lon": point[0],
            "lat": point[1],
            **extra,
        },
        content_type="application/json",
    )
    assert made.status_code == 201, made.content
    return made.json()


def hotline(client, point, name, phone) -> dict:
    return report(client, point, reporter={"name": name, "phone": phone, "callback_wanted": True})


def merge(client, cases, opinion="同一处垃圾"):
    return client.post(
        "/api/v1/cases/merge",
        {"cases": [{"id": c["id"], "version": c["version"]} for c in cases], "opinion": opinion},
        content_type="application/json",
    )


def act(client, case_id, name, version, **body):
    return client.post(
        f"/api/v1/cases/{case_id}/actions/{name}",
        {"version": version, **body},
        content_type="application/json",
    )


def events_of(case_id) -> list[tuple]:
    return list(
        CaseEvent.objects.filter(case_id=case_id).order_by("id").values_list("id", "action")
    )


def test_merge_and_undo_keep_every_reporter_and_event(as_user, two_streets):
    street, other = two_streets
    lon, lat = inside(street)
    acceptor = as_user("acceptor")
    first = hotline(acceptor, (lon, lat), "王先生", "13800000001")
    second = hotline(acceptor, moved(lon, lat, 4.0), "李女士", "13800000002")
    third = hotline(acceptor, moved(lon, lat, 3.0), "张先生", "13800000003")
    assert second["similar_count"] >= 1 and third["similar_count"] >= 1
    before = {c["id"]: events_of(c["id"]) for c in (first, second, third)}
    assert all(before.values())

    merged = merge(acceptor, [third, first, second])
    assert merged.status_code == 200, merged.content
    survivor = merged.json()
    assert survivor["id"] == first["id"] and survivor["state"] == first["state"]
    for later in (second, third):
        stored = Case.objects.get(pk=later["id"])
        assert stored.state == "merged" and stored.merged_into_id == first["id"]
        assert stored.reporter_name  # the reporter stays on its own case too
    listed = acceptor.get(f"/api/v1/cases/{first['id']}/reporters").json()["reporters"]
    assert [(r["name"], r["phone"]) for r in listed] == [
        ("王先生", "13800000001"),
        ("李女士", "13800000002"),
        ("张先生", "13800000003"),
    ]
    assert all(r["callback_wanted"] for r in listed)
    inspector_elsewhere = as_user(f"inspector-{other.code}")
    assert inspector_elsewhere.get(f"/api/v1/cases/{first['id']}/reporters").status_code == 404

    merge_event = CaseEvent.objects.get(case_id=first["id"], action="merge")
    assert sorted(merge_event.details["merged"]) == sorted([second["id"], third["id"]])
    into = CaseEvent.objects.get(case_id=second["id"], action="merged_into")
    assert into.details["merged_into"] == first["id"] and into.to_state == "merged"
    for case_id, old in before.items():
        assert events_of(case_id)[: len(old)] == old  # nothing lost or rewritten

    # The merged case shows 撤销合并 and takes nothing else; undo it.
    shown = acceptor.get(f"/api/v1/cases/{second['id']}").json()
    assert shown["actions"] == ["unmerge"] or "unmerge" in shown["actions"]
    assert act(acceptor, second["id"], "accept", shown["version"]).status_code == 409
    undone = act(acceptor, second["id"], "unmerge", shown["version"], opinion="不是同一处")
    assert undone.status_code == 200, undone.content
    assert undone.json()["state"] == second["state"]
    assert Case.objects.get(pk=second["id"]).merged_into_id is None
    assert CaseEvent.objects.filter(case_id=first["id"], action="unmerged").count() == 1
    listed = acceptor.get(f"/api/v1/cases/{first['id']}/reporters").json()["reporters"]
    assert [r["name"] for r in listed] == ["王先生", "张先生"]
    again = acceptor.get(f"/api/v1/cases/{second['id']}/reporters").json()["reporters"]
    assert [r["name"] for r in again] == ["李女士"]
    history = [
        e["action"] for e in acceptor.get(f"/api/v1/cases/{second['id']}/history").json()["events"]
    ]
    assert history[-2:] == ["merged_into", "unmerge"]
    for case_id, old in before.items():
        assert events_of(case_id)[: len(old)] == old
    assert act(acceptor, second["id"], "unmerge", undone.json()["version"]).status_code == 409


def test_merging_refuses_what_it_must(as_user, two_streets):
    street, other = two_streets
    lon, lat = inside(street)
    acceptor = as_user("acceptor")
    first = hotline(acceptor, (lon, lat), "王先生", "13800000001")
    far = hotline(acceptor, moved(lon, lat, 60.0), "李女士", "13800000002")
    near = hotline(acceptor, moved(lon, lat, 5.0), "张先生", "13800000003")

    not_similar = merge(acceptor, [first, far])
    assert not_similar.status_code == 400 and not_similar.json()["error"]["field"] == "cases"
    assert merge(acceptor, [first]).status_code == 400
    stale = merge(acceptor, [first, {**near, "version": near["version"] + 1}])
    assert stale.status_code == 409
    inspector = as_user(f"inspector-{street.code}")
    assert merge(inspector, [first, near]).status_code == 403
    assert all(Case.objects.get(pk=c["id"]).state != "merged" for c in (first, far, near))


def test_a_merge_is_undone_only_before_the_survivor_is_dispatched(as_user, two_streets):
    street = two_streets[0]
    lon, lat = inside(street)
    inspector = as_user(f"inspector-{street.code}")
    acceptor, leader, dispatcher = (
        as_user("acceptor"),
        as_user("shiftleader"),
        as_user("dispatcher"),
    )
    first = report(inspector, (lon, lat), source="inspector")
    later = report(inspector, moved(lon, lat, 2.0), source="inspector")
    first = act(acceptor, first["id"], "accept", first["version"]).json()
    assert first["state"] == "to_register"
    merged = merge(acceptor, [first, later])
    assert merged.status_code == 200, merged.content
    survivor = merged.json()
    condition = Condition.objects.filter(
        category__kind="event", category__code="0102", kind="register"
    ).first()
    registered = act(
        leader, survivor["id"], "register", survivor["version"], condition=condition.pk
    )
    assert registered.status_code == 200, registered.content
    dispatched = act(dispatcher, survivor["id"], "dispatch", registered.json()["version"])
    assert dispatched.status_code == 200 and dispatched.json()["state"] == "handling"

    merged_case = acceptor.get(f"/api/v1/cases/{later['id']}").json()
    refused = act(acceptor, later["id"], "unmerge", merged_case["version"])
    assert refused.status_code == 409 and "dispatch" in refused.json()["error"]["message"]
    assert Case.objects.get(pk=later["id"]).merged_into_id == survivor["id"]
    # A dispatched case merges no more.
    other = report(inspector, moved(lon, lat, 3.0), source="inspector")
    assert merge(acceptor, [dispatched.json(), other]).status_code == 409


def test_cases_of_different_days_do_not_merge(as_user, two_streets):
    import datetime as dt

    from django.utils import timezone

    acceptor = as_user("acceptor")
    point = inside(two_streets[0])
    first = hotline(acceptor, point, "张三", "13800000001")
    second = hotline(acceptor, moved(*point, 3.0), "李四", "13800000002")
    # Setup: the first was reported yesterday evening (similar still: within the 1-day window).
    yesterday = timezone.localtime(Case.objects.get(pk=second["id"]).reported_at)
    yesterday = yesterday.replace(hour=23, minute=50) - dt.timedelta(days=1)
    Case.objects.filter(pk=first["id"]).update(reported_at=yesterday)
    refused = merge(acceptor, [first, second])
    assert refused.status_code == 400, refused.content
    error = refused.json()["error"]
    assert error["field"] == "cases" and "same day" in error["message"]
    assert Case.objects.get(pk=second["id"]).state == "reported"


def test_closing_the_survivor_texts_and_calls_back_every_reporter(as_user, two_streets):
    from accounts.models import Person
    from cases.models import CaseCallback, Notification
    from tests.cases.test_main_path import condition_id

    acceptor, leader = as_user("acceptor"), as_user("shiftleader")
    point = inside(two_streets[0])
    first = hotline(acceptor, point, "张三", "13800000001")
    second = hotline(acceptor, moved(*point, 3.0), "李四", "13800000002")
    merged = merge(acceptor, [first, second])
    assert merged.status_code == 200, merged.content
    survivor = merged.json()
    # The survivor through its workflow to closed (hotline: verify first).
    case_id = survivor["id"]

    def step(client, name, **body):
        answer = act(client, case_id, name, Case.objects.get(pk=case_id).version, **body)
        assert answer.status_code == 200, (name, answer.content)

    inspector = f"inspector-{two_streets[0].code}"
    inspector_id = Person.objects.get(user__username=inspector).user_id
    step(acceptor, "accept")
    step(acceptor, "request_verify", inspector=inspector_id)
    step(as_user(inspector), "verify", valid=True, opinion="属实")
    step(leader, "register", condition=condition_id("event", "0102", "register"))
    step(as_user("dispatcher"), "dispatch", department="H-huanwei")
    step(as_user("dept-huanwei"), "feedback", opinion="已清理")
    step(acceptor, "request_check", inspector=inspector_id)
    step(as_user(inspector), "check", passed=True, opinion="已清理干净")
    step(leader, "close", condition=condition_id("event", "0102", "close"))
    assert Case.objects.get(pk=case_id).state == "closed"

    texts = Notification.objects.filter(event__case_id=case_id, channel="sms")
    assert sorted(texts.values_list("phone", flat=True)) == ["13800000001", "13800000002"]
    assert texts.get(phone="13800000002").case_id == second["id"]
    assert second["number"] in texts.get(phone="13800000002").body
    # Both wait for a call-back; the merged one is recorded on its own case.
    waiting = acceptor.get("/api/v1/cases?box=to_callback").json()["features"]
    assert {f["id"] for f in waiting} == {first["id"], second["id"]}
    recorded = acceptor.post(
        f"/api/v1/cases/{second['id']}/callback",
        {
            "result": "reached",
            "satisfaction": "satisfied",
            "opinion": "已解决",
            "version": Case.objects.get(pk=second["id"]).version,
        },
        content_type="application/json",
    )
    assert recorded.status_code in (200, 201), recorded.content
    assert CaseCallback.objects.filter(case_id=second["id"]).count() == 1


def test_a_department_applies_to_merge_its_cases_and_the_centre_approves(as_user, two_streets):
    """申请合并 / 答复合并 (spec 5.3.3.3-5.3.3.4): two dispatched reports of one problem at the
    same department; the department applies on the later naming the earlier, the shift leader
    approves, the later is merged into the earlier and the department's 处置中 holds one."""
    from accounts.models import Person
    from cases.models import Application
    from tests.cases.test_main_path import condition_id

    acceptor, leader = as_user("acceptor"), as_user("shiftleader")
    department = as_user("dept-huanwei")
    inspector = f"inspector-{two_streets[0].code}"
    inspector_id = Person.objects.get(user__username=inspector).user_id
    point = inside(two_streets[0])

    def dispatched(where, department_code="H-huanwei") -> dict:
        made = hotline(acceptor, where, "王五", "13800000003")
        case_id = made["id"]

        def step(client, name, **body):
            answer = act(client, case_id, name, Case.objects.get(pk=case_id).version, **body)
            assert answer.status_code == 200, (name, answer.content)

        step(acceptor, "accept")
        step(acceptor, "request_verify", inspector=inspector_id)
        step(as_user(inspector), "verify", valid=True, opinion="属实")
        step(leader, "register", condition=condition_id("event", "0102", "register"))
        step(as_user("dispatcher"), "dispatch", department=department_code)
        return made

    earlier = dispatched(point)
    later = dispatched(moved(*point, 4.0))
    elsewhere = dispatched(moved(*point, 6.0), "H-shizheng")
    far = dispatched(moved(*point, 300.0))
    boxes = {b["key"]: b["count"] for b in department.get("/api/v1/cases/boxes").json()["boxes"]}
    assert boxes["handling"] == 3

    def apply(case, others):
        return department.post(
            f"/api/v1/cases/{case['id']}/applications",
            {
                "version": Case.objects.get(pk=case["id"]).version,
                "kind": "merge",
                "reason": "同一处垃圾，多位市民反映",
                "cases": [o["id"] for o in others],
            },
            content_type="application/json",
        )

    assert apply(later, []).json()["error"]["field"] == "cases"
    assert apply(later, [elsewhere]).status_code == 404  # another department's: unseen
    not_similar = apply(later, [far])
    assert not_similar.status_code == 400 and not_similar.json()["error"]["field"] == "cases"
    applied = apply(later, [earlier])
    assert applied.status_code == 201, applied.content
    application = applied.json()
    assert application["kind"] == "merge" and application["merge_cases"] == [earlier["id"]]
    assert Case.objects.get(pk=later["id"]).state == "handling"  # nothing merged before approval

    answered = leader.post(
        f"/api/v1/applications/{application['id']}/answer",
        {"decision": "approve", "opinion": "同意合并"},
        content_type="application/json",
    )
    assert answered.status_code == 200, answered.content
    assert Application.objects.get(pk=application["id"]).state == "approved"
    merged = Case.objects.get(pk=later["id"])
    assert merged.state == "merged" and merged.merged_into_id == earlier["id"]
    assert Case.objects.get(pk=earlier["id"]).state == "handling"
    boxes = {b["key"]: b["count"] for b in department.get("/api/v1/cases/boxes").json()["boxes"]}
    assert boxes["handling"] == 2  # the earlier and the far one
    assert CaseEvent.objects.filter(case_id=earlier["id"], action="merge").count() == 1
    reporters = leader.get(f"/api/v1/cases/{earlier['id']}/reporters").json()["reporters"]
    assert [r["case"] for r in reporters] == [earlier["id"], later["id"]]
