"""Automatic assignment of incoming cases to acceptors (案件智能分配, spec 5.2.5).

A case waiting in an acceptor's stage — 待受理, 待核实 or 自行处置 review
(`ACCEPTOR_STATES`) — with no acceptor is *waiting*. The acceptors who take assigned cases
have an `AcceptorSeat` with ``auto_assign``; those on duty share the waiting cases under the
rules' `CaseRules.assignment_mode`:

* ``balanced`` (平均分派): each case to the seat holding the fewest cases, up to its maximum
  load — whoever finishes first gets the next one;
* ``sequential`` (顺序分派): the seats in their order, one case each in turn, skipping full
  seats (the turn survives between rounds in `CaseRules.assignment_cursor`);
* ``off``: nobody is assigned; every acceptor sees every case of their areas.

Urgent cases go first, then the classes listed in `CaseRules.assignment_first`, then the
oldest. A seat only gets cases its person sees (their areas, through `cases.visibility`).
A seat's load counts its cases in the acceptor stages except those that came back to it: a
case returning to 待受理 (the inspector's supplement, a restored report) goes back to the
acceptor who had it when `CaseRules.returned_to_acceptor` is set and they are on duty, and is
not counted (``acceptor_returned``). Going off duty (交班) hands the person's cases back to the
waiting ones, which the others on duty then get.

A round (`do_assign_waiting`) runs after the commit of every report and every transition that
frees or fills a seat, when someone goes on duty, and every minute from beat as a safety net.
Rounds wait for each other (a transaction advisory lock), and each assignment is an event of
the case (``assign``) with the acceptor and the mode; the acceptor is told.

With assignment on, an acceptor with a seat sees only their own cases in 待受理, 待核实 and
自行处置 (`own_only`); the shift leaders see the waiting ones in 待分配 and assign by hand.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Case as Conditional
from django.db.models import Count, IntegerField, Q, Value, When
from django.utils import timezone

from accounts import permissions as perms
from accounts.oplog import action
from accounts.scoping import Scope, scope_for_user, system_scope
from core.errors import BadInput, Conflict, NotFound

from . import visibility
from .models import AcceptorSeat, Case, CaseRules, State

log = logging.getLogger(__name__)

ACCEPTOR_STATES = (State.REPORTED, State.TO_VERIFY, State.TO_REVIEW)
MODES = {"off": "不自动分派", "sequential": "顺序分派", "balanced": "平均分派"}
ROUND_LIMIT = 500  # cases one round assigns at most; the next round takes the rest
_LOCK = "cases.assignment"


def own_only(scope: Scope) -> bool:
    """Whether the caller's acceptor boxes hold only the cases assigned to them: assignment
    is on and they have a seat taking assigned cases."""
    if scope.user is None or scope.sees_everything:
        return False
    if not AcceptorSeat.objects.filter(user_id=scope.user.pk, auto_assign=True).exists():
        return False
    return CaseRules.current().assignment_mode != "off"


def waiting() -> Q:
    """The cases waiting for an acceptor."""
    return Q(state__in=ACCEPTOR_STATES, acceptor__isnull=True)


def loads(user_ids: list[int]) -> dict[int, int]:
    """Each acceptor's load: their cases in the acceptor stages, less those that came back."""
    counted = (
        Case.objects.filter(
            acceptor_id__in=user_ids, state__in=ACCEPTOR_STATES, acceptor_returned=False
        )
        .order_by()
        .values_list("acceptor_id")
        .annotate(n=Count("pk"))
    )
    found = dict(counted)
    return {user_id: found.get(user_id, 0) for user_id in user_ids}


def _first(first_ids: set[int]) -> Conditional:
    """1 for a case of a class assigned first (or of a minor class of one), else 0."""
    return Conditional(
        When(Q(category_id__in=first_ids) | Q(category__parent_id__in=first_ids), then=Value(1)),
        default=Value(0),
        output_field=IntegerField(),
    )


