"""Plans of demo cases (for `cases.demo`): each case's life planned in Python from one seeded
`random.Random` before any action runs.

A plan has the case's source (mostly inspectors, then the 12345 hotline, the public, video,
leaders), its class (暴露垃圾, 小广告, 乱停放, 店外经营 and manholes often; a gas main
rarely), its point (`cases.demo.places`), its report time (by day more than by night, on
working days more than on days off) and the time and actor of each later step: the centre's
steps minutes apart at any hour, the inspectors' in the field by day, the departments' handling
a share of its limit in working time, sometimes past it. Older cases mostly run to the end
(closed, or refused, invalid, not registered); recent ones stop in every state on the way, as
do a few long-stuck old ones. A few inspectors' reports are self-handled (自行处置: archived
by the acceptor, or now and then sent to registration) and a few cases wait for, or had, a
supplementary collection (补采) before acceptance. No step is after `now`.
"""

from __future__ import annotations

import datetime as dt
import random
from bisect import bisect
from dataclasses import dataclass, field, replace
from itertools import accumulate

from django.utils import timezone

from cases import deadlines
from cases.actions import NewCase, Reporter
from cases.calendars import default_calendar
from cases.models import Condition, Level, ManualEntry, Source, State
from data.models import Category

from .people import DemoPeople
from .places import Places
from .texts import Texts

S = State
DIRECT = (Source.INSPECTOR, Source.SURVEY)  # the workflow without verification
CALLERS = (Source.HOTLINE, Source.PUBLIC)  # cases with a reporter's name and phone
SOURCES = {
    Source.INSPECTOR: 59,
    Source.HOTLINE: 25,
    Source.PUBLIC: 7,
    Source.VIDEO: 5,
    Source.LEADER: 2,
    Source.SURVEY: 1,
    Source.MEDIA: 1,
}
# Relative frequency of the minor classes ((kind, code) → weight); the rest DEFAULT_WEIGHT.
CLASS_WEIGHTS = {
    ("event", "0102"): 14,  # 暴露垃圾
    ("event", "0201"): 11,  # 非法小广告
    ("event", "0504"): 11,  # 机动车乱停放
    ("event", "0503"): 10,  # 店外经营
    ("event", "0505"): 6,  # 非机动车乱停放
    ("event", "0104"): 5,  # 道路不洁
    ("event", "0501"): 4,  # 无照经营游商
    ("event", "0103"): 3,  # 积存垃圾渣土
    ("event", "0101"): 2,  # 私搭乱建
    ("event", "0107"): 2,  # 废弃家具设备
    ("event", "0202"): 2,  # 违章张贴悬挂广告牌匾
    ("event", "0506"): 2,  # 露天烧烤
    ("event", "0106"): 1.5,  # 绿地脏乱
    ("event", "0108"): 1.5,  # 道路遗撒
    ("event", "0204"): 1.5,  # 街头散发广告
    ("event", "0301"): 1.5,  # 施工扰民
    ("event", "0302"): 1.5,  # 工地扬尘
    ("event", "0203"): 1,  # 占道广告牌
    ("event", "0303"): 1,  # 违规占道施工
    ("event", "0404"): 1,  # 下水道堵塞或破损
    ("event", "0502"): 1,  # 占道废品收购
    ("event", "0507"): 1,  # 占道洗车
    ("event", "0601"): 1,  # 其他
    ("event", "0406"): 0.6,  # 道路积水
    ("event", "0402"): 0.3,  # 自来水管破裂
    ("event", "0401"): 0.15,  # 路面塌陷
    ("event", "0405"): 0.1,  # 热力管道破裂
    ("event", "0403"): 0.04,  # 燃气管道破裂
    ("component", "0101"): 3,  # 上水井盖
    ("component", "0102"): 3,  # 污水井盖
    ("component", "0103"): 3,  # 雨水井盖
    ("component", "0104"): 2,  # 雨水箅子
    ("component", "0105"): 1.5,  # 电力井盖
    ("component", "0106"): 1,  # 路灯井盖
    ("component", "0107"): 1,  # 通讯井盖
    ("component", "0111"): 3,  # 路灯
    ("component", "0305"): 3,  # 垃圾箱
    ("component", "0402"): 2,  # 行道树
    ("component", "0208"): 2,  # 道路护栏
    ("component", "0304"): 1,  # 广告牌匾
    ("component", "0308"): 1,  # 公共座椅
    ("component", "0206"): 1,  # 交通标志牌
    ("component", "0203"): 1,  # 存车支架
    ("component", "0202"): 1,  # 公交站亭
    ("component", "0301"): 1,  # 公共厕所
    ("component", "0212"): 1,  # 路名牌
    ("component", "0213"): 0.8,  # 道路隔离墩
}
DEFAULT_WEIGHT = 0.2
# Classes seen around shops and markets: their points keep to the commercial streets.
COMMERCIAL = {("event", c) for c in ("0102", "0201", "0204", "0501", "0502", "0503", "0504")}
COMMERCIAL |= {("event", "0505"), ("event", "0506"), ("event", "0507"), ("component", "0305")}
EVENING = {("event", "0506"), ("event", "0501")}  # 露天烧烤, 游商: after work
EMERGENCIES = {("event", c) for c in ("0401", "0402", "0403", "0405")}

