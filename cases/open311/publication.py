"""What the public sees of a case (公开信息): the one place that turns cases into public fields,
for Open311, the public map and "my cases". Nothing here reads a reporter field.

- Public cases: every case but those a moderator hid whole (`cases.visibility.public_cases`).
- Status: Open311 knows ``open`` and ``closed``; closed for the terminal states.
- Text: the description and the opinions of the public steps, as moderation left them
  (`PublicEdit`: hidden, or replaced; the original is kept on the case and its events).
- Photos: before (the report's) and after (the handling's), the hidden ones left out.
- Address: the case's own when it has one, else the standard address of reverse geocoding;
  ``address_id`` is the address database row reverse geocoding names (``door:123``), kept a
  day in the cache per point.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone

from geocoder.reverse import reverse

from ..models import Case, CaseEvent, CaseMedia, ManualEntry, State
from .models import PublicEdit, PublicReport

CLOSED_STATES = frozenset(
    {
        State.CLOSED,
        State.NOT_ACCEPTED,
        State.NOT_REGISTERED,
        State.VOID,
        State.MERGED,
        State.INVALID,
    }
)
# The steps whose opinion the public reads (公开意见): what the centre and the department
# answered, not the inner work (verification tasks, checks, applications).
PUBLIC_OPINION_ACTIONS = frozenset(
    {
        "accept",
        "not_accept",
        "not_register",
        "dispatch",
        "feedback",
        "close",
        "archive",
        "void",
        "merge",
        "reopen",
    }
)
# What the public calls each step of a case's history.
CITIZEN_SOURCES = frozenset({"public", "hotline"})
PUBLIC_STEP_NAMES = {
    "report": "问题发现",  # a citizen's report is 市民上报 (`step_name`)
    "accept": "已受理",
    "not_accept": "不予受理",
    "verify": "已核实",
    "register": "已立案",
    "not_register": "不予立案",
    "dispatch": "已派遣至处置部门",
    "redispatch": "已重新派遣",
    "feedback": "处置完成",
    "check": "已核查",
    "rework": "返工处置",
    "close": "已结案",
    "archive": "已结案",
    "void": "已作废",
    "merge": "已合并",
    "reopen": "市民申请重新处理",
    "rate": "市民评价",
}
BEFORE_STAGES = (CaseMedia.Stage.REPORT,)
AFTER_STAGES = (CaseMedia.Stage.HANDLING, CaseMedia.Stage.SELF_HANDLED)
ADDRESS_CACHE_S = 24 * 3600


def step_name(action: str, source: str) -> str:
    """What the public calls a step of a case's history."""
    if action == "report" and source in CITIZEN_SOURCES:
        return "市民上报"
    return PUBLIC_STEP_NAMES.get(action, action)


def status_of(state: str) -> str:
    """Open311's status of a case state: closed for the terminal states, open otherwise."""
    return "closed" if state in CLOSED_STATES else "open"


def service_code(case_kind: str, category_code: str) -> str:
    """The Open311 service code of a minor class: C (component) or E (event) and its digits."""
    return ("C" if case_kind == "component" else "E") + category_code


def w3c(moment: dt.datetime | None) -> str | None:
    """A W3C datetime with the local zone (2026-11-29T16:00:00+08:00), or None."""
    return timezone.localtime(moment).isoformat(timespec="seconds") if moment else None


@dataclass
class Moderation:
    """The moderators' edits of a set of cases, by what they target."""

    hidden_cases: set[int] = field(default_factory=set)
    descriptions: dict[int, PublicEdit] = field(default_factory=dict)
    opinions: dict[int, PublicEdit] = field(default_factory=dict)
    hidden_media: set[int] = field(default_factory=set)


def moderation_of(case_ids: list[int]) -> Moderation:
    found = Moderation()
    for edit in PublicEdit.objects.filter(case_id__in=case_ids):
        if edit.target == PublicEdit.Target.CASE and edit.hidden:
            found.hidden_cases.add(edit.case_id)
        elif edit.target == PublicEdit.Target.DESCRIPTION:
            found.descriptions[edit.case_id] = edit
        elif edit.target == PublicEdit.Target.OPINION and edit.event_id:
            found.opinions[edit.event_id] = edit
        elif edit.target == PublicEdit.Target.MEDIA and edit.hidden and edit.media_id:
            found.hidden_media.add(edit.media_id)
    return found


def public_text(original: str, edit: PublicEdit | None) -> str:
    if edit is None:
        return original
    return "" if edit.hidden else edit.text


def _standards(category_ids: set[int]) -> dict[int, str]:
    """The manual's city-wide handling standard (处置标准) of each class."""
    rows = ManualEntry.objects.filter(category_id__in=category_ids, area__isnull=True)
    return {row.category_id: row.standard for row in rows.only("category_id", "standard")}


def _address_key(case: Case) -> str:
    point = f"{round(case.geom.x, 6)},{round(case.geom.y, 6)}"
    return "public:address:" + hashlib.sha1(point.encode()).hexdigest()[:16]


