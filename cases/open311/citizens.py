"""Citizens (市民): an account by phone number and a one-time code, "my cases" (我的案件),
satisfaction ratings that feed the call-back (回访), reopening a case that was not fixed, and
hiding one's name.

- A code (6 digits, `CITIZEN_CODE_TTL_S` seconds, `CITIZEN_CODE_ATTEMPTS` tries, at most
  `CITIZEN_CODES_PER_HOUR` per phone) is sent through the notifications' pluggable SMS sender
  (`cases.notifications.sms_sender`); only its digest is stored.
- A proven phone gets a bearer token (sent back as ``X-Citizen-Token``) for
  `CITIZEN_TOKEN_DAYS` days; only its digest is stored.
- A citizen's cases are those their account reported and those reported with their phone
  through any channel (a mini-program, the hotline): the same number owns them.
- A rating (1–5 stars, a comment) of a closed case is kept (`CaseRating`) and, when the case
  waits for a call-back, recorded as its call-back (reached; 4–5 stars 满意, 3 基本满意, 1–2 不满意).
- Reopening (申请重新处理) within `PUBLIC_REOPEN_DAYS` of the close makes a new public case at
  the same point and class through the report action, and the closed case's history says so.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.oplog import action
from accounts.scoping import Scope, system_scope
from core.errors import ApiError, BadInput, Conflict, NotFound, Unauthorized

from .. import actions, callbacks
from ..models import Case, CaseCallback, State
from ..notifications import sms_sender
from .models import CaseRating, Channel, Citizen, CitizenCode, CitizenToken, PublicReport
from .reporting import PublicRequest, do_public_report

PHONE = re.compile(r"1[3-9]\d{9}")
CITIZENS = system_scope("public:citizens")


class TooManyCodes(ApiError):
    status, code = 429, "too_many_codes"


def _digest(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def checked_phone(phone: str) -> str:
    phone = (phone or "").strip().replace(" ", "").replace("-", "")
    if not PHONE.fullmatch(phone):
        raise BadInput("a mobile number has 11 digits and starts with 1", field="phone")
    return phone


def _count_ip(ip: str | None, now: dt.datetime) -> None:
    """Counts a code asked from `ip` this clock hour; 429 past `CITIZEN_CODES_PER_IP_HOUR`
    (one caller cycling through numbers would otherwise send texts without end). A cache that
    does not answer lets the request through; the per-number limit still holds."""
    if not ip:
        return
    counter = f"citizen:codes:{ip}:{now:%Y%m%d%H}"
    try:
        cache.add(counter, 0, timeout=3700)
        used = cache.incr(counter)
    except Exception:  # noqa: BLE001
        return
    if used > settings.CITIZEN_CODES_PER_IP_HOUR:
        raise TooManyCodes("too many codes asked from this address this hour", field="phone")


def send_code(phone: str, now: dt.datetime | None = None, ip: str | None = None) -> CitizenCode:
    """Sends a one-time code to `phone` (429 past the hourly number of codes per number or
    per caller address)."""
    now = now or timezone.now()
    phone = checked_phone(phone)
    _count_ip(ip, now)
    recent = CitizenCode.objects.filter(phone=phone, created_at__gte=now - dt.timedelta(hours=1))
    if recent.count() >= settings.CITIZEN_CODES_PER_HOUR:
        raise TooManyCodes("too many codes for this number this hour", field="phone")
    code = f"{secrets.randbelow(1_000_000):06d}"
    row = CitizenCode.objects.create(
        phone=phone,
        digest=_digest(phone, code),
        created_at=now,
        expires_at=now + dt.timedelta(seconds=settings.CITIZEN_CODE_TTL_S),
    )
    minutes = max(1, settings.CITIZEN_CODE_TTL_S // 60)
    sms_sender().send(phone, f"【城市运行管理】您的验证码是 {code}，{minutes} 分钟内有效。")
    return row


def sign_in(phone: str, code: str, now: dt.datetime | None = None) -> tuple[Citizen, str]:
    """The citizen a valid code proves and a new token; 400 naming `code` otherwise (an
    expired, used or wrong code, or too many tries)."""
    now = now or timezone.now()
    phone = checked_phone(phone)
    if not re.fullmatch(r"\d{6}", (code or "").strip()):
        raise BadInput("the code has 6 digits", field="code")
    with transaction.atomic():  # a failed try is counted even though the answer is a 400
        row = (
            CitizenCode.objects.select_for_update()
            .filter(phone=phone, used_at__isnull=True, expires_at__gt=now)
            .order_by("-created_at")
            .first()
        )
        if row is None or row.attempts >= settings.CITIZEN_CODE_ATTEMPTS:
            failure = "no valid code for this number: ask for a new one"
        elif not hmac.compare_digest(row.digest, _digest(phone, code.strip())):
            row.attempts += 1
            row.save(update_fields=["attempts"])
            failure = "the code is wrong"
        else:
            failure = ""
            row.used_at = now
            row.save(update_fields=["used_at"])
    if failure:
        raise BadInput(failure, field="code")
    citizen, _ = Citizen.objects.get_or_create(phone=phone, defaults={"created_at": now})
    citizen.last_signed_in_at = now
    citizen.save(update_fields=["last_signed_in_at"])
    token = secrets.token_urlsafe(32)
    CitizenToken.objects.create(
        citizen=citizen,
        digest=_digest(token),
        created_at=now,
        expires_at=now + dt.timedelta(days=settings.CITIZEN_TOKEN_DAYS),
    )
    return citizen, token


def citizen_for(token: str | None) -> Citizen:
    """The citizen a token stands for; 401 without a valid one."""
    if not token:
        raise Unauthorized("sign in with your phone number first")
    row = (
        CitizenToken.objects.filter(digest=_digest(token), expires_at__gt=timezone.now())
        .select_related("citizen")
        .first()
    )
    if row is None:
        raise Unauthorized("this sign-in has expired: sign in again")
    return row.citizen


def cases_of(citizen: Citizen) -> QuerySet:
    """The citizen's cases: reported by their account or with their phone."""
    mine = Q(public__citizen=citizen) | Q(reporter_phone=citizen.phone)
    return Case.objects.filter(mine, source__in=("public", "hotline"))


