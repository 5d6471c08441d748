"""Notifications (通知) of case events: who hears of which event, the outbox rows, their delivery.

`notify` runs inside `cases.actions.record_event`, so a notice is written in the transaction of the
`CaseEvent` that causes it (a rolled-back action writes none) and the worker is woken once that
transaction commits. `RULES` says who hears of what: the handling department's handlers (处置
人员) of a dispatch, a rework or an approved transfer; the task's inspector of a verification,
check or supplementary collection (补采) request, and the asker of its answer; an applicant
of the answer to their application; the handling department's handlers of a supervision
(督办); a public or hotline reporter who asked for a callback, by text message (短信), when the
case closes. A reporter's phone and the message sent to it live only in rows without a
recipient, which no person's list shows.

Delivery (`deliver_due`, the Celery task ``cases.deliver_notifications``, woken after commit
and swept by beat every 30 s) claims one undelivered row at a time with
``SELECT … FOR UPDATE SKIP LOCKED``, sends it through its channel's sender and sets `sent_at`
in the claim's transaction. A worker killed mid-delivery rolls its claim back and another
worker delivers the row, once: exactly once as far as the row goes. A real SMS gateway is
at-least-once at one edge: a worker killed after the gateway accepted a message and before
the commit sends it again on the next delivery (a gateway that takes an idempotency key, e.g.
the row id, closes that gap). A sender's error is recorded (`attempts`, `last_error`) and the
row tried again after a doubling wait, up to ``CITYGRID_NOTIFY_MAX_ATTEMPTS`` tries.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

from celery import current_app
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string

from accounts import permissions as perms
from accounts.oplog import action
from accounts.scoping import Scope
from core import events
from core.errors import BadInput

from .models import (
    Application,
    ApplicationKind,
    Case,
    CaseEvent,
    Notification,
    Source,
)

log = logging.getLogger(__name__)

TASK = "cases.deliver_notifications"
Kind = Notification.Kind
Channel = Notification.Channel


# ---------------------------------------------------------------------------------------------
# Who hears of what


@dataclass(frozen=True)
class Rule:
    """One notice an event gives: its kind, to whom (a key of `RECIPIENTS`), its title (with
    ``{number}`` and ``{label}``) and channel."""

    kind: str
    to: str
    title: str
    channel: str = Channel.APP


_ANSWERS = {
    f"{verb}_{kind}": (Rule(Kind.APPLICATION, "applicant", f"{{label}}{said} {{number}}"),)
    for kind in ApplicationKind.values
    for verb, said in (("approve", "已同意"), ("deny", "未同意"))
}

RULES: dict[str, tuple[Rule, ...]] = {
    **_ANSWERS,
    "dispatch": (
        Rule(Kind.ARRIVAL, "department", "新派遣案件 {number}"),
        Rule(Kind.ARRIVAL, "assisting", "协办案件 {number}"),
    ),
    "redispatch": (Rule(Kind.ARRIVAL, "department", "改派案件 {number}"),),
    "rework": (Rule(Kind.ARRIVAL, "department", "返工案件 {number}"),),
    "approve_transfer": (
        Rule(Kind.ARRIVAL, "department", "转办案件 {number}"),
        *_ANSWERS["approve_transfer"],
    ),
    "request_verify": (
        Rule(Kind.ARRIVAL, "inspector", "核实任务 {number}"),
        Rule(Kind.ARRIVAL, "pool", "任务池新核实任务 {number}"),
    ),
    "request_check": (
        Rule(Kind.ARRIVAL, "inspector", "核查任务 {number}"),
        Rule(Kind.ARRIVAL, "pool", "任务池新核查任务 {number}"),
    ),
    "request_supplement": (Rule(Kind.ARRIVAL, "inspector", "补采任务 {number}"),),
    "supplement": (Rule(Kind.ARRIVAL, "asker", "补采已上报 {number}"),),
    "assign": (Rule(Kind.ARRIVAL, "acceptor", "分派案件 {number}"),),
    "close": (Rule(Kind.CALLBACK, "reporter", "案件办结 {number}", Channel.SMS),),
    "supervise": (Rule(Kind.SUPERVISION, "department", "督办案件 {number}"),),
}

CALLBACK_SOURCES = (Source.PUBLIC, Source.HOTLINE)
CALLBACK_TEXT = "【城市运行管理服务平台】您反映的问题（任务号{number}）已办结，感谢您的监督与支持。"


def _handlers(case: Case, event: CaseEvent, key: str = "departments") -> list[int]:
    """The active handlers (处置人员) of the case's department, or of the departments the
    event's details name under `key` (a parallel dispatch or rework, 并行派遣)."""
    from accounts.models import Person

    codes = event.details.get(key)
    if codes:
        departments = Q(department__code__in=codes)
    elif key != "departments" or case.department_id is None:
        return []
    else:
        departments = Q(department_id=case.department_id)
    return list(
        Person.objects.filter(
            departments,
            user__is_active=True,
            positions__permissions__contains=[perms.CASES_HANDLE],
        )
        .values_list("user_id", flat=True)
        .distinct()
        .order_by("user_id")
    )