def addresses_of(cases: list[Case]) -> dict[int, tuple[str, str | None]]:
    """(address, address_id) of each case's point: reverse geocoding, kept a day per point in
    the cache (one round trip for the page: `get_many`, `set_many` for the points missing)."""
    keys = {case.pk: _address_key(case) for case in cases}
    try:
        kept = cache.get_many(list(set(keys.values())))
    except Exception:  # noqa: BLE001 - no cache: ask the geocoder
        kept = {}
    missing = {}
    for case in cases:
        if keys[case.pk] not in kept and keys[case.pk] not in missing:
            found = reverse(round(case.geom.x, 6), round(case.geom.y, 6))
            ref = f"{found.ref[0]}:{found.ref[1]}" if found.ref else None
            missing[keys[case.pk]] = (found.address or "", ref)
    if missing:
        try:
            cache.set_many(missing, ADDRESS_CACHE_S)
        except Exception:  # noqa: BLE001
            pass
    known = {**kept, **missing}
    result = {}
    for case in cases:
        address, ref = known[keys[case.pk]]
        result[case.pk] = (case.address or address or case.road_name or case.street_name, ref)
    return result


@dataclass
class PublicCase:
    """The public fields of one case, gathered for a page of cases at once."""

    case: Case
    description: str
    status_notes: str
    agency: str | None
    notice: str
    address: str
    address_id: str | None
    before: list[CaseMedia]
    after: list[CaseMedia]
    history: list[dict]
    report_type: str
    media_url: str
    located: bool = True

    @property
    def status(self) -> str:
        return status_of(self.case.state)


def gather(cases: list[Case], with_history: bool = False) -> list[PublicCase]:
    """The public fields of `cases` (a page: a few queries whatever its length)."""
    ids = [c.pk for c in cases]
    moderation = moderation_of(ids)
    standards = _standards({c.category_id for c in cases})
    reports = {r.case_id: r for r in PublicReport.objects.filter(case_id__in=ids)}
    media: dict[int, list[CaseMedia]] = defaultdict(list)
    for item in (
        CaseMedia.objects.filter(case_id__in=ids, stage__in=(*BEFORE_STAGES, *AFTER_STAGES))
        .filter(content_type__startswith="image/")
        .only("id", "case_id", "stage")
    ):
        if item.pk not in moderation.hidden_media:
            media[item.case_id].append(item)
    events: dict[int, list[CaseEvent]] = defaultdict(list)
    wanted = Q(action__in=PUBLIC_OPINION_ACTIONS) & ~Q(opinion="")
    if with_history:
        wanted |= Q(action__in=list(PUBLIC_STEP_NAMES))
    chosen = CaseEvent.objects.filter(case_id__in=ids).filter(wanted).order_by("at", "id")
    for event in chosen.only("id", "case_id", "action", "opinion", "at"):
        events[event.case_id].append(event)
    addresses = addresses_of(
        [c for c in cases if reports.get(c.pk) is None or reports[c.pk].located]
    )
    result = []
    for case in cases:
        notes = [
            public_text(e.opinion, moderation.opinions.get(e.pk))
            for e in events[case.pk]
            if e.action in PUBLIC_OPINION_ACTIONS
        ]
        notes = [n for n in notes if n]
        before = [m for m in media[case.pk] if m.stage in BEFORE_STAGES]
        after = [m for m in media[case.pk] if m.stage in AFTER_STAGES]
        report = reports.get(case.pk)
        located = report.located if report else True
        address, address_id = addresses.get(case.pk, ("", None))
        history = []
        if with_history:
            for event in events[case.pk]:
                opinion = ""
                if event.action in PUBLIC_OPINION_ACTIONS:
                    opinion = public_text(event.opinion, moderation.opinions.get(event.pk))
                history.append(
                    {
                        "at": w3c(event.at),
                        "step": step_name(event.action, case.source),
                        "opinion": opinion,
                    }
                )
        first = before[0] if before else None
        result.append(
            PublicCase(
                case=case,
                description=public_text(case.description, moderation.descriptions.get(case.pk)),
                status_notes=notes[-1] if notes else "",
                agency=case.department.name if case.department_id else None,
                notice=standards.get(case.category_id, ""),
                address=address,
                address_id=address_id,
                before=before,
                after=after,
                history=history,
                report_type=report.report_type if report else "report",
                media_url=media_path(first) if first else (report.media_url if report else ""),
                located=located,
            )
        )
    return result


def media_path(media: CaseMedia) -> str:
    """The public path of a case photo (served by the public media view)."""
    return f"/api/v1/public/media/{media.pk}"


def on_the_map() -> Q:
    """Cases with a place (a complaint or question sent without one stays off the map)."""
    return ~Q(public__located=False)


def open_or_recent(now: dt.datetime | None = None, closed_days: int = 30) -> Q:
    """Cases open now, or closed within `closed_days` (the public map's cases)."""
    now = now or timezone.now()
    recent = now - dt.timedelta(days=closed_days)
    return ~Q(state__in=CLOSED_STATES) | Q(state=State.CLOSED, closed_at__gte=recent)
