"""Printing to PDF (打印, spec 5.1.3): one case as a case sheet (案件处理单), with or without its
history (办理经过), and a case list as a table, on A4 pages with the platform's name, the
print time and page numbers.

The pages are HTML (templates under ``cases/templates/cases/print/``) laid out by WeasyPrint
with the WenQuanYi Micro Hei font (Debian's ``fonts-wqy-microhei``), so Chinese text is real
text in the PDF. A sheet is built from the case as the JSON API gives it to the caller
(`serializers.case_json` with `visibility.sees_reporter`), so the reporter's name and phone are
on the paper exactly when the caller's screen shows them. A list reads `queries.case_list` with
the list's filters, as the Excel export does, and carries no reporter column. Up to
``CASES_PRINT_DIRECT`` rows are printed in the request, more become a job (`core.jobs`) run as
the caller on Celery, and above ``CASES_PRINT_MAX`` the caller is told to narrow the filters.
"""

from __future__ import annotations

import base64
import io
import logging
from pathlib import Path

from django.conf import settings
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.models import Department, LoginPolicy
from accounts.scoping import Scope
from core.errors import TooLarge
from core.jobs import JobRun, dispatch, new_job
from core.models import Job
from data.models import Category
from spatial.models import AdminArea

from . import queries, visibility
from .models import Case, CaseMedia, DeadlineState, Level, Source, State
from .serializers import case_json

log = logging.getLogger(__name__)

JOB_KIND = "cases_print"
CONTENT_TYPE = "application/pdf"
KINDS = dict(Category.Kind.choices)
STATES = dict(State.choices)
THUMBNAIL_PX = (480, 360)
BATCH = 500
TIME = "%Y-%m-%d %H:%M"

# Events by name (the workflow's transitions and the actions beside them); applications are
# composed from a verb and a kind (apply_extension: 申请延期).
EVENT_NAMES = {
    "report": "上报",
    "accept": "受理",
    "not_accept": "不予受理",
    "restore": "恢复受理",
    "request_verify": "派发核实",
    "verify": "核实",
    "register": "立案",
    "not_register": "不予立案",
    "dispatch": "派遣",
    "feedback": "处置反馈",
    "request_check": "派发核查",
    "check": "核查",
    "close": "结案",
    "rework": "返工",
    "return": "回退",
    "void": "作废",
    "edit": "修改",
    "correct_placement": "立案修正",
    "release_hold": "解除挂账",
    "callback": "回访",
    "supervise": "督办",
    "reply_supervision": "督办回复",
    "schedule_dispatch": "定时派遣",
    "edit_scheduled_dispatch": "修改定时派遣",
    "cancel_scheduled_dispatch": "取消定时派遣",
}
_VERBS = {"apply": "申请", "answer": "审批", "approve": "批准", "deny": "驳回", "withdraw": "撤回"}
_APPLIED = {
    "return": "回退",
    "extension": "延期",
    "hold": "挂账",
    "void": "作废",
    "transfer": "转办",
    "assist": "协办",
}
# Photos by stage: before handling (the report's), after (the handling feedback's), the
# check's; the sheet always has the first two (saying 无照片 when empty), the third when taken.
PHOTO_STAGES = [
    (CaseMedia.Stage.REPORT, "处置前（上报）", True),
    (CaseMedia.Stage.HANDLING, "处置后（处置反馈）", True),
    (CaseMedia.Stage.CHECK, "核查", False),
]


def event_name(action: str) -> str:
    """Gives the Chinese name of a history event (its action if unknown)."""
    if action in EVENT_NAMES:
        return EVENT_NAMES[action]
    verb, _, kind = action.partition("_")
    if verb in _VERBS and kind in _APPLIED:
        return _VERBS[verb] + _APPLIED[kind]
    return action


def _local(value) -> str:
    return timezone.localtime(value).strftime(TIME) if value else ""


def _from_iso(value: str | None) -> str:
    """A time as the JSON API gives it (RFC 3339, local) on paper: 2026-11-29 21:50."""
    return value[:16].replace("T", " ") if value else ""


def platform_name() -> str:
    """The platform's name as the sign-in page shows it (登录页面配置), read without writing."""
    title = LoginPolicy.objects.filter(name="default").values_list("page_title", flat=True).first()
    return title or LoginPolicy._meta.get_field("page_title").default


