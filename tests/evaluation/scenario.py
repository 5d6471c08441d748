"""A hand-counted week of cases for the indicator tests, built through the real actions with
their times given: the week of Monday 2025-03-03 (Asia/Shanghai), period [03-03, 03-10).

Street A (inspector A, 环卫 H-huanwei and 市政 H-shizheng handle), every case class 0102 暴露垃圾
at point ``pa`` unless said, each with a custom handling deadline (the handling stage's clock):

- C0: reported Fri 02-28 (before the period), accepted, registered; dispatched Mon 08:40 (late:
  to_dispatch since Fri) to 环卫, deadline Mon 17:00, never fed back.
- C1: Mon 09:00, accepted 09:05, registered 09:10, dispatched 09:12 (环卫, deadline 17:00), fed
  back 11:00, check asked 11:05, passed 11:30, closed 11:35.
- C2: Mon 09:20, accepted 09:25, registered 09:30, dispatched 09:32 (deadline 12:00), fed back
  14:00 (late), check asked 14:05, passed 16:10 (late: 1 h to check), closed 16:15.
- C3: Mon 10:00, accepted 10:05, registered 10:10, dispatched 10:12 (deadline Tue 12:00), fed
  back 15:00, check asked 15:05, failed 15:30, rework 15:35, fed back Tue 10:00 (waits for
  check at the end).
- C4: public, Tue 09:00 at ``pa2`` (over 50 m from ``pa``), accepted 09:05, verification asked
  09:06, valid 09:30, registered 09:40, dispatched 09:45 to 环卫 (deadline Tue 17:00),
  re-dispatched 10:00 to 市政 (wrong dispatch), 市政 fed back 11:00.
- C5: public, Tue 09:10, accepted 09:15, verification asked 09:16, invalid 11:30 (late).
- C6: Tue 09:20, not accepted 09:25.
- C7: Mon 13:00, accepted 13:05, registered 13:10, dispatched 13:12 (deadline Tue 15:00); held
  Tue 09:00 (2 h asked, approved at once), released by hand 11:00: the deadline moves 2 working
  hours to Tue 17:00; fed back 16:00 (on time only thanks to the hold), check asked 16:05,
  passed 16:30, closed 16:40.
- C8: Wed 09:00, accepted 09:05, registered 09:40 (late), dispatched 09:42 to 环卫, returned
  10:00 by 环卫, dispatched 10:10 to 市政 (deadline Wed 12:00), never fed back.
- C12: public, Thu 09:00 at ``pa``, accepted 09:05, verification asked 09:06, valid 09:20
  (inspector A reported C8 there Wed 09:00: not missed).
- C13: Mon 03-10 09:00 (after the period).

Street B: C9: inspector B, Wed 09:00, a shift leader's note 09:50, accepted 10:00 (late: the
note is no stage).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from accounts.models import Person
from accounts.scoping import scope_for_user
from cases import actions, annotations, applications, dispatching
from cases.actions import NewCase
from cases.models import Case, Condition
from data.models import Category
from spatial.models import AdminArea
from tests.tracking.conftest import shifted

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = dt.datetime(2025, 3, 3, tzinfo=SHANGHAI)
END = dt.datetime(2025, 3, 10, tzinfo=SHANGHAI)


def t(day: int, hour: int, minute: int = 0, month: int = 3) -> dt.datetime:
    return dt.datetime(2025, month, day, hour, minute, tzinfo=SHANGHAI)


@dataclass
class Week:
    street_a: AdminArea
    street_b: AdminArea
    cases: dict[str, int]
    inspector_a: Person
    inspector_b: Person


class Actors:
    def __init__(self, street_a: str, street_b: str):
        names = {
            "acceptor": "acceptor",
            "leader": "shiftleader",
            "dispatcher": "dispatcher",
            "huanwei": "dept-huanwei",
            "shizheng": "dept-shizheng",
            "inspector_a": f"inspector-{street_a}",
            "inspector_b": f"inspector-{street_b}",
        }
        self.users = {k: Person.objects.get(user__username=v).user for k, v in names.items()}

    def scope(self, who: str):
        return scope_for_user(self.users[who])


def _version(case_id: int) -> int:
    return Case.objects.values_list("version", flat=True).get(pk=case_id)


def build_week(street_a: AdminArea, street_b: AdminArea) -> Week:
    """Builds the cases of the module doc; gives their ids by name."""
    who = Actors(street_a.code, street_b.code)
    here = street_a.geom.point_on_surface
    pa = (here.x, here.y)
    pa2 = next(
        p
        for p in (shifted(pa, e, n) for e, n in [(120, 0), (-120, 0), (0, 120), (0, -120)])
        if street_a.geom.contains(_point(p))
    )
    there = street_b.geom.point_on_surface
    pb = (there.x, there.y)
    garbage = Category.objects.get(code="0102", kind="event")
    register = Condition.objects.get(category=garbage, kind="register", code="01").pk
    close = Condition.objects.filter(category=garbage, kind="close").first().pk

    def report(name, reporter, at, point=pa, source="inspector", deadline=None) -> int:
        new = NewCase(
            source=source,
            category=garbage,
            description=f"{name} 人行道上有一堆暴露垃圾",
            lon=point[0],
            lat=point[1],
            custom_deadline=deadline,
        )
        return actions.do_report_case(who.scope(reporter), new, at=at).pk

    def do(actor, case_id, name, at, **kwargs):
        run = actions.TRANSITIONS[name]
        return run(who.scope(actor), case_id, version=_version(case_id), at=at, **kwargs)

    def to_handling(cid, accepted, registered, dispatched, department=None):
        do("acceptor", cid, "accept", accepted)
        do("leader", cid, "register", registered, condition=register)
        do("dispatcher", cid, "dispatch", dispatched, department=department)

    def check_and_close(cid, asked, checked, closed=None, passed=True):
        do("acceptor", cid, "request_check", asked)
        do("inspector_a", cid, "check", checked, result=passed)
        if closed:
            do("leader", cid, "close", closed, condition=close)

    cases: dict[str, int] = {}
    c = cases["C0"] = report("C0", "inspector_a", t(28, 10, month=2), deadline=t(3, 17))
    do("acceptor", c, "accept", t(28, 10, 5, month=2))
    do("leader", c, "register", t(28, 10, 10, month=2), condition=register)
    do("dispatcher", c, "dispatch", t(3, 8, 40))

    c = cases["C1"] = report("C1", "inspector_a", t(3, 9), deadline=t(3, 17))
    to_handling(c, t(3, 9, 5), t(3, 9, 10), t(3, 9, 12))
    do("huanwei", c, "feedback", t(3, 11), opinion="已清理")
    check_and_close(c, t(3, 11, 5), t(3, 11, 30), t(3, 11, 35))

    c = cases["C2"] = report("C2", "inspector_a", t(3, 9, 20), deadline=t(3, 12))
    to_handling(c, t(3, 9, 25), t(3, 9, 30), t(3, 9, 32))
    do("huanwei", c, "feedback", t(3, 14), opinion="已清理")
    check_and_close(c, t(3, 14, 5), t(3, 16, 10), t(3, 16, 15))

    c = cases["C3"] = report("C3", "inspector_a", t(3, 10), deadline=t(4, 12))
    to_handling(c, t(3, 10, 5), t(3, 10, 10), t(3, 10, 12))
    do("huanwei", c, "feedback", t(3, 15), opinion="已清理")
    check_and_close(c, t(3, 15, 5), t(3, 15, 30), passed=False)
    do("leader", c, "rework", t(3, 15, 35), opinion="现场仍有垃圾")
    do("huanwei", c, "feedback", t(4, 10), opinion="再次清理")

    c = cases["C4"] = report(
        "C4", "acceptor", t(4, 9), point=pa2, source="public", deadline=t(4, 17)
    )
    do("acceptor", c, "accept", t(4, 9, 5))
    do("acceptor", c, "request_verify", t(4, 9, 6))
    do("inspector_a", c, "verify", t(4, 9, 30), result=True)
    do("leader", c, "register", t(4, 9, 40), condition=register)
    do("dispatcher", c, "dispatch", t(4, 9, 45), department="H-huanwei")
    dispatching.do_redispatch_case(
        who.scope("dispatcher"), c, version=_version(c), department="H-shizheng",
        opinion="属市政职责", at=t(4, 10),
    )  # fmt: skip
    do("shizheng", c, "feedback", t(4, 11), opinion="已处理")

    c = cases["C5"] = report("C5", "acceptor", t(4, 9, 10), source="public")
    do("acceptor", c, "accept", t(4, 9, 15))
    do("acceptor", c, "request_verify", t(4, 9, 16))
    do("inspector_a", c, "verify", t(4, 11, 30), result=False)

    c = cases["C6"] = report("C6", "inspector_a", t(4, 9, 20))
    do("acceptor", c, "not_accept", t(4, 9, 25), opinion="描述不清")

    c = cases["C7"] = report("C7", "inspector_a", t(3, 13), deadline=t(4, 15))
    to_handling(c, t(3, 13, 5), t(3, 13, 10), t(3, 13, 12))
    hold = applications.do_apply(
        who.scope("huanwei"), c, version=_version(c), kind="hold", reason="等待配合",
        hold_mode="hours", hold_hours=Decimal("2"), at=t(4, 9),
    )  # fmt: skip
    if hold.state != "approved":
        applications.do_answer_application(
            who.scope("leader"), hold.pk, decision="approve", at=t(4, 9)
        )
    applications.do_release_hold(who.scope("huanwei"), c, version=_version(c), at=t(4, 11))
    assert Case.objects.get(pk=c).handling_deadline == t(4, 17)
    do("huanwei", c, "feedback", t(4, 16), opinion="已清理")
    check_and_close(c, t(4, 16, 5), t(4, 16, 30), t(4, 16, 40))

    c = cases["C8"] = report("C8", "inspector_a", t(5, 9), deadline=t(5, 12))
    do("acceptor", c, "accept", t(5, 9, 5))
    do("leader", c, "register", t(5, 9, 40), condition=register)
    do("dispatcher", c, "dispatch", t(5, 9, 42), department="H-huanwei")
    back = applications.do_apply(
        who.scope("huanwei"), c, version=_version(c), kind="return", reason="非本部门职责",
        at=t(5, 10),
    )  # fmt: skip
    assert back.state == "approved" and Case.objects.get(pk=c).state == "to_dispatch"
    do("dispatcher", c, "dispatch", t(5, 10, 10), department="H-shizheng")

    c = cases["C9"] = report("C9", "inspector_b", t(5, 9), point=pb)
    # A note while it waits does not restart its clock: the accept stays late.
    annotations.do_annotate_case(who.scope("leader"), c, note="请尽快受理", at=t(5, 9, 50))
    do("acceptor", c, "accept", t(5, 10))

    c = cases["C12"] = report("C12", "acceptor", t(6, 9), source="public")
    do("acceptor", c, "accept", t(6, 9, 5))
    do("acceptor", c, "request_verify", t(6, 9, 6))
    do("inspector_a", c, "verify", t(6, 9, 20), result=True)

    cases["C13"] = report("C13", "inspector_a", t(10, 9))
    return Week(
        street_a,
        street_b,
        cases,
        Person.objects.get(user=who.users["inspector_a"]),
        Person.objects.get(user=who.users["inspector_b"]),
    )


def _point(p):
    from django.contrib.gis.geos import Point

    return Point(p[0], p[1], srid=4326)


def one_parallel_case(street: AdminArea, at: dt.datetime) -> int:
    """Reports, accepts and registers one case at `at` + 0/5/10 min, dispatches it in parallel
    to 环卫 and 市政 at +12 min; 环卫 feeds back at +2 h. Gives its id."""
    who = Actors(street.code, street.code)
    here = street.geom.point_on_surface
    garbage = Category.objects.get(code="0102", kind="event")
    register = Condition.objects.get(category=garbage, kind="register", code="01").pk
    new = NewCase(
        source="inspector", category=garbage, description="并行派遣 暴露垃圾",
        lon=here.x, lat=here.y,
    )  # fmt: skip
    cid = actions.do_report_case(who.scope("inspector_a"), new, at=at).pk
    minutes = dt.timedelta(minutes=1)

    def do(actor, name, when, **kwargs):
        run = actions.TRANSITIONS[name]
        run(who.scope(actor), cid, version=_version(cid), at=when, **kwargs)

    do("acceptor", "accept", at + 5 * minutes)
    do("leader", "register", at + 10 * minutes, condition=register)
    do("dispatcher", "dispatch", at + 12 * minutes, mode="parallel",
       departments=["H-huanwei", "H-shizheng"])  # fmt: skip
    do("huanwei", "feedback", at + 120 * minutes, opinion="环卫部分已清理")
    assert Case.objects.get(pk=cid).state == "handling"
    return cid