def _event(scope: Scope, case: Case, name: str, at: dt.datetime, details: dict) -> None:
    from .actions import record_event as case_event

    case_event(scope, case, name, case.state, case.state, at, details=details)


def _name(user) -> str:
    person = getattr(user, "person", None)
    return person.name if person is not None else user.get_username()


def _give(scope, case: Case, user, mode: str, at: dt.datetime, manual: bool = False) -> None:
    case.acceptor = user
    case.acceptor_returned = False
    case.save(update_fields=["acceptor", "acceptor_returned", "updated_at"])
    details = {"acceptor": user.pk, "acceptor_name": _name(user), "mode": mode}
    if manual:
        details["manual"] = True
    _event(scope, case, "assign", at, details)


@action("cases.assign_waiting", permission=perms.CASES_REGISTER)
def do_assign_waiting(scope: Scope, *, at: dt.datetime | None = None) -> list[tuple[int, int]]:
    """One round: gives the waiting cases to the acceptors on duty under the rules' mode, up
    to their maximum loads; gives (case id, user id) of each assignment."""
    at = at or timezone.now()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [_LOCK])
    current = CaseRules.objects.select_for_update().get_or_create(pk=1)[0]
    mode = current.assignment_mode
    if mode == "off":
        return []
    seats = list(
        AcceptorSeat.objects.filter(auto_assign=True, on_duty=True, user__is_active=True)
        .select_related("user", "user__person")
        .order_by("position", "user_id")
    )
    if not seats:
        return []
    load = loads([s.user_id for s in seats])
    room = {s.user_id: (s.max_load or current.acceptor_max_load) - load[s.user_id] for s in seats}
    free = sum(max(0, n) for n in room.values())
    if free <= 0:
        return []
    first_ids = set(current.assignment_first.values_list("pk", flat=True))
    candidates = list(
        Case.objects.filter(waiting())
        .annotate(first=_first(first_ids))
        .order_by("-urgent", "-first", "reported_at", "pk")
        .select_for_update(of=("self",), skip_locked=True)[: min(free * 4, ROUND_LIMIT)]
    )
    if not candidates:
        return []
    ids = [c.pk for c in candidates]
    # Which waiting cases each seat's person sees (their areas): one query per seat.
    sees = {
        s.user_id: set(
            visibility.visible_cases(scope_for_user(s.user))
            .filter(pk__in=ids)
            .values_list("pk", flat=True)
        )
        for s in seats
    }
    order = [s.user_id for s in seats]
    users = {s.user_id: s.user for s in seats}
    cursor_at = current.assignment_cursor
    made = []
    for case in candidates:
        able = [u for u in order if room[u] > 0 and case.pk in sees[u]]
        if not able:
            continue
        if mode == "balanced":
            chosen = min(able, key=lambda u: (load[u], order.index(u)))
        else:  # sequential: the first able seat after the last one served
            after = [u for u in able if order.index(u) > _index(order, cursor_at)]
            chosen = after[0] if after else able[0]
            cursor_at = chosen
        room[chosen] -= 1
        load[chosen] += 1
        _give(scope, case, users[chosen], mode, at)
        made.append((case.pk, chosen))
        if not any(n > 0 for n in room.values()):
            break
    if mode == "sequential" and cursor_at != current.assignment_cursor:
        current.assignment_cursor = cursor_at
        current.save(update_fields=["assignment_cursor"])
    return made


def _index(order: list[int], user_id: int) -> int:
    return order.index(user_id) if user_id in order else -1


def run_round() -> int:
    """A round as the system actor when there is work for one; gives the assignments made."""
    if not Case.objects.filter(waiting()).exists():
        return 0
    if not AcceptorSeat.objects.filter(auto_assign=True, on_duty=True).exists():
        return 0
    return len(do_assign_waiting(system_scope("cases.assignment")))


def _round_after_commit() -> None:
    try:
        run_round()
    except Exception:  # the caller's work is committed; beat's next round tries again
        log.exception("automatic assignment round failed")


