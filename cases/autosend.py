"""Automatic verification and check tasks (自动派发核实/核查, spec 5.3.1-5.3.2).

When a case enters 待核实 (`to_verify`) or 待核查 (`to_check`), its kind is in
`CASES_AUTO_TASKS` and the local time lies in `CASES_AUTO_TASKS_HOURS` (all day when empty), the
action's after-commit hook (`schedule`, called by every transition) sends the task, as the
system actor ``cases.autosend``, through the case's own action
(`request_verify` / `request_check`): to the reporting inspector when they are online (an
inspector's own report), else to the online inspector nearest by road among those whose areas
hold the case (its responsibility grid's, `actions.inspectors_covering`). Who is online and
where is tracking's knowledge, asked through the kernel registry `core.presence`. Nobody online:
the case stays in the centre's box and its acceptors get a notice (无在线监督员).

The hook runs after the transition's transaction commits, in its own transaction; a case that
moved meanwhile (another version) is left alone, and a failure is logged, never the caller's.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts import permissions as perms
from accounts.models import Person
from accounts.scoping import scope_for_user, system_scope
from core import presence

from .models import Case, Notification, Source, State
from .report_rules import in_windows

log = logging.getLogger(__name__)
TASK_OF_STATE = {
    State.TO_VERIFY: ("verify", "request_verify", "核实"),
    State.TO_CHECK: ("check", "request_check", "核查"),
}


def schedule(case: Case) -> None:
    """Sends the case's task after the commit when its new state asks for an automatic one."""
    task = TASK_OF_STATE.get(case.state)
    if task is None or task[0] not in settings.CASES_AUTO_TASKS:
        return
    if not in_windows(timezone.localtime().time(), settings.CASES_AUTO_TASKS_HOURS):
        return  # outside the hours of automatic sending: the centre sends it
    case_id, version = case.pk, case.version
    transaction.on_commit(lambda: send(case_id, version), robust=True)


def _reporting_inspector(case: Case) -> int | None:
    if case.source != Source.INSPECTOR or case.reported_by_id is None:
        return None
    reporter = scope_for_user(case.reported_by)
    if reporter.has_perm(perms.CASES_REPORT) and not reporter.has_perm(perms.CASES_ACCEPT):
        return case.reported_by_id
    return None


def choose(case: Case) -> tuple[int | None, str]:
    """Gives (the user to send, why) or (None, "") when no candidate is online."""
    lon, lat = case.geom.x, case.geom.y
    reporter = _reporting_inspector(case)
    if reporter is not None and presence.nearest_online(lon, lat, [reporter]) is not None:
        return reporter, "上报监督员在线"
    from .actions import inspectors_covering

    grid = list(inspectors_covering(case).values_list("user_id", flat=True))
    found = presence.nearest_online(lon, lat, grid)
    return (found, "责任网格内最近的在线监督员") if found is not None else (None, "")


def _tell_centre(case: Case, what: str) -> int:
    """Notices to the acceptors whose areas hold the case: nobody took the task."""
    codes = [c for c in (case.district_code, case.street_code, case.community_code) if c]
    people = Person.objects.filter(
        user__is_active=True, positions__permissions__contains=[perms.CASES_ACCEPT]
    ).filter(admin_areas__code__in=codes)
    users = sorted(set(people.values_list("user_id", flat=True)))
    now = timezone.now()
    Notification.objects.bulk_create(
        Notification(
            recipient_id=user,
            case=case,
            kind=Notification.Kind.ARRIVAL,
            title=f"无在线监督员 {case.number}",
            body=f"{what}任务未能自动派发，请人工派发",
            created_at=now,
        )
        for user in users
    )
    return len(users)


def send(case_id: int, version: int) -> Case | None:
    """Sends the task of case `case_id` if it still waits at `version`; gives the case after
    the task, or None (moved meanwhile, or nobody online: the centre told)."""
    from .actions import TRANSITIONS

    with transaction.atomic():
        case = Case.objects.select_related("reported_by").filter(pk=case_id).first()
        if case is None or case.version != version or case.state not in TASK_OF_STATE:
            return None
        kind, action_name, label = TASK_OF_STATE[case.state]
        user, why = choose(case)
        if user is None:
            _tell_centre(case, label)
            return None
        run = TRANSITIONS[action_name]
        return run(
            system_scope("cases.autosend"),
            case.pk,
            version=version,
            inspector=user,
            opinion=f"自动派发{label}：{why}",
        )
