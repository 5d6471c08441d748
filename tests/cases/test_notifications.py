"""Notifications of case events (issue 20): the outbox rows written with the event, delivered
once by the real Celery worker, retried after a sender's errors, never sent twice by two
concurrent deliveries; the reporter's callback text message, and each person's own list."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
from django.db import connections, transaction

from accounts.models import Person
from accounts.scoping import scope_for_user
from cases import notifications
from cases.actions import do_dispatch_case
from cases.models import Case, CaseEvent, Notification
from tests.cases.conftest import inside
from tests.cases.test_applications import answer, apply, handling_case
from tests.cases.test_main_path import act, condition_id, report

pytestmark = pytest.mark.django_db


def handlers_of(code: str) -> set[int]:
    """The users holding the handler permission in department `code` (counted directly)."""
    people = Person.objects.filter(
        department__code=code, positions__permissions__contains=["cases.handle"]
    )
    found = set(people.values_list("user_id", flat=True))
    assert found, f"department {code} has no handlers"
    return found


def to_dispatch(as_user, street) -> int:
    """An inspector's 暴露垃圾 case, accepted and registered: waiting for dispatch."""
    cid = report(as_user(f"inspector-{street.code}"), *inside(street)).json()["id"]
    assert act(as_user("acceptor"), cid, "accept", 1).status_code == 200
    condition = condition_id("event", "0102", "register")
    assert act(as_user("shiftleader"), cid, "register", 2, condition=condition).status_code == 200
    return cid


def notices(client, **query) -> dict:
    answered = client.get("/api/v1/notifications", query)
    assert answered.status_code == 200, answered.content
    return answered.json()


