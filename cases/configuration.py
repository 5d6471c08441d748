"""Configuration read and written from the GIS admin's configuration page (业务配置): work
calendars and their day overrides (holidays 节假日 and make-up working days 调休), with a
spreadsheet export and an all-or-nothing spreadsheet import, and the workflow definitions as a
readable table. Writes are actions (`config.edit`) that log themselves."""

from __future__ import annotations

import datetime as dt
import io

from django.db import transaction

from accounts import permissions as perms
from accounts.oplog import action
from accounts.scoping import Scope
from core.errors import BadInput, NotFound

from . import calendars, report_rules
from .models import CalendarDay, LimitUnit, State, WorkCalendar, Workflow

DAY_COLUMNS = ("日期", "是否工作日", "工作时段", "备注")
MAX_IMPORT_ROWS = 2000
TRUE_WORDS = {"是", "工作", "上班", "1", "true", "yes", "y"}
FALSE_WORDS = {"否", "休息", "放假", "0", "false", "no", "n"}


def get_calendar(key: str) -> WorkCalendar:
    if key == calendars.DEFAULT_KEY:
        return calendars.ensure_default_calendar()
    row = WorkCalendar.objects.filter(key=key).first()
    if row is None:
        raise NotFound(f"no calendar {key}", field="key")
    return row


def calendar_json(row: WorkCalendar) -> dict:
    return {
        "key": row.key,
        "name": row.name,
        "periods": row.periods,
        "use_official_holidays": row.use_official_holidays,
        "is_default": row.is_default,
        "days": [day_json(d) for d in row.days.order_by("date")],
    }


def day_json(day: CalendarDay) -> dict:
    return {
        "date": day.date.isoformat(),
        "working": day.working,
        "periods": day.periods,
        "note": day.note,
    }


def list_calendars() -> list[dict]:
    """Gives every work calendar with its day overrides (the default one made if missing)."""
    calendars.ensure_default_calendar()
    return [calendar_json(row) for row in WorkCalendar.objects.order_by("-is_default", "key")]


def _periods(value, where: str = "periods"):
    if value in (None, "", []):
        return None
    return report_rules.parse_windows(value, field=where)


@action(
    "cases.calendar_day",
    permission=perms.CONFIG_EDIT,
    target=lambda row, day, data: f"{row.key}:{day.isoformat()}",
    details=lambda row, day, data: data,
)
def do_set_calendar_day(scope: Scope, row: WorkCalendar, day: dt.date, data: dict) -> CalendarDay:
    """Gives the calendar's override of `day` after setting it (working or not, its own periods,
    a note): a holiday (节假日) or a make-up working day (调休)."""
    entry, _ = CalendarDay.objects.update_or_create(
        calendar=row,
        date=day,
        defaults={
            "working": data["working"],
            "periods": _periods(data.get("periods")),
            "note": data.get("note", ""),
        },
    )
    return entry


@action(
    "cases.calendar_day_delete",
    permission=perms.CONFIG_EDIT,
    target=lambda row, day: f"{row.key}:{day.isoformat()}",
)
def do_delete_calendar_day(scope: Scope, row: WorkCalendar, day: dt.date) -> None:
    """Drops the calendar's override of `day` (the usual week and official holidays apply)."""
    deleted, _ = CalendarDay.objects.filter(calendar=row, date=day).delete()
    if not deleted:
        raise NotFound(f"calendar {row.key} has no override on {day.isoformat()}", field="date")