def _inspector(case: Case, event: CaseEvent) -> list[int]:
    user_id = event.details.get("inspector_id")
    return [user_id] if user_id else []


def _applicant(case: Case, event: CaseEvent) -> list[int]:
    found = Application.objects.filter(pk=event.details.get("application") or 0)
    return [a for a in found.values_list("applicant_id", flat=True) if a]


def _asker(case: Case, event: CaseEvent) -> list[int]:
    """Who asked for the supplementary collection (补采) the event answers."""
    user_id = event.details.get("asker_id")
    return [user_id] if user_id else []


def _assisting(case: Case, event: CaseEvent) -> list[int]:
    """The handlers of the assisting departments (协办) named at dispatch."""
    return _handlers(case, event, "assisting")


def _acceptor(case: Case, event: CaseEvent) -> list[int]:
    """The acceptor a case was assigned to (cases.assignment)."""
    user_id = event.details.get("acceptor")
    return [user_id] if user_id else []


def _pool(case: Case, event: CaseEvent) -> list[int]:
    """The inspectors of the grid whose task pool (任务池) the event's task went to."""
    if not event.details.get("pool"):
        return []
    from .actions import inspectors_covering

    return [p.user_id for p in inspectors_covering(case)]


RECIPIENTS = {
    "acceptor": _acceptor,
    "pool": _pool,
    "department": _handlers,
    "assisting": _assisting,
    "inspector": _inspector,
    "applicant": _applicant,
    "asker": _asker,
}


def _body(case: Case, event: CaseEvent) -> str:
    where = case.address or case.street_name
    text = f"{case.category.name}，{where}" if where else case.category.name
    return f"{text}。意见：{event.opinion}" if event.opinion else text


def _label(event: CaseEvent) -> str:
    kind = event.action.split("_", 1)[-1]
    return ApplicationKind(kind).label if kind in ApplicationKind.values else ""


def _rows(case: Case, event: CaseEvent, rule: Rule) -> Iterator[Notification]:
    title = rule.title.format(number=case.number, label=_label(event))
    common = {"case": case, "event": event, "kind": rule.kind, "channel": rule.channel}
    if rule.to == "reporter":
        # The case's reporter, and those of the cases merged into it (案件合并, spec 5.3.3.6),
        # each by the number they know.
        for reported in (case, *Case.objects.filter(merged_into=case).order_by("pk")):
            wanted = reported.callback_wanted and reported.reporter_phone
            if wanted and reported.source in CALLBACK_SOURCES:
                yield Notification(
                    phone=reported.reporter_phone,
                    title=rule.title.format(number=reported.number, label=""),
                    body=CALLBACK_TEXT.format(number=reported.number),
                    created_at=event.at,
                    **{**common, "case": reported},
                )
        return
    body = _body(case, event)
    for user_id in RECIPIENTS[rule.to](case, event):
        if user_id != event.actor_id:  # nobody is told of what they did themselves
            yield Notification(
                recipient_id=user_id, title=title, body=body, created_at=event.at, **common
            )


