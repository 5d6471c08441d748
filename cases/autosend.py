"""Automatic verification and check tasks (自动派发核实/核查, spec 5.3.1-5.3.2).

When a case enters 待核实 (`to_verify`) or 待核查 (`to_check`), the active `AutoTaskRule` of
that kind with the lowest priority that matches it (`matches`: its sources, classes, levels,
urgency, areas and local hours — typed data compared field by field, never a query an
administrator wrote) decides; no rule matches, the centre sends the task by hand. The action's
after-commit hook (`schedule`, called by every transition) then sends the task, as the system
actor ``cases.autosend``, through the case's own action (`request_verify` /
`request_check`):

* target ``nearest``: to the reporting inspector when they are online (an inspector's own
  report), else to the online inspector nearest by road among those whose areas hold the case
  (its responsibility grid's, `actions.inspectors_covering`). Who is online and where is
  tracking's knowledge, asked through the kernel registry `core.presence`.
* target ``pool``: into the task pool (任务池) of the case's responsibility grid, where the
  grid's inspectors see it and the first to claim it (`do_claim_task`) takes it.

Nobody online (target ``nearest``): the rule's `none_online` puts the task into the grid's
pool, or leaves the case in the centre's box with a notice to its acceptors (无在线监督员).

The hook runs after the transition's transaction commits, in its own transaction; a case that
moved meanwhile (another version) is left alone, and a failure is logged, never the caller's.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.utils import timezone

from accounts import permissions as perms
from accounts.models import Person
from accounts.oplog import action
from accounts.scoping import Scope, scope_for_user, system_scope
from core import presence
from core.errors import BadInput, NotFound
from data.models import Category

from .models import AutoTaskRule, Case, Notification, Source, State
from .report_rules import in_windows

log = logging.getLogger(__name__)
TASK_OF_STATE = {
    State.TO_VERIFY: ("verify", "request_verify", "核实"),
    State.TO_CHECK: ("check", "request_check", "核查"),
}


def matches(rule: AutoTaskRule, case: Case, local: dt.time, category_ids: set[int]) -> bool:
    """Whether `rule` applies to `case` at local time `local`; `category_ids` are the rule's
    classes (a major covers its minors)."""
    if rule.sources and case.source not in rule.sources:
        return False
    if category_ids and not (
        case.category_id in category_ids or case.category.parent_id in category_ids
    ):
        return False
    if rule.levels and case.level not in rule.levels:
        return False
    if rule.urgent_only and not case.urgent:
        return False
    if rule.area_codes:
        codes = {case.district_code, case.street_code, case.community_code} - {""}
        if not codes & set(rule.area_codes):
            return False
    return in_windows(local, rule.hours)


def rule_for(case: Case, kind: str, now: dt.datetime | None = None) -> AutoTaskRule | None:
    """The rule that decides the case's automatic `kind` task now, or None."""
    local = timezone.localtime(now or timezone.now()).time()
    rules = AutoTaskRule.objects.filter(kind=kind, active=True).prefetch_related("categories")
    for rule in rules.order_by("priority", "pk"):
        if matches(rule, case, local, {c.pk for c in rule.categories.all()}):
            return rule
    return None


def schedule(case: Case) -> None:
    """Sends the case's task after the commit when its new state asks for an automatic one."""
    task = TASK_OF_STATE.get(case.state)
    if task is None:
        return
    rule = rule_for(case, task[0])
    if rule is None:
        return  # no rule sends this one: the centre does
    case_id, version, rule_id = case.pk, case.version, rule.pk
    transaction.on_commit(lambda: send(case_id, version, rule_id), robust=True)


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


def send(case_id: int, version: int, rule_id: int) -> Case | None:
    """Sends the task of case `case_id` under rule `rule_id` if the case still waits at
    `version`; gives the case after the task, or None (moved meanwhile, or nobody online and
    no pool: the centre told)."""
    from .actions import TRANSITIONS

    with transaction.atomic():
        case = Case.objects.select_related("reported_by").filter(pk=case_id).first()
        if case is None or case.version != version or case.state not in TASK_OF_STATE:
            return None
        rule = AutoTaskRule.objects.filter(pk=rule_id).first()
        if rule is None:
            return None
        kind, action_name, label = TASK_OF_STATE[case.state]
        run = TRANSITIONS[action_name]
        scope = system_scope("cases.autosend")
        to_pool = rule.target == AutoTaskRule.Target.POOL
        if not to_pool:
            user, why = choose(case)
            if user is not None:
                return run(
                    scope,
                    case.pk,
                    version=version,
                    inspector=user,
                    opinion=f"自动派发{label}：{why}",
                )
            to_pool = rule.none_online == AutoTaskRule.NoneOnline.POOL
        if to_pool and case.grid_code:
            return run(
                scope,
                case.pk,
                version=version,
                pool=True,
                opinion=f"自动派发{label}：放入{case.grid_name or case.grid_code}任务池（{rule.name}）",
            )
        _tell_centre(case, label)
        return None


# ---------------------------------------------------------------------------------------------
# The rules, written by the centre


def _categories(codes: list[str]) -> list[Category]:
    found = {c.code: c for c in Category.objects.filter(code__in=codes)}
    missing = [code for code in codes if code not in found]
    if missing:
        raise BadInput(f"no class {', '.join(missing)}", field="categories")
    return [found[code] for code in codes]


@action("cases.auto_task_rule", permission=perms.CASES_REGISTER)
def do_save_auto_task_rule(scope: Scope, rule_id: int | None, data: dict) -> AutoTaskRule:
    """Creates (`rule_id` None) or replaces a rule of automatic tasks."""
    categories = _categories(data["categories"])
    if rule_id is None:
        rule = AutoTaskRule()
    else:
        rule = AutoTaskRule.objects.select_for_update().filter(pk=rule_id).first()
        if rule is None:
            raise NotFound(f"no rule {rule_id}", field="rule")
    for field in ("name", "kind", "active", "priority", "sources", "levels", "urgent_only"):
        setattr(rule, field, data[field])
    rule.area_codes, rule.hours = data["area_codes"], data["hours"]
    rule.target, rule.none_online = data["target"], data["none_online"]
    rule.save()
    rule.categories.set(categories)
    return rule


@action("cases.auto_task_rule_delete", permission=perms.CASES_REGISTER)
def do_delete_auto_task_rule(scope: Scope, rule_id: int) -> None:
    deleted, _ = AutoTaskRule.objects.filter(pk=rule_id).delete()
    if not deleted:
        raise NotFound(f"no rule {rule_id}", field="rule")