def after_report(case: Case) -> None:
    """Called by the report's write: a new case waiting for an acceptor starts a round after
    the commit."""
    if case.state in ACCEPTOR_STATES:
        transaction.on_commit(_round_after_commit)


def after_transition(case: Case, source: str) -> None:
    """Called by every transition before the case is saved: a case coming back into the
    acceptor stages returns to its acceptor (outside their load) or waits; one leaving them
    frees a seat. Either way a round follows the commit."""
    entering = case.state in ACCEPTOR_STATES and source not in ACCEPTOR_STATES
    leaving = source in ACCEPTOR_STATES and case.state not in ACCEPTOR_STATES
    if entering:
        keep = (
            case.acceptor_id is not None
            and CaseRules.current().returned_to_acceptor
            and AcceptorSeat.objects.filter(user_id=case.acceptor_id, on_duty=True).exists()
        )
        if keep:
            case.acceptor_returned = True
        else:
            case.acceptor = None
            case.acceptor_returned = False
    if entering or leaving:
        transaction.on_commit(_round_after_commit)


# ---------------------------------------------------------------------------------------------
# People's actions: duty, hand-over, assigning by hand, the seats and the rules


def _seat_of(scope: Scope) -> AcceptorSeat:
    seat = AcceptorSeat.objects.select_for_update().filter(user_id=scope.user.pk).first()
    if seat is None:
        raise NotFound("you have no acceptor seat (受理席位): ask your shift leader", field="seat")
    return seat


@action("cases.duty", permission=perms.CASES_ACCEPT)
def do_set_duty(scope: Scope, *, on_duty: bool, at: dt.datetime | None = None) -> dict:
    """Goes on duty (上岗: assigned cases start coming) or hands over (交班): the person's
    cases in the acceptor stages go back to the waiting ones, for the others on duty. Gives
    the seat and how many cases were handed back."""
    at = at or timezone.now()
    seat = _seat_of(scope)
    handed = 0
    if on_duty and not seat.on_duty:
        seat.on_duty, seat.on_duty_since = True, at
        seat.save(update_fields=["on_duty", "on_duty_since"])
    elif not on_duty and seat.on_duty:
        seat.on_duty, seat.on_duty_since = False, None
        seat.save(update_fields=["on_duty", "on_duty_since"])
        mine = Case.objects.select_for_update().filter(
            acceptor_id=scope.user.pk, state__in=ACCEPTOR_STATES
        )
        for case in mine:
            case.acceptor, case.acceptor_returned = None, False
            case.save(update_fields=["acceptor", "acceptor_returned", "updated_at"])
            _event(scope, case, "hand_over", at, {"acceptor": scope.user.pk})
            handed += 1
    transaction.on_commit(_round_after_commit)
    return {"seat": seat_view(seat), "handed_over": handed}


@action("cases.assign", permission=perms.CASES_REGISTER, target=lambda case_id, **_: case_id)
def do_assign_case(
    scope: Scope, case_id, *, acceptor_id: int, version: int | None, at=None
) -> Case:
    """Assigns a case by hand (人工分派) to an acceptor who sees it, or moves it to another;
    the case must be in an acceptor stage."""
    at = at or timezone.now()
    case = visibility.get_visible(scope, case_id, for_update=True)
    if version is None:
        raise BadInput("give the version of the case you acted on", field="version")
    if version != case.version:
        raise Conflict(
            f"the case changed meanwhile: it is now version {case.version}",
            current={"state": case.state, "version": case.version},
        )
    if case.state not in ACCEPTOR_STATES:
        raise Conflict(
            f"only a case waiting for an acceptor is assigned; it is {State(case.state).label}",
            current={"state": case.state, "version": case.version},
        )
    user = get_user_model().objects.filter(pk=acceptor_id, is_active=True).first()
    if user is None:
        raise BadInput(f"no active user {acceptor_id}", field="acceptor")
    theirs = scope_for_user(user)
    if not theirs.has_perm(perms.CASES_ACCEPT):
        raise BadInput("that person's position does not accept cases", field="acceptor")
    if not visibility.visible_cases(theirs).filter(pk=case.pk).exists():
        raise BadInput("the case lies outside that acceptor's areas", field="acceptor")
    _give(scope, case, user, CaseRules.current().assignment_mode, at, manual=True)
    return case