def export_days(row: WorkCalendar) -> bytes:
    """Gives the calendar's day overrides as an .xlsx workbook (one row a day)."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "日历"
    sheet.append(DAY_COLUMNS)
    for day in row.days.order_by("date"):
        periods = "、".join(f"{a}-{b}" for a, b in day.periods or [])
        sheet.append([day.date, "是" if day.working else "否", periods, day.note])
    sheet.column_dimensions["A"].width = 14
    sheet.column_dimensions["C"].width = 28
    sheet.column_dimensions["D"].width = 20
    for cell in sheet["A"][1:]:
        cell.number_format = "yyyy-mm-dd"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _read_day_rows(content: bytes) -> list[dict]:
    """Gives the rows of an uploaded calendar sheet, checked; `BadInput` (field `file`) naming
    the first bad row."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a file that is not a workbook
        raise BadInput("the file is not an .xlsx workbook", field="file") from None
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    if not rows or tuple(str(c or "").strip() for c in rows[0][:4]) != DAY_COLUMNS:
        raise BadInput(f"the first row must be the headings {', '.join(DAY_COLUMNS)}", "file")
    if len(rows) - 1 > MAX_IMPORT_ROWS:
        raise BadInput(f"at most {MAX_IMPORT_ROWS} days in one file", field="file")
    out, seen = [], set()
    for number, values in enumerate(rows[1:], start=2):
        values = (list(values) + [None] * 4)[:4]
        if all(v in (None, "") for v in values):
            continue
        day = _day_cell(values[0], number)
        if day in seen:
            raise BadInput(f"row {number}: {day.isoformat()} appears twice", field="file")
        seen.add(day)
        working = str(values[1] if values[1] is not None else "").strip().lower()
        if working not in TRUE_WORDS | FALSE_WORDS:
            raise BadInput(f"row {number}: 是否工作日 is 是 or 否, not {values[1]!r}", "file")
        periods = _periods_cell(values[2], number)
        note = str(values[3] or "").strip()[:64]
        out.append(
            {"date": day, "working": working in TRUE_WORDS, "periods": periods, "note": note}
        )
    return out


def _day_cell(value, number: int) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise BadInput(f"row {number}: 日期 {value!r} is not a date (2026-10-01)", "file") from None


def _periods_cell(value, number: int):
    text = str(value or "").strip()
    if not text:
        return None
    pairs = [p.strip().split("-") for p in text.replace(",", "、").split("、") if p.strip()]
    try:
        return report_rules.parse_windows([[a.strip(), b.strip()] for a, b in pairs])
    except (BadInput, ValueError):
        raise BadInput(
            f"row {number}: 工作时段 {text!r} is HH:MM-HH:MM pairs separated by 、", "file"
        ) from None


@action(
    "cases.calendar_import",
    permission=perms.CONFIG_EDIT,
    target=lambda row, content: row.key,
)
def do_import_calendar_days(scope: Scope, row: WorkCalendar, content: bytes) -> dict:
    """Gives what importing a calendar sheet did: every row set as the calendar's override of
    its date (all rows or none: a bad row refuses the file)."""
    days = _read_day_rows(content)
    if not days:
        raise BadInput("the sheet holds no day", field="file")
    with transaction.atomic():
        existing = set(
            row.days.filter(date__in=[d["date"] for d in days]).values_list("date", flat=True)
        )
        for day in days:
            CalendarDay.objects.update_or_create(
                calendar=row,
                date=day["date"],
                defaults={
                    "working": day["working"],
                    "periods": day["periods"],
                    "note": day["note"],
                },
            )
    return {"rows": len(days), "created": len(days) - len(existing), "updated": len(existing)}


# ---- workflows -----------------------------------------------------------------------------------


def workflows_json() -> list[dict]:
    """Gives every workflow definition (流程定义) as a readable table: its stages with their
    limits and its transitions with the permission each needs."""
    from .printing import EVENT_NAMES  # the actions' Chinese names (imported where used)

    state_names = dict(State.choices)
    unit_names = dict(LimitUnit.choices)
    outcomes = {"yes": "通过", "no": "不通过", **state_names}
    out = []
    for flow in Workflow.objects.prefetch_related("stages", "transitions"):
        out.append(
            {
                "key": flow.key,
                "name": flow.name,
                "kind": flow.kind,
                "source": flow.source,
                "self_handled": flow.self_handled,
                "initial_state": flow.initial_state,
                "priority": flow.priority,
                "active": flow.active,
                "stages": [
                    {
                        "state": s.state,
                        "state_name": state_names.get(s.state, s.state),
                        "limit": "按类别" if s.from_category else _limit(s, unit_names),
                    }
                    for s in flow.stages.all()
                ],
                "transitions": [
                    {
                        "action": t.action,
                        "action_name": EVENT_NAMES.get(t.action, t.action),
                        "outcome": t.outcome,
                        "outcome_name": outcomes.get(t.outcome, t.outcome),
                        "source": t.source,
                        "source_name": state_names.get(t.source, t.source),
                        "target": t.target,
                        "target_name": state_names.get(t.target, t.target),
                        "permission": t.permission,
                        "permission_name": perms.ALL_PERMISSIONS.get(t.permission, t.permission),
                    }
                    for t in flow.transitions.all()
                ],
            }
        )
    return out


def _limit(stage, unit_names: dict) -> str:
    if stage.amount is None:
        return ""
    return f"{stage.amount.normalize():f} {unit_names.get(stage.unit, stage.unit)}"