def notify(case: Case, event: CaseEvent) -> list[Notification]:
    """Writes the notices `event` gives under `RULES`, in the caller's transaction, and wakes
    the delivery worker when it commits; gives the rows."""
    rows = [row for rule in RULES.get(event.action, ()) for row in _rows(case, event, rule)]
    if rows:
        Notification.objects.bulk_create(rows)
        _wake_after_commit()
    return rows


# ---------------------------------------------------------------------------------------------
# Deadline notices: beat's refresh moves cases into warning (预警) or overdue (超期)

# Who acts on a case waiting in a centre stage (the centre's people of the case's areas hear
# of its warning and deadline); the handling stage's are the department's handlers, a stage
# waiting on an inspector's task (verifying, checking, …) the task's inspector.
CENTRE_STAGES = {
    "reported": perms.CASES_ACCEPT,
    "to_review": perms.CASES_ACCEPT,  # a self-handled report (自行处置) waits for review
    "to_verify": perms.CASES_ACCEPT,
    "to_register": perms.CASES_REGISTER,
    "to_dispatch": perms.CASES_DISPATCH,
    "to_check": perms.CASES_ACCEPT,
    "to_close": perms.CASES_REGISTER,
}
DEADLINE_TITLES = {"warning": "案件预警", "overdue": "案件超期"}

_HOLDS = """EXISTS (
    SELECT 1 FROM accounts_person_positions pp
    JOIN accounts_position po ON po.id = pp.position_id
    WHERE pp.person_id = p.id AND po.permissions @> jsonb_build_array({permission}::text))"""

DEADLINE_SQL = f"""
WITH changed AS (
    SELECT c.id, c.number, c.state, c.department_id, c.deadline, ch.new,
           c.district_code, c.street_code, c.community_code, c.grid_code,
           cat.name || COALESCE('，' || NULLIF(COALESCE(NULLIF(c.address, ''), c.street_name), ''),
                                '') AS what
    FROM unnest(%(ids)s::bigint[], %(states)s::text[]) AS ch(id, new)
    JOIN cases_case c ON c.id = ch.id
    JOIN data_category cat ON cat.id = c.category_id
),
stage(state, permission) AS (
    SELECT * FROM unnest(%(stage_states)s::text[], %(stage_permissions)s::text[])
),
told(case_id, user_id) AS (
    SELECT ch.id, p.user_id FROM changed ch
    JOIN accounts_person p ON p.department_id = ch.department_id
    WHERE ch.state = 'handling' AND {_HOLDS.format(permission="%(handle)s")}
    UNION
    SELECT ch.id, p.user_id FROM changed ch
    JOIN stage s ON s.state = ch.state
    JOIN accounts_person p ON {_HOLDS.format(permission="s.permission")}
    WHERE EXISTS (
        SELECT 1 FROM accounts_person_admin_areas pa
        JOIN spatial_adminarea a ON a.id = pa.adminarea_id
        WHERE pa.person_id = p.id AND a.code IN (ch.district_code, ch.street_code,
                                                 ch.community_code))
       OR EXISTS (
        SELECT 1 FROM accounts_person_grids pg
        JOIN spatial_responsibilitygrid g ON g.id = pg.responsibilitygrid_id
        WHERE pg.person_id = p.id AND g.code = ch.grid_code AND ch.grid_code <> '')
    UNION
    SELECT ch.id, t.assignee_id FROM changed ch
    JOIN cases_casetask t ON t.case_id = ch.id AND t.done_at IS NULL
    WHERE ch.state <> 'handling'
)
INSERT INTO cases_notification (recipient_id, phone, case_id, event_id, kind, channel, title,
                                body, created_at, attempts, last_error, sent_message)
SELECT told.user_id, '', ch.id, NULL, %(kind)s, %(channel)s,
       CASE ch.new WHEN 'warning' THEN %(warning)s ELSE %(overdue)s END || ' ' || ch.number,
       ch.what || '。处置时限 '
           || to_char(ch.deadline AT TIME ZONE %(tz)s, 'YYYY-MM-DD HH24:MI'),
       %(now)s, 0, '', ''
FROM told
JOIN changed ch ON ch.id = told.case_id
JOIN auth_user u ON u.id = told.user_id AND u.is_active
RETURNING id
"""