def wait_until(check, timeout_s: float = 20.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError("timed out")


def test_a_dispatch_notifies_each_handler_of_the_department_with_the_event(as_user, two_streets):
    cid = to_dispatch(as_user, two_streets[0])
    assert not Notification.objects.filter(case_id=cid).exists()  # accept, register: nobody
    assert act(as_user("dispatcher"), cid, "dispatch", 3).status_code == 200

    rows = Notification.objects.filter(case_id=cid)
    event = CaseEvent.objects.get(case_id=cid, action="dispatch")
    number = Case.objects.get(pk=cid).number
    assert {r.recipient_id for r in rows} == handlers_of("H-huanwei")
    assert len(rows) == len(handlers_of("H-huanwei"))
    for row in rows:
        assert (row.kind, row.channel, row.event_id) == ("arrival", "app", event.pk)
        assert row.title == f"新派遣案件 {number}" and "暴露垃圾" in row.body
        assert row.sent_at is None and row.created_at == event.at


def test_a_rolled_back_dispatch_writes_no_notification(as_user, two_streets):
    cid = to_dispatch(as_user, two_streets[0])
    dispatcher = scope_for_user(Person.objects.get(user__username="dispatcher").user)
    with pytest.raises(RuntimeError), transaction.atomic():
        do_dispatch_case(dispatcher, cid, version=3)
        assert Notification.objects.filter(case_id=cid).exists()
        raise RuntimeError("the request failed after the action")
    assert not Notification.objects.filter(case_id=cid).exists()
    # A refused dispatch (unknown department) writes none either.
    assert act(as_user("dispatcher"), cid, "dispatch", 3, department="nope").status_code == 400
    assert not Notification.objects.filter(case_id=cid).exists()


def test_the_worker_delivers_each_notice_once(as_user, two_streets, celery_worker):
    cid = to_dispatch(as_user, two_streets[0])
    # Woken by the dispatch's commit: no sweep is called here.
    assert act(as_user("dispatcher"), cid, "dispatch", 3).status_code == 200
    rows = Notification.objects.filter(case_id=cid)
    assert rows.count() == len(handlers_of("H-huanwei"))
    wait_until(lambda: not rows.filter(sent_at__isnull=True).exists())
    assert set(rows.values_list("attempts", flat=True)) == {1}
    assert notifications.deliver_due() == {"sent": 0, "failed": 0}  # nothing left to send

    handler = as_user("dept-huanwei")
    listed = notices(handler, unread=1)
    assert [n["case"]["id"] for n in listed["notifications"]] == [cid]
    assert listed["unread"] == listed["unread_arrivals"] == 1


class FlakySender:
    """Fails twice, then sends; counts what it sent per phone."""

    failures = 0
    sent: Counter = Counter()

    def send(self, phone: str, text: str) -> str:
        if FlakySender.failures < 2:
            FlakySender.failures += 1
            raise ConnectionError("gateway busy")
        FlakySender.sent[phone] += 1
        return f"[flaky] {text}"


def closed_hotline_case(as_user, street, callback: bool, phone: str) -> int:
    """A hotline case from report to close, its caller asking for a callback or not."""
    acceptor, leader = as_user("acceptor"), as_user("shiftleader")
    inspector, handler = as_user(f"inspector-{street.code}"), as_user("dept-huanwei")
    reporter = {"name": "王女士", "phone": phone, "callback_wanted": callback}
    cid = report(acceptor, *inside(street), source="hotline", reporter=reporter).json()["id"]
    steps = [
        (acceptor, "accept", {}),
        (acceptor, "request_verify", {}),
        (inspector, "verify", {"valid": True}),
        (leader, "register", {"condition": condition_id("event", "0102", "register")}),
        (as_user("dispatcher"), "dispatch", {}),
        (handler, "feedback", {"opinion": "已清运"}),
        (acceptor, "request_check", {}),
        (inspector, "check", {"passed": True}),
        (leader, "close", {"condition": condition_id("event", "0102", "close")}),
    ]
    for version, (client, name, body) in enumerate(steps, start=1):
        done = act(client, cid, name, version, **body)
        assert done.status_code == 200, (name, done.content)
    return cid


def test_a_failing_sender_is_retried_by_the_worker_and_sends_once(
    as_user, two_streets, celery_worker, settings
):
    settings.CITYGRID_SMS_SENDER = "tests.cases.test_notifications.FlakySender"
    settings.CITYGRID_NOTIFY_RETRY_S = 0.2
    FlakySender.failures, FlakySender.sent = 0, Counter()
    cid = closed_hotline_case(as_user, two_streets[0], callback=True, phone="13800001111")
    sms = Notification.objects.get(case_id=cid, channel="sms")
    wait_until(lambda: Notification.objects.filter(pk=sms.pk, sent_at__isnull=False).exists())
    sms.refresh_from_db()
    assert sms.attempts == 3 and sms.last_error == "ConnectionError: gateway busy"
    assert sms.sent_message.startswith("[flaky] ") and "办结" in sms.sent_message
    assert FlakySender.sent == Counter({"13800001111": 1})
    time.sleep(1)  # retries still queued find nothing to send again
    assert FlakySender.sent == Counter({"13800001111": 1})


class SlowSender:
    """Sends slowly, recording every send, so two deliveries overlap."""

    lock = threading.Lock()
    sent: Counter = Counter()

    def send(self, phone: str, text: str) -> str:
        time.sleep(0.05)
        with SlowSender.lock:
            SlowSender.sent[phone] += 1
        return text


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_deliveries_never_send_a_row_twice(as_user, two_streets):
    case = Case.objects.get(pk=to_dispatch(as_user, two_streets[0]))
    phones = [f"1390000{i:04d}" for i in range(20)]
    Notification.objects.bulk_create(
        Notification(
            case=case,
            kind="callback",
            channel="sms",
            phone=phone,
            title="t",
            body="b",
            created_at=case.reported_at,
        )
        for phone in phones
    )
    SlowSender.sent = Counter()
    results = []

    def deliver():
        try:
            results.append(notifications.deliver_due(sender=SlowSender()))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert SlowSender.sent == Counter(dict.fromkeys(phones, 1))
    assert sum(r["sent"] for r in results) == len(phones)
    assert all(r["sent"] > 0 for r in results)  # both took part
    assert set(Notification.objects.filter(case=case).values_list("attempts", flat=True)) == {1}


def test_the_reporter_gets_a_text_on_close_only_when_asked_and_departments_never_see_it(
    as_user, two_streets
):
    asked = closed_hotline_case(as_user, two_streets[0], callback=True, phone="13800002222")
    texts = Notification.objects.filter(case_id=asked, channel="sms")
    assert [(t.phone, t.recipient_id, t.kind) for t in texts] == [("13800002222", None, "callback")]
    assert notifications.deliver_due() == {"sent": len(Notification.objects.all()), "failed": 0}
    assert texts.get().sent_message == texts.get().body and "办结" in texts.get().body

    not_asked = closed_hotline_case(as_user, two_streets[0], callback=False, phone="13800003333")
    assert not Notification.objects.filter(case_id=not_asked, channel="sms").exists()

    for username in ("dept-huanwei", "dispatcher", "acceptor", f"inspector-{two_streets[0].code}"):
        seen = str(notices(as_user(username)))
        assert "13800002222" not in seen and "感谢您" not in seen


def test_each_person_reads_and_marks_only_their_own_notices(as_user, two_streets, client):
    cid = to_dispatch(as_user, two_streets[0])
    assert act(as_user("dispatcher"), cid, "dispatch", 3).status_code == 200
    assert notices(as_user("dept-huanwei"))["notifications"] == []  # not delivered yet
    notifications.deliver_due()
    handler, other = as_user("dept-huanwei"), as_user("dept-shizheng")
    mine = notices(handler)["notifications"]
    assert len(mine) == 1 and mine[0]["case"]["number"] == Case.objects.get(pk=cid).number
    assert notices(other)["notifications"] == []

    # Another department's ids change nothing; the owner's do.
    foreign = other.post(
        "/api/v1/notifications/read", {"ids": [mine[0]["id"]]}, content_type="application/json"
    )
    assert foreign.status_code == 200 and foreign.json() == {"marked": 0}
    assert notices(handler, unread=1)["unread"] == 1
    done = handler.post("/api/v1/notifications/read", {"all": True}, "application/json")
    assert done.json() == {"marked": 1}
    assert notices(handler, unread=1) == {"notifications": [], "unread": 0, "unread_arrivals": 0}
    assert notices(handler)["notifications"][0]["read_at"]

    bad = handler.post("/api/v1/notifications/read", {}, content_type="application/json")
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "ids"
    assert client.get("/api/v1/notifications").status_code == 401
    assert (
        client.post("/api/v1/notifications/read", {"all": True}, "application/json").status_code
        == 401
    )


def test_the_applicant_hears_the_answer_to_their_application(as_user, two_streets):
    case = handling_case(as_user, two_streets[0])
    handler, leader = as_user("dept-huanwei"), as_user("shiftleader")
    app = apply(handler, case, "extension", amount="8", unit="working_hours").json()
    assert answer(leader, app["id"], opinion="同意延期").status_code == 200
    notifications.deliver_due()
    kinds = [(n["kind"], n["title"]) for n in notices(handler)["notifications"]]
    assert kinds[0] == ("application", f"申请延期已同意 {case['number']}")
    assert "同意延期" in notices(handler)["notifications"][0]["body"]


class DyingSender:
    """The worker process dies while sending (SystemExit is no sender error: nothing catches
    it, as nothing would survive a killed process)."""

    def send(self, phone: str, text: str) -> str:
        raise SystemExit("worker killed")


def test_a_worker_killed_mid_delivery_leaves_the_row_for_the_next_one(as_user, two_streets):
    cid = closed_hotline_case(as_user, two_streets[0], callback=True, phone="13800004444")
    sms = Notification.objects.get(case_id=cid, channel="sms")
    # Rows are claimed in id order: the history's in-app notices go out, then the worker dies
    # on the text message and its claim rolls back.
    with pytest.raises(SystemExit):
        notifications.deliver_due(sender=DyingSender())
    assert not Notification.objects.filter(channel="app", sent_at__isnull=True).exists()
    sms.refresh_from_db()
    assert (sms.sent_at, sms.attempts, sms.sent_message) == (None, 0, "")
    SlowSender.sent = Counter()
    assert notifications.deliver_due(sender=SlowSender()) == {"sent": 1, "failed": 0}
    assert notifications.deliver_due(sender=SlowSender()) == {"sent": 0, "failed": 0}
    assert SlowSender.sent == Counter({"13800004444": 1})