def seat_view(seat: AcceptorSeat, load: int | None = None) -> dict:
    person = getattr(seat.user, "person", None)
    return {
        "user": seat.user_id,
        "username": seat.user.get_username(),
        "name": person.name if person is not None else seat.user.get_username(),
        "auto_assign": seat.auto_assign,
        "position": seat.position,
        "max_load": seat.max_load,
        "on_duty": seat.on_duty,
        "on_duty_since": seat.on_duty_since,
        **({"load": load} if load is not None else {}),
    }


def my_seat(scope: Scope) -> dict:
    """The caller's seat with their load; NotFound without one."""
    seat = AcceptorSeat.objects.select_related("user", "user__person").filter(user_id=scope.user.pk)
    found = seat.first()
    if found is None:
        raise NotFound("you have no acceptor seat (受理席位)", field="seat")
    return seat_view(found, loads([found.user_id])[found.user_id])


def seats() -> list[dict]:
    """Every seat with its person's current load."""
    rows = list(AcceptorSeat.objects.select_related("user", "user__person"))
    load = loads([s.user_id for s in rows])
    return [seat_view(s, load[s.user_id]) for s in rows]


@action("cases.seat", permission=perms.CASES_REGISTER, target=lambda user_id, **_: user_id)
def do_save_seat(
    scope: Scope,
    user_id: int,
    *,
    auto_assign: bool = True,
    position: int = 0,
    max_load: int | None = None,
) -> AcceptorSeat:
    """Creates or changes the seat of an acceptor (设置自动分派的用户, 最大接收数量)."""
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise NotFound(f"no active user {user_id}", field="user")
    if not scope_for_user(user).has_perm(perms.CASES_ACCEPT):
        raise BadInput("that person's position does not accept cases", field="user")
    if max_load is not None and not 1 <= max_load <= 1000:
        raise BadInput("a maximum load is between 1 and 1000", field="max_load")
    if not 0 <= position <= 10000:
        raise BadInput("a position is between 0 and 10000", field="position")
    seat, _ = AcceptorSeat.objects.select_for_update().get_or_create(user=user)
    seat.auto_assign, seat.position, seat.max_load = auto_assign, position, max_load
    seat.save()
    transaction.on_commit(_round_after_commit)
    return seat


@action("cases.assignment_rules", permission=perms.CASES_REGISTER)
def do_save_assignment_rules(
    scope: Scope,
    *,
    mode: str,
    max_load: int,
    returned_to_acceptor: bool,
    first: list | None = None,
) -> CaseRules:
    """Sets the assignment mode, the default maximum load, where returned cases go and the
    classes assigned first (待分派案件优先级)."""
    if mode not in MODES:
        raise BadInput(f"mode is one of {', '.join(MODES)}", field="mode")
    if not 1 <= max_load <= 1000:
        raise BadInput("a maximum load is between 1 and 1000", field="max_load")
    current = CaseRules.objects.select_for_update().get_or_create(pk=1)[0]
    current.assignment_mode = mode
    current.acceptor_max_load = max_load
    current.returned_to_acceptor = returned_to_acceptor
    current.save()
    if first is not None:
        current.assignment_first.set(first)
    transaction.on_commit(_round_after_commit)
    return current


def rules_view(current: CaseRules) -> dict:
    return {
        "mode": current.assignment_mode,
        "mode_name": MODES[current.assignment_mode],
        "max_load": current.acceptor_max_load,
        "returned_to_acceptor": current.returned_to_acceptor,
        "first": sorted(current.assignment_first.values_list("code", flat=True)),
    }