def notify_deadlines(changed: list[tuple[int, str, str]], now: dt.datetime) -> int:
    """Writes the notices of the cases beat's refresh just moved — (id, number, new deadline
    state) as `deadlines.refresh_deadline_states` gives them — in one INSERT … SELECT in the
    caller's transaction: the handling department's handlers of a case in handling, the
    centre's people acting on the stage (by `CENTRE_STAGES`, in the case's areas) otherwise,
    and the inspector of an open task. The refresh moves each case once per transition, so
    each transition is told once. Gives how many rows were written; wakes the worker after
    commit."""
    if not changed:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            DEADLINE_SQL,
            {
                "ids": [case_id for case_id, _, _ in changed],
                "states": [state for _, _, state in changed],
                "stage_states": list(CENTRE_STAGES),
                "stage_permissions": list(CENTRE_STAGES.values()),
                "handle": perms.CASES_HANDLE,
                "kind": Kind.DEADLINE,
                "channel": Channel.APP,
                "warning": DEADLINE_TITLES["warning"],
                "overdue": DEADLINE_TITLES["overdue"],
                "tz": settings.TIME_ZONE,
                "now": now,
            },
        )
        written = cursor.rowcount
    if written:
        _wake_after_commit()
    return written


# ---------------------------------------------------------------------------------------------
# Waking the worker