def _page(scope: Scope, **context) -> dict:
    """What every printed page's margins say: the platform, the print time, who printed."""
    printer = scope.user.get_username() if scope.user is not None else scope.actor_name
    person = getattr(scope.user, "person", None) if scope.user is not None else None
    return {
        "platform": platform_name(),
        "printed_at": _local(timezone.now()),
        "printed_by": (person.name if person is not None and person.name else printer),
        **context,
    }


def write_pdf(html: str) -> bytes:
    """Lays out `html` (a print template) as a PDF."""
    from weasyprint import HTML

    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


# --- one case ---------------------------------------------------------------------------------


def _thumbnail(media: CaseMedia) -> str | None:
    """A photo as a small JPEG data URI, or None when the file cannot be read."""
    from PIL import Image, UnidentifiedImageError

    try:
        with media.file.open("rb") as fh, Image.open(fh) as picture:
            picture.thumbnail(THUMBNAIL_PX)
            data = io.BytesIO()
            picture.convert("RGB").save(data, "JPEG", quality=80)
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        log.warning("case photo %s left out of a print: %s", media.pk, exc)
        return None
    return "data:image/jpeg;base64," + base64.b64encode(data.getvalue()).decode("ascii")


def _photos(case: Case) -> list[dict]:
    """The case's photos by stage (`PHOTO_STAGES`), up to ``CASES_PRINT_PHOTOS_PER_STAGE`` each,
    as thumbnails."""
    media = case.media.filter(content_type__startswith="image/").order_by("uploaded_at", "pk")
    by_stage: dict[str, list[dict]] = {}
    for item in media:
        kept = by_stage.setdefault(item.stage, [])
        if len(kept) >= settings.CASES_PRINT_PHOTOS_PER_STAGE:
            continue
        uri = _thumbnail(item)
        if uri is not None:
            kept.append({"src": uri, "taken": _local(item.uploaded_at)})
    return [
        {"title": title, "photos": by_stage.get(stage, [])}
        for stage, title, always in PHOTO_STAGES
        if always or by_stage.get(stage)
    ]


def _history(case: Case) -> list[dict]:
    """The case's events, oldest first, with the acting person's name (their user name when
    the person has none or is gone)."""
    rows = case.events.select_related("department", "actor__person").order_by("at", "pk")
    events = []
    for e in rows:
        person = getattr(e.actor, "person", None) if e.actor_id else None
        moved = e.to_state and e.to_state != e.from_state
        events.append(
            {
                "at": _local(e.at),
                "name": event_name(e.action),
                "states": (
                    f"{STATES.get(e.from_state, e.from_state or '—')} → "
                    f"{STATES.get(e.to_state, e.to_state)}"
                    if moved
                    else ""
                ),
                "actor": (person.name if person is not None and person.name else e.actor_name),
                "position": e.position,
                "department": e.department.name if e.department_id else "",
                "opinion": e.opinion,
            }
        )
    return events


def case_sheet(scope: Scope, case: Case, history: bool) -> bytes:
    """The case sheet (案件处理单) of a case the caller sees, as a PDF; with its history when
    `history`. The fields are the JSON API's for this caller (reporter only when visible)."""
    shown = case_json(case, reporter_visible=visibility.sees_reporter(scope, case), actions=[])
    placement = shown["placement"]
    where = [placement[k]["name"] for k in ("district", "street", "community") if placement[k]]
    context = _page(
        scope,
        title=f"案件处理单 {case.number}",
        case=shown,
        source=Source(case.source).label,
        kind=KINDS.get(case.category.kind, case.category.kind),
        level=Level(case.level).label,
        deadline_state=DeadlineState(case.deadline_state).label,
        where=" ".join(where),
        times={
            "reported_at": _from_iso(shown["reported_at"]),
            "deadline": _from_iso(shown["deadline"]),
            "handling_deadline": _from_iso(shown["handling_deadline"]),
            "closed_at": _from_iso(shown["closed_at"]),
            "held_since": _from_iso(shown["held_since"]),
        },
        photo_groups=_photos(case),
        history=_history(case) if history else None,
    )
    return write_pdf(render_to_string("cases/print/case.html", context))


# --- a list -------------------------------------------------------------------------------------


def check_size(total: int) -> None:
    """Raises `TooLarge` when `total` rows are more than one printed list may hold."""
    if total > settings.CASES_PRINT_MAX:
        raise TooLarge(
            f"{total} cases match; a printed list holds at most {settings.CASES_PRINT_MAX}: "
            "narrow the filters, or export the list to Excel",
        )