def case_of(citizen: Citizen, number: str, *, for_update: bool = False) -> Case:
    cases = cases_of(citizen)
    if for_update:
        cases = Case.objects.select_for_update().filter(pk__in=cases.values("pk"))
    case = cases.filter(number=number).first()
    if case is None:
        raise NotFound(f"you reported no case {number[:32]!r}")
    return case


def report(citizen: Citizen, request: PublicRequest, *, at: dt.datetime | None = None) -> Case:
    """A signed-in citizen's report from the public page (channel 公众服务网页)."""
    return do_public_report(
        system_scope("public:web"), request, channel=Channel.WEB, citizen=citizen, at=at
    )


def _satisfaction(stars: int) -> str:
    if stars >= 4:
        return CaseCallback.Satisfaction.SATISFIED
    if stars == 3:
        return CaseCallback.Satisfaction.BASICALLY
    return CaseCallback.Satisfaction.DISSATISFIED


def _closed_within(case: Case, now: dt.datetime, what: str) -> None:
    if case.state != State.CLOSED or case.closed_at is None:
        raise Conflict(f"only a closed case can be {what}", field="case")
    if now - case.closed_at > dt.timedelta(days=settings.PUBLIC_REOPEN_DAYS):
        raise Conflict(
            f"a case can be {what} within {settings.PUBLIC_REOPEN_DAYS} days of its close",
            field="case",
        )


@action("cases.public_rate", permission=None, target=lambda citizen, number, **_: number)
def do_rate_case(
    scope: Scope,
    citizen: Citizen,
    number: str,
    *,
    stars: int,
    comment: str = "",
    at: dt.datetime | None = None,
) -> CaseRating:
    """Rates a closed case of the citizen (满意度评价), once; it becomes the case's call-back
    when the case waits for one."""
    at = at or timezone.now()
    if not isinstance(stars, int) or isinstance(stars, bool) or not 1 <= stars <= 5:
        raise BadInput("stars are 1 to 5", field="stars")
    if len(comment) > 1000:
        raise BadInput("a comment has at most 1000 characters", field="comment")
    case = case_of(citizen, number, for_update=True)
    if case.state != State.CLOSED:
        raise Conflict("only a closed case can be rated", field="case")
    if CaseRating.objects.filter(case=case).exists():
        raise Conflict("this case was rated already", field="case")
    rating = CaseRating.objects.create(
        case=case, citizen=citizen, stars=stars, comment=comment.strip(), rated_at=at
    )
    if callbacks.may_record(scope, case):
        callbacks.do_record_callback(
            scope,
            case.pk,
            version=case.version,
            result=CaseCallback.Result.REACHED,
            satisfaction=_satisfaction(stars),
            opinion=f"市民在线评价 {stars} 星"
            + (f"：{comment.strip()}" if comment.strip() else ""),
            at=at,
        )
    return rating


@action("cases.public_reopen", permission=None, target=lambda citizen, number, **_: number)
def do_reopen_case(
    scope: Scope,
    citizen: Citizen,
    number: str,
    *,
    reason: str,
    at: dt.datetime | None = None,
) -> Case:
    """Asks again for a closed case that was not fixed (申请重新处理): a new public case of the
    same class at the same point, within the reopening period; once per case."""
    at = at or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise BadInput("say what is still wrong", field="reason")
    if len(reason) > 2000:
        raise BadInput("the reason has at most 2000 characters", field="reason")
    case = case_of(citizen, number, for_update=True)
    _closed_within(case, at, "reopened")
    public = PublicReport.objects.filter(case=case).first()
    if public is not None and public.reopened:
        raise Conflict("this case was reopened already", field="case")
    new = do_public_report(
        scope,
        PublicRequest(
            category=case.category,
            description=f"【申请重新处理，原案件 {case.number}】{reason}",
            lon=case.geom.x,
            lat=case.geom.y,
            address_string=case.address,
            phone=citizen.phone,
            report_type=public.report_type if public else "report",
            component_code=case.component_code,
        ),
        channel=public.channel if public else Channel.WEB,
        citizen=citizen,
        at=at,
    )
    if public is not None:
        public.reopened += 1
        public.save(update_fields=["reopened"])
    actions.set_history_actor(scope)
    actions.record_event(
        scope, case, "reopen", case.state, case.state, at, reason, {"new_case": new.number}
    )
    return new


@action("cases.public_hide_name", permission=None, target=lambda citizen, number, **_: number)
def do_hide_name(scope: Scope, citizen: Citizen, number: str, *, hidden: bool) -> Case:
    """The reporter hides (or shows again) their name on a case: the centre sees it marked
    private; the public never sees a reporter field."""
    case = case_of(citizen, number, for_update=True)
    actions.set_history_actor(scope)
    case.reporter_private = bool(hidden)
    case.save(update_fields=["reporter_private", "updated_at"])
    return case