_quiet: contextvars.ContextVar[bool] = contextvars.ContextVar("notify_quiet", default=False)


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Writes notices without waking the worker (beat's sweep delivers them): for bulk writers
    such as the demo history, whose forked processes must not share the parent's broker
    connection."""
    token = _quiet.set(True)
    try:
        yield
    finally:
        _quiet.reset(token)


def wake() -> bool:
    """Sends the delivery task now; gives whether the broker took it (if not, beat's sweep
    delivers the rows)."""
    try:
        current_app.send_task(
            TASK,
            retry=True,
            retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.5},
            ignore_result=True,
        )
    except Exception as exc:  # noqa: BLE001 - any broker failure: the rows are the outbox
        log.warning("notification delivery not sent (%s); beat's sweep delivers", exc)
        return False
    return True


def _wake_after_commit() -> None:
    """Sends the delivery task once the transaction commits, once per transaction however many
    events in it notify (a rolled-back savepoint drops its callback with it)."""
    if _quiet.get():
        return
    connection = transaction.get_connection()
    if any(entry[1] is wake for entry in connection.run_on_commit):
        return
    transaction.on_commit(wake)


# ---------------------------------------------------------------------------------------------
# Delivery


class SmsSender(Protocol):
    """Sends one text message; gives the text as sent. Raises to have the row tried again."""

    def send(self, phone: str, text: str) -> str: ...


class LogSmsSender:
    """The default sender: writes the message to the log, so nothing leaves the machine."""

    def send(self, phone: str, text: str) -> str:
        masked = f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 7 else "****"
        log.info("sms to %s: %s", masked, text)
        return text


def sms_sender() -> SmsSender:
    """The sender ``CITYGRID_SMS_SENDER`` names (a dotted path to a class)."""
    return import_string(settings.CITYGRID_SMS_SENDER)()


def _backoff(attempts: int) -> dt.timedelta:
    seconds = settings.CITYGRID_NOTIFY_RETRY_S * 2 ** max(attempts - 1, 0)
    return dt.timedelta(seconds=min(seconds, 3600))


def _due(now: dt.datetime):
    return Notification.objects.filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
        sent_at__isnull=True,
        attempts__lt=settings.CITYGRID_NOTIFY_MAX_ATTEMPTS,
    )


def _deliver(row: Notification, sender: SmsSender | None) -> bool:
    """Sends one claimed row and records the outcome on it; gives whether it was sent."""
    now = timezone.now()
    row.attempts += 1
    try:
        with transaction.atomic():  # a sender's own writes roll back with its failure
            if row.channel == Channel.SMS:
                row.sent_message = (sender or sms_sender()).send(row.phone, row.body) or row.body
    except Exception as exc:  # noqa: BLE001 - any sender error: recorded, tried again later
        row.last_error = f"{type(exc).__name__}: {exc}"[:500]
        row.next_attempt_at = now + _backoff(row.attempts)
        row.save(update_fields=["attempts", "last_error", "next_attempt_at"])
        log.warning("notification %s not sent (attempt %s): %s", row.pk, row.attempts, exc)
        return False
    row.sent_at = now
    row.save(update_fields=["attempts", "sent_at", "sent_message"])
    if row.recipient_id:
        events.publish(
            "notifications",
            {"type": "notification", "id": row.pk, "recipient": row.recipient_id},
        )
    return True


def deliver_due(limit: int = 500, sender: SmsSender | None = None) -> dict:
    """Delivers up to `limit` due rows, each claimed, sent and marked in one transaction of its
    own (``FOR UPDATE SKIP LOCKED``: concurrent deliveries never take the same row); a row is
    tried at most once a call. Gives counts of rows sent and failed."""
    counts = {"sent": 0, "failed": 0}
    tried: list[int] = []
    for _ in range(limit):
        with transaction.atomic():
            # The partial index notification_undelivered serves the claim.
            row = (
                _due(timezone.now())
                .exclude(pk__in=tried)
                .select_for_update(skip_locked=True)
                .order_by("id")
                .first()
            )
            if row is None:
                break
            tried.append(row.pk)
            counts["sent" if _deliver(row, sender) else "failed"] += 1
    return counts


def next_retry_in() -> float | None:
    """Seconds until the earliest failed row may be tried again; None when none waits."""
    waiting = (
        Notification.objects.filter(
            sent_at__isnull=True,
            next_attempt_at__isnull=False,
            attempts__lt=settings.CITYGRID_NOTIFY_MAX_ATTEMPTS,
        )
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)
        .first()
    )
    if waiting is None:
        return None
    return max((waiting - timezone.now()).total_seconds(), 0.0)


# ---------------------------------------------------------------------------------------------
# A person's notices


def notices_of(scope: Scope, *, unread: bool = False):
    """The caller's delivered in-app notices, newest first."""
    scope.require_signed_in()
    found = Notification.objects.filter(
        recipient_id=scope.user.pk, channel=Channel.APP, sent_at__isnull=False
    ).select_related("case")
    return found.filter(read_at__isnull=True) if unread else found


def _read_details(ids: Iterable[int] | None = None, everything: bool = False, **_) -> dict:
    return {"all": True} if everything else {"ids": sorted(ids or [])[:100]}


@action("notifications.read", permission=None, details=_read_details)
def do_mark_read(
    scope: Scope,
    ids: Iterable[int] | None = None,
    everything: bool = False,
    *,
    at: dt.datetime | None = None,
) -> int:
    """Marks the caller's notices read: those of `ids`, or all when `everything`; gives how
    many changed (another person's ids change nothing)."""
    if not everything and not ids:
        raise BadInput("give the ids to mark read, or all", field="ids")
    found = notices_of(scope, unread=True)
    if not everything:
        found = found.filter(pk__in=list(ids or []))
    return found.update(read_at=at or timezone.now())