# Reports per local hour: inspectors patrol by day; callers call from morning to late evening.
PATROL = [0.1, 0.05, 0.05, 0.05, 0.1, 0.2, 0.6, 1.5, 3.4, 4.8, 5.0, 4.0, 2.0]
PATROL += [2.4, 4.4, 4.8, 4.5, 3.0, 1.2, 0.5, 0.3, 0.2, 0.15, 0.1]
CALLS = [0.3, 0.15, 0.1, 0.1, 0.1, 0.2, 0.5, 1.4, 3.0, 4.2, 4.4, 3.8, 2.6]
CALLS += [2.6, 3.8, 4.2, 4.0, 3.2, 2.4, 2.2, 2.0, 1.6, 1.0, 0.6]
NIGHT = [1.0, 0.6, 0.3, 0.1, 0.05, 0.05, 0.05, 0.1, 0.2, 0.3, 0.4, 0.6, 0.8]
NIGHT += [0.6, 0.5, 0.5, 0.6, 1.0, 2.0, 3.5, 4.5, 4.5, 3.5, 2.0]
DAY_OFF = {"patrol": 0.45, "calls": 0.8, "night": 1.2}  # a day off's share of a working day's
GROWTH = (0.6, 1.4)  # reports per hour at the start and the end of the window: use grows

# Open cases: by age (days, below), the chance a case waits in some state, and where. The
# centre's backlog is recent; what waits for weeks waits mostly on a department.
OPEN_RECENT = {
    S.REPORTED: 8,
    S.SUPPLEMENTING: 2,
    S.TO_VERIFY: 6,
    S.VERIFYING: 10,
    S.TO_REGISTER: 6,
    S.TO_DISPATCH: 6,
    S.HANDLING: 15,
    S.TO_CHECK: 6,
    S.CHECKING: 10,
    S.TO_CLOSE: 8,
}
OPEN_OLD = {S.HANDLING: 70, S.TO_DISPATCH: 5, S.TO_CHECK: 5, S.CHECKING: 10, S.TO_CLOSE: 10}
OPEN_BY_AGE = [(1, 0.7, OPEN_RECENT), (3, 0.35, OPEN_RECENT), (7, 0.15, OPEN_RECENT)]
OPEN_BY_AGE += [(30, 0.03, OPEN_OLD), (float("inf"), 0.01, OPEN_OLD)]
# Inspectors' reports fixed on the spot (自行处置), their share; of those most are archived,
# the rest sent to registration (the photos show it was not fixed). And how often the centre
# asks for a supplementary collection (补采) at acceptance.
SELF_HANDLED_SHARE = 0.08
ARCHIVED_SHARE = 0.85
SUPPLEMENT_SHARE = 0.03
# Handling time as a share of the limit: mostly well within, some near it, some past it.
HANDLING_SHARES = {(0.1, 0.8): 75, (0.8, 1.0): 13, (1.0, 2.5): 12}
CLOSED_END = "end"  # a plan's target when the case runs its course


def _pick(rng: random.Random, weights: dict):
    keys = list(weights)
    cum = list(accumulate(weights[k] for k in keys))
    return keys[bisect(cum, rng.random() * cum[-1])]


@dataclass
class Step:
    """One action of a plan: who takes it (a username, or ``handler``: the department the case
    went to), when, its arguments and the state it leaves the case in."""

    action: str
    actor: str
    at: dt.datetime
    state: str
    args: dict = field(default_factory=dict)


@dataclass
class Plan:
    """A case's report (`new`), the street it is in, its steps and what it was planned for."""

    new: NewCase
    street: str
    steps: list[Step]
    target: str
    self_handled: bool = False

    @property
    def final_state(self) -> str:
        return self.steps[-1].state

    def shifted(self, delta: dt.timedelta) -> Plan:
        steps = [replace(s, at=s.at + delta) for s in self.steps]
        return replace(self, steps=steps)