def describe_filters(chosen: queries.CaseFilter) -> list[str]:
    """The list's filters in words, for the head of a printed list (筛选条件)."""
    said = []
    if chosen.box:
        said.append(f"案件箱：{queries.BOX_KEYS[chosen.box].title}")
    if chosen.states:
        said.append("状态：" + "、".join(STATES[s] for s in chosen.states))
    if chosen.sources:
        said.append("来源：" + "、".join(Source(s).label for s in chosen.sources))
    if chosen.kind:
        said.append(f"类型：{KINDS[chosen.kind]}")
    if chosen.category:
        classes = Category.objects.filter(code=chosen.category)
        if chosen.kind:  # component and event classes may share a code
            classes = classes.filter(kind=chosen.kind)
        name = classes.order_by("kind").values_list("name", flat=True)
        said.append(f"类别：{chosen.category} {name.first() or ''}".rstrip())
    if chosen.area:
        name = AdminArea.objects.filter(code=chosen.area).values_list("name", flat=True)
        said.append(f"区域：{name.first() or chosen.area}")
    if chosen.bbox:
        said.append("范围：" + ", ".join(f"{v:.5f}" for v in chosen.bbox))
    if chosen.deadline_state:
        said.append(f"时限状态：{DeadlineState(chosen.deadline_state).label}")
    if chosen.department:
        name = Department.objects.filter(code=chosen.department).values_list("name", flat=True)
        said.append(f"处置部门：{name.first() or chosen.department}")
    if chosen.q:
        said.append(f"关键字：{chosen.q}")
    if chosen.since:
        said.append(f"上报时间自：{_local(chosen.since)}")
    if chosen.until:
        said.append(f"上报时间至：{_local(chosen.until)}")
    return said or ["全部案件"]


def _row(n: int, case: Case) -> dict:
    category = case.category
    return {
        "n": n,
        "number": case.number,
        "source": case.get_source_display(),
        "category": (f"{category.parent.name} / " if category.parent_id else "") + category.name,
        "description": case.description,
        "street": case.street_name,
        "address": case.address,
        "state": case.get_state_display(),
        "department": case.department.name if case.department_id else "",
        "reported_at": _local(case.reported_at),
        "deadline": _local(case.handling_deadline),
        "deadline_state": case.get_deadline_state_display(),
        "late": case.deadline_state == DeadlineState.OVERDUE,
    }


def case_list_pdf(
    scope: Scope, chosen: queries.CaseFilter, cases: QuerySet, total: int, progress=None
) -> bytes:
    """The cases (a `queries.case_list`) as a printed table, with the filters in words."""
    rows = []
    for n, case in enumerate(cases.iterator(chunk_size=BATCH), 1):
        rows.append(_row(n, case))
        if progress is not None and n % BATCH == 0:
            progress(n)
    context = _page(
        scope, title="案件列表", filters=describe_filters(chosen), rows=rows, total=total
    )
    return write_pdf(render_to_string("cases/print/list.html", context))


def file_name(what: str) -> str:
    """The download name of a print made now: ``<what>-YYYYMMDD-HHMM.pdf``."""
    return f"{what}-{timezone.localtime():%Y%m%d-%H%M}.pdf"


def print_dir() -> Path:
    path = Path(settings.UPLOAD_DIR) / "case-prints"
    path.mkdir(parents=True, exist_ok=True)
    return path


def start_print(scope: Scope, query: dict, total: int, sync: bool = False) -> Job:
    """Gives the job printing the caller's cases matching `query` (the list's parameters);
    queued on Celery after commit unless `sync`."""
    job = new_job(
        JOB_KIND, scope, {"query": query, "file_name": file_name("cases")}, rows_total=total
    )
    from .tasks import print_cases

    return dispatch(job, print_cases, sync=sync)


def run_print(run: JobRun) -> dict:
    """Writes the job's PDF as its owner sees the cases now (the body `core.jobs.run_job`
    runs); gives the report."""
    job = run.job
    chosen = queries.CaseFilter.from_query(job.params["query"])
    cases = queries.case_list(run.scope, chosen)
    total = cases.count()
    check_size(total)
    run.progress(0, total)
    path = print_dir() / f"{job.pk}.pdf"
    run.leaves(path=path)
    path.write_bytes(case_list_pdf(run.scope, chosen, cases, total, progress=run.progress))
    Job.objects.filter(pk=job.pk).update(result_path=str(path))
    run.progress(total, total)
    return {"rows": total}