class _Life:
    """The steps of one case as they are planned."""

    def __init__(self, reporter: str, at: dt.datetime, state: str = S.REPORTED):
        self.steps = [Step("report", reporter, at, state)]

    @property
    def t(self) -> dt.datetime:
        """The time of the last step."""
        return self.steps[-1].at

    def add(self, action: str, actor: str, at, state: str, opinion: str = "", **args) -> None:
        if opinion:
            args["opinion"] = opinion
        self.steps.append(Step(action, actor, at, state, args))


class Planner:
    """Plans the life of one case at a time from the seeded generator."""

    def __init__(self, rng: random.Random, now: dt.datetime, days: int, people: DemoPeople):
        self.rng, self.now, self.people = rng, now, people
        self.calendar = default_calendar()
        self.places = Places()
        self.texts = Texts(rng)
        routed = set(ManualEntry.objects.values_list("category_id", flat=True))
        self.classes = [
            c
            for c in Category.objects.filter(parent__isnull=False).order_by("kind", "code")
            if c.pk in routed
        ]
        if not self.classes:
            raise ValueError("no minor class has a manual entry: load the demo manual first")
        self.weights = {
            c: CLASS_WEIGHTS.get((c.kind, c.code), DEFAULT_WEIGHT) for c in self.classes
        }
        self.conditions: dict[tuple[int, str], list[int]] = {}
        for pk, category, kind in (
            Condition.objects.filter(active=True)
            .order_by("category_id", "kind", "code")
            .values_list("pk", "category_id", "kind")
        ):
            self.conditions.setdefault((category, kind), []).append(pk)
        self._slots(days)

    def _slots(self, days: int) -> None:
        """The hours of the last `days` days with each curve's weight, for drawing times."""
        start = (self.now - dt.timedelta(days=days)).replace(minute=0, second=0, microsecond=0)
        self.window_start = self.now - dt.timedelta(days=days)
        hours = int((self.now - start).total_seconds() // 3600) + 1
        self.hours = [start + dt.timedelta(hours=h) for h in range(hours)]
        self.cum = {}
        for name, curve in (("patrol", PATROL), ("calls", CALLS), ("night", NIGHT)):
            weights = []
            for n, hour in enumerate(self.hours):
                local = timezone.localtime(hour)
                working = self.calendar.is_working_day(local.date())
                growth = GROWTH[0] + (GROWTH[1] - GROWTH[0]) * n / len(self.hours)
                weights.append(curve[local.hour] * growth * (1.0 if working else DAY_OFF[name]))
            self.cum[name] = list(accumulate(weights))

    def report_time(self, curve: str) -> dt.datetime:
        cum = self.cum[curve]
        while True:
            hour = self.hours[bisect(cum, self.rng.random() * cum[-1])]
            at = hour + dt.timedelta(seconds=self.rng.uniform(0, 3600))
            if self.window_start <= at < self.now:
                return at.replace(microsecond=0)

    # --- times of the later steps ---------------------------------------------------------

    def centre(self, t: dt.datetime, median_minutes: float) -> dt.datetime:
        """The centre's next step: minutes later, at any hour."""
        minutes = max(1.0, median_minutes * self.rng.lognormvariate(0, 0.7))
        return t + dt.timedelta(minutes=minutes)

    def field(self, t: dt.datetime, median_minutes: float) -> dt.datetime:
        """An inspector's next step: in the field by day (08:00–19:00)."""
        at = self.centre(t, median_minutes)
        local = timezone.localtime(at)
        if not 8 <= local.hour < 19:
            morning = local.replace(hour=8, minute=0, second=0)
            if local.hour >= 19:
                morning += dt.timedelta(days=1)
            at = morning + dt.timedelta(minutes=self.rng.uniform(0, 90))
        return at

    def handled(self, t: dt.datetime, category: Category, level: str) -> dt.datetime:
        """When the department reports its handling: a share of the class's limit in working
        hours — mostly well within it, now and then past it."""
        hours = float(category.handling_limit_hours or 24)
        if level in (Level.SERIOUS, Level.MAJOR):
            hours /= 2
        low, high = _pick(self.rng, HANDLING_SHARES)
        share = self.rng.uniform(low, high)
        return self.calendar.add(t, hours * share, "working_hours") + dt.timedelta(
            seconds=self.rng.randint(0, 600)
        )

    # --- a plan ---------------------------------------------------------------------------

    def plan(
        self,
        *,
        source: str | None = None,
        category: Category | None = None,
        reported_at: dt.datetime | None = None,
        target: str | None = None,
        reworks: int | None = None,
        by_phone: bool | None = None,
        street: str | None = None,
        whole: bool = False,
        self_handled: bool | None = None,
    ) -> Plan:
        """Plans a case; each argument given forces that part (the coverage pass uses them).
        The steps after now are left out unless `whole`."""
        rng = self.rng
        source = source or _pick(rng, SOURCES)
        category = category or _pick(rng, self.weights)
        key = (category.kind, category.code)
        curve = "night" if key in EVENING else "patrol" if source in DIRECT else "calls"
        reported_at = reported_at or self.report_time(curve)
        spot = self.places.sample(rng, category, key in COMMERCIAL, street)
        level = _pick(rng, {Level.ROUTINE: 85, Level.GENERAL: 10, Level.SERIOUS: 4.5})
        if key in EMERGENCIES:
            level = Level.MAJOR if rng.random() < 0.3 else Level.SERIOUS
        new = NewCase(
            source=source,
            category=category,
            description=self.texts.description(category, spot.address),
            lon=spot.lon,
            lat=spot.lat,
            level=Level.ROUTINE,
            urgent=key in EMERGENCIES,
            address=spot.address,
            component_code=spot.component_code,
            reporter=self.texts.reporter() if source in CALLERS else Reporter(),
        )
        if self_handled is None:
            self_handled = source == Source.INSPECTOR and rng.random() < SELF_HANDLED_SHARE
        if self_handled and source != Source.INSPECTOR:
            raise ValueError("only an inspector's report is self-handled")
        if target is None:
            target = self._open_target(self.now - reported_at)
            if source in DIRECT and target in (S.TO_VERIFY, S.VERIFYING):
                target = S.TO_REGISTER
            if self_handled and target in (S.REPORTED, S.SUPPLEMENTING):
                target = S.TO_REVIEW  # waits for the acceptor's review instead
        if reworks is None:
            reworks = _pick(rng, {0: 86, 1: 11, 2: 3})
        if by_phone is None:
            by_phone = source == Source.HOTLINE and rng.random() < 0.12
        if self_handled:
            steps = self._self_handled(new, spot.street_code, reported_at, target, level, reworks)
        else:
            steps = self._steps(
                new, spot.street_code, reported_at, target, level, reworks, by_phone
            )
        steps = self._cut(steps, target, self.now if not whole else None)
        return Plan(new, spot.street_code, steps, target, self_handled)

    def _open_target(self, age: dt.timedelta) -> str:
        days = age.total_seconds() / 86400
        chance, states = next((p, s) for limit, p, s in OPEN_BY_AGE if days < limit)
        if self.rng.random() >= chance:
            return CLOSED_END
        return _pick(self.rng, states)

    def _steps(self, new, street, t, target, level, reworks, by_phone) -> list[Step]:
        """The steps of a case's whole life towards `target` (`CLOSED_END`: as it comes)."""
        verified = new.source not in DIRECT
        reporter = self.people.inspector(street) if not verified else "acceptor"
        verifier = "acceptor" if by_phone else self.people.inspector(street)
        checker = reporter if not verified else self.people.inspector(street)
        life = _Life(reporter, t)
        natural = target == CLOSED_END
        if not self._accepted(life, target, natural, verified, street):
            return life.steps
        if verified and not self._verified(life, target, natural, verifier, by_phone):
            return life.steps
        if not self._registered(life, new, target, natural, level):
            return life.steps
        self._handled(life, new, level, reworks, checker)
        return life.steps

    def _self_handled(self, new, street, t, target, level, reworks) -> list[Step]:
        """自行处置: the inspector's report waits for review; mostly archived, else sent to
        registration and run as any case from there."""
        say, reporter = self.texts.say, self.people.inspector(street)
        life = _Life(reporter, t, S.TO_REVIEW)
        archived = target in (CLOSED_END, S.CLOSED, S.TO_REVIEW) and (
            self.rng.random() < ARCHIVED_SHARE
        )
        if archived:
            life.add("archive", "acceptor", self.centre(life.t, 12), S.CLOSED, say("archive"))
            return life.steps
        when = self.centre(life.t, 12)
        life.add("send_to_register", "acceptor", when, S.TO_REGISTER, say("send_to_register"))
        natural = target == CLOSED_END
        if self._registered(life, new, target, natural, level):
            self._handled(life, new, level, reworks, reporter)
        return life.steps

    def _supplemented(self, life: _Life, street: str) -> None:
        """补采: the acceptor asks the street's inspector for more; answered in the field."""
        inspector = self.people.inspector(street)
        user = self.people.user_id(inspector)
        say = self.texts.say
        when = self.centre(life.t, 6)
        opinion = say("request_supplement")
        life.add("request_supplement", "acceptor", when, S.SUPPLEMENTING, opinion, inspector=user)
        life.add("supplement", inspector, self.field(life.t, 40), S.REPORTED, say("supplement"))

    def _accepted(self, life: _Life, target: str, natural: bool, verified: bool, street) -> bool:
        """受理: now and then after a supplementary collection (补采), now and then refused
        (and sometimes restored after all)."""
        say = self.texts.say
        if target == S.SUPPLEMENTING or (natural and self.rng.random() < SUPPLEMENT_SHARE):
            self._supplemented(life, street)
        if target == S.NOT_ACCEPTED or (natural and self.rng.random() < 0.04):
            opinion = say("not_accept")
            life.add("not_accept", "acceptor", self.centre(life.t, 10), S.NOT_ACCEPTED, opinion)
            if target == S.NOT_ACCEPTED or self.rng.random() < 0.75:
                return False
            life.add("restore", "acceptor", self.centre(life.t, 60), S.REPORTED)
        after = S.TO_VERIFY if verified else S.TO_REGISTER
        life.add("accept", "acceptor", self.centre(life.t, 8), after, say("accept"))
        return True

    def _verified(self, life, target, natural, verifier: str, by_phone: bool) -> bool:
        """核实: by the street's inspector in the field, or by the acceptor calling back."""
        user = self.people.user_id(verifier)
        when = self.centre(life.t, 6)
        life.add("request_verify", "acceptor", when, S.VERIFYING, inspector=user)
        valid = target != S.INVALID and not (natural and self.rng.random() < 0.08)
        when = self.centre(life.t, 20) if by_phone else self.field(life.t, 50)
        state = S.TO_REGISTER if valid else S.INVALID
        opinion = self.texts.say("verify", valid, by_phone)
        life.add("verify", verifier, when, state, opinion, result=valid)
        return valid

    def _registered(self, life, new: NewCase, target, natural, level: str) -> bool:
        """立案 under one of the class's conditions (or not), then 派遣 as the manual says."""
        say = self.texts.say
        if target == S.NOT_REGISTERED or (natural and self.rng.random() < 0.03):
            opinion = say("not_register")
            life.add(
                "not_register", "shiftleader", self.centre(life.t, 12), S.NOT_REGISTERED, opinion
            )
            return False
        condition = self.rng.choice(self.conditions[(new.category.pk, Condition.Kind.REGISTER)])
        args = {"condition": condition, "level": level, "opinion": say("register")}
        life.add("register", "shiftleader", self.centre(life.t, 10), S.TO_DISPATCH, **args)
        life.add("dispatch", "dispatcher", self.centre(life.t, 8), S.HANDLING, say("dispatch"))
        return True

    def _handled(self, life, new: NewCase, level: str, reworks: int, checker: str) -> None:
        """处置, 核查 and 结案, with `reworks` failed checks sent back first."""
        say, checker_id = self.texts.say, self.people.user_id(checker)
        for round_ in range(reworks + 1):
            passed = round_ == reworks
            when = self.handled(life.t, new.category, level)
            life.add("feedback", "handler", when, S.TO_CHECK, self.texts.feedback(new.category))
            when = self.centre(life.t, 10)
            life.add("request_check", "acceptor", when, S.CHECKING, inspector=checker_id)
            when = self.field(life.t, 60)
            life.add("check", checker, when, S.TO_CLOSE, say("check", passed), result=passed)
            if not passed:
                life.add(
                    "rework", "shiftleader", self.centre(life.t, 15), S.HANDLING, say("rework")
                )
        closures = self.conditions.get((new.category.pk, Condition.Kind.CLOSE), [None])
        args = {"condition": self.rng.choice(closures), "opinion": say("close")}
        life.add("close", "shiftleader", self.centre(life.t, 15), S.CLOSED, **args)

    @staticmethod
    def _cut(steps: list[Step], target: str, now: dt.datetime | None) -> list[Step]:
        """The steps up to the first arrival in an open `target`, and none after `now`."""
        for i, step in enumerate(steps):
            if step.state == target and target not in deadlines.FINISHED:
                steps = steps[: i + 1]
                break
        return [s for s in steps if now is None or s.at <= now] or steps[:1]
