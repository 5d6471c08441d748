"""Filling tasks (填报任务): one fill → submit → review / return flow for three sources of
comprehensive evaluation, each an object's values for a cycle:

- ``platform`` (平台上报, 4.1): data item values ``{"road_area": 1200.5, …}``; approved, they
  become the object's base data of the cycle's year;
- ``survey`` (问卷调查, 4.3): per survey indicator the shares of the five satisfaction levels
  ``{"D1": {"very_satisfied": 0.4, "satisfied": 0.3, "neutral": 0.2, "dissatisfied": 0.1,
  "very_dissatisfied": 0}}``, summing to 1;
- ``self`` (自评价报告, 4.4): per self-evaluated indicator a score (0 to its full score) and a
  text ``{"E1": {"score": 4.5, "text": "…"}}``.

The assignee saves drafts (any number of times) and submits, before or after the deadline
(open past it, a task is *overdue*); the reviewer — the one named, or anyone with
``evaluation.manage`` when none is — approves or returns it with a reason, and a returned task
is filled again. Attachments (PDF or photos) and a spreadsheet import (one row per object)
serve the same tasks.
"""

from __future__ import annotations

import datetime as dt
import io
import math

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import permissions as perms
from accounts.models import Person
from accounts.oplog import action
from accounts.scoping import Scope
from core import uploads
from core.errors import BadInput, Conflict, Forbidden, NotFound

from . import config
from .models import (
    BaseDataItem,
    BaseDataValue,
    EvaluationCycle,
    EvaluationIndicator,
    EvaluationTaskEvent,
    FillingAttachment,
    FillingTask,
    TaskState,
)

LEVELS = ("very_satisfied", "satisfied", "neutral", "dissatisfied", "very_dissatisfied")
LEVEL_NAMES = ("非常满意", "满意", "一般", "不满意", "非常不满意")
OPEN = (TaskState.PENDING, TaskState.DRAFT, TaskState.RETURNED)
MAX_VALUE = 1e12
MAX_TEXT = 5000
MAX_ATTACHMENTS = 20
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
SHARE_TOLERANCE = 0.001


def is_overdue(task: FillingTask, now: dt.datetime | None = None) -> bool:
    """Whether the task is still to be filled after its deadline."""
    return task.state in OPEN and task.deadline < (now or timezone.now())


def _event(task: FillingTask, scope: Scope, verb: str, at, note: str = "") -> None:
    EvaluationTaskEvent.objects.create(report=task, action=verb, actor=scope.user, at=at, note=note)


def _finite(value, field: str, low: float = -MAX_VALUE, high: float = MAX_VALUE) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise BadInput(f"{field} must be a number", field="values")
    if not low <= value <= high:
        raise BadInput(f"{field} must be within {low:g} to {high:g}", field="values")
    return float(value)


def clean_values(kind: str, values) -> dict:
    """Gives `values` checked for a task of `kind` (see the module doc), or `BadInput`."""
    if not isinstance(values, dict):
        raise BadInput("values must be an object", field="values")
    if kind == FillingTask.Kind.PLATFORM:
        known = set(
            BaseDataItem.objects.filter(code__in=list(values)).values_list("code", flat=True)
        )
        unknown = sorted(set(values) - known)
        if unknown:
            raise BadInput(f"no data item {unknown[0]!r}", field="values")
        return {code: _finite(v, code) for code, v in values.items()}
    method = (
        EvaluationIndicator.Method.SURVEY if kind == "survey" else EvaluationIndicator.Method.SELF
    )
    indicators = {
        i.code: i for i in EvaluationIndicator.objects.filter(code__in=list(values), method=method)
    }
    cleaned = {}
    for code, entry in values.items():
        if code not in indicators:
            raise BadInput(f"no {method} indicator {code!r}", field="values")
        if not isinstance(entry, dict):
            raise BadInput(f"{code} must be an object", field="values")
        if kind == FillingTask.Kind.SURVEY:
            if set(entry) != set(LEVELS):
                raise BadInput(f"{code} gives the shares of {', '.join(LEVELS)}", field="values")
            shares = {level: _finite(entry[level], f"{code}.{level}", 0, 1) for level in LEVELS}
            if abs(sum(shares.values()) - 1) > SHARE_TOLERANCE:
                raise BadInput(f"the shares of {code} must sum to 1", field="values")
            cleaned[code] = shares
        else:
            score = _finite(entry.get("score"), f"{code}.score", 0, indicators[code].full_score)
            text = entry.get("text", "")
            if not isinstance(text, str) or len(text) > MAX_TEXT:
                raise BadInput(f"{code}.text is a text of at most {MAX_TEXT}", field="values")
            cleaned[code] = {"score": score, "text": text}
    return cleaned


def _person(pk, field: str) -> Person:
    try:
        return Person.objects.select_related("user").get(pk=int(pk))
    except (TypeError, ValueError, Person.DoesNotExist):
        raise NotFound(f"no person {pk}", field=field) from None


def _target(*args, **kwargs) -> str:
    return f"{kwargs.get('kind')}:cycle:{kwargs.get('cycle_id')}"


@action("evaluation.create_fillings", permission=perms.EVALUATION_MANAGE, target=_target)
def do_create_fillings(
    scope: Scope,
    *,
    kind: str,
    cycle_id,
    object_ids: list[int],
    assignee_id,
    deadline: dt.datetime,
    reviewer_id=None,
    at: dt.datetime | None = None,
) -> list[FillingTask]:
    """Creates a filling task of `kind` for each object (in batch), all for one assignee;
    409 when an object already has one of that kind in the cycle."""
    at = at or timezone.now()
    if kind not in FillingTask.Kind.values:
        raise BadInput(f"kind is one of {', '.join(FillingTask.Kind.values)}", field="kind")
    try:
        cycle = EvaluationCycle.objects.get(pk=int(cycle_id))
    except (TypeError, ValueError, EvaluationCycle.DoesNotExist):
        raise NotFound(f"no cycle {cycle_id}", field="cycle") from None
    assignee = _person(assignee_id, "assignee")
    reviewer = _person(reviewer_id, "reviewer") if reviewer_id is not None else None
    if not object_ids:
        raise BadInput("give at least one object", field="objects")
    found = {o.pk: o for o in config.visible_objects(scope).filter(pk__in=object_ids)}
    missing = [pk for pk in object_ids if pk not in found]
    if missing:
        raise NotFound(f"no evaluation object {missing[0]}", field="objects")
    tasks = []
    try:
        with transaction.atomic():
            for pk in dict.fromkeys(object_ids):
                task = FillingTask.objects.create(
                    kind=kind,
                    cycle=cycle,
                    object=found[pk],
                    assignee=assignee.user,
                    reviewer=reviewer.user if reviewer else None,
                    deadline=deadline,
                    created_at=at,
                )
                _event(task, scope, "create", at)
                tasks.append(task)
    except IntegrityError:
        raise Conflict(
            f"an object already has a {kind} task in this cycle", field="objects"
        ) from None
    return tasks


def _assigned(scope: Scope, task_id) -> FillingTask:
    scope.require_signed_in()
    try:
        return FillingTask.objects.select_for_update().get(pk=int(task_id), assignee=scope.user)
    except (TypeError, ValueError, FillingTask.DoesNotExist):
        raise NotFound(f"no filling task {task_id} of yours") from None


def _task_target(*args, **kwargs) -> str:
    return f"filling:{args[0] if args else kwargs.get('task_id')}"


@action("evaluation.save_filling", permission=None, target=_task_target)
def do_save_filling(scope: Scope, task_id, *, values, at: dt.datetime | None = None) -> FillingTask:
    """Saves the caller's values as a draft (the values replace the draft's)."""
    at = at or timezone.now()
    task = _assigned(scope, task_id)
    if task.state not in OPEN:
        raise Conflict(f"the task is {task.get_state_display()}", field="state")
    task.values = clean_values(task.kind, values)
    task.state = TaskState.DRAFT
    task.save(update_fields=["values", "state"])
    _event(task, scope, "save", at)
    return task


@action("evaluation.submit_filling", permission=None, target=_task_target)
def do_submit_filling(scope: Scope, task_id, *, at: dt.datetime | None = None) -> FillingTask:
    """Submits the caller's draft for review (past the deadline too: the event says late)."""
    at = at or timezone.now()
    task = _assigned(scope, task_id)
    if task.state != TaskState.DRAFT:
        raise Conflict(
            f"only a draft is submitted; it is {task.get_state_display()}", field="state"
        )
    if not task.values:
        raise BadInput("fill in values before submitting", field="values")
    late = task.deadline < at
    task.state, task.submitted_at = TaskState.SUBMITTED, at
    task.save(update_fields=["state", "submitted_at"])
    _event(task, scope, "submit", at, note="逾期提交" if late else "")
    return task


@action("evaluation.review_filling", permission=None, target=_task_target)
def do_review_filling(
    scope: Scope, task_id, *, approve: bool, reason: str = "", at: dt.datetime | None = None
) -> FillingTask:
    """Approves a submitted task (platform values become base data of the cycle's year) or
    returns it with a reason. The named reviewer, or with none named, evaluation.manage."""
    at = at or timezone.now()
    scope.require_signed_in()
    try:
        task = FillingTask.objects.select_for_update().select_related("cycle").get(pk=int(task_id))
    except (TypeError, ValueError, FillingTask.DoesNotExist):
        raise NotFound(f"no filling task {task_id}") from None
    if task.reviewer_id is not None and task.reviewer_id != scope.user.pk:
        raise Forbidden("another person reviews this task")
    if task.reviewer_id is None:
        scope.require(perms.EVALUATION_MANAGE)
        if not config.visible_objects(scope).filter(pk=task.object_id).exists():
            raise NotFound(f"no filling task {task_id}")
    if task.state != TaskState.SUBMITTED:
        raise Conflict(f"only a submitted task is reviewed; it is {task.get_state_display()}")
    reason = (reason or "").strip()
    if not approve and not reason:
        raise BadInput("give the reason for returning it", field="reason")
    task.state = TaskState.APPROVED if approve else TaskState.RETURNED
    task.reviewed_at, task.return_reason = at, reason
    task.save(update_fields=["state", "reviewed_at", "return_reason"])
    if approve and task.kind == FillingTask.Kind.PLATFORM:
        items = dict(
            BaseDataItem.objects.filter(code__in=list(task.values)).values_list("code", "pk")
        )
        for code, value in task.values.items():
            BaseDataValue.objects.update_or_create(
                item_id=items[code], object_id=task.object_id, year=task.cycle.year,
                defaults={"value": value},
            )  # fmt: skip
    _event(task, scope, "approve" if approve else "return", at, note=reason)
    return task


@action("evaluation.attach_filling", permission=None, target=_task_target)
def do_attach_filling(
    scope: Scope, task_id, *, upload, at: dt.datetime | None = None
) -> FillingAttachment:
    """Attaches a PDF or photo to the caller's open task."""
    at = at or timezone.now()
    task = _assigned(scope, task_id)
    if task.state not in OPEN:
        raise Conflict(f"the task is {task.get_state_display()}", field="state")
    if upload is None:
        raise BadInput("give the file", field="file")
    if upload.size > MAX_ATTACHMENT_BYTES:
        raise BadInput("an attachment is at most 20 MB", field="file")
    if task.attachments.count() >= MAX_ATTACHMENTS:
        raise Conflict(f"at most {MAX_ATTACHMENTS} attachments", field="file")
    kind = uploads.checked_type(upload, uploads.DOCUMENT_TYPES, "file", "a PDF or a photo")
    attachment = FillingAttachment.objects.create(
        task=task,
        file=upload,
        name=(upload.name or "attachment")[:128],
        content_type=kind,
        size=upload.size,
        uploaded_at=at,
    )
    _event(task, scope, "attach", at, note=attachment.name)
    return attachment


def rows_of_sheet(data: bytes) -> list[dict]:
    """The rows of the first sheet of an .xlsx file as dicts by header (the first row)."""
    from openpyxl import load_workbook

    try:
        sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
    except Exception:  # openpyxl raises many kinds for a file that is not a workbook
        raise BadInput("not an .xlsx workbook", field="file") from None
    lines = sheet.iter_rows(values_only=True)
    header = [str(h).strip() if h is not None else "" for h in next(lines, ())]
    rows = []
    for line in lines:
        if line is None or all(v is None for v in line):
            continue
        rows.append({h: v for h, v in zip(header, line) if h})
        if len(rows) > 10_000:
            raise BadInput("at most 10,000 rows", field="file")
    return rows


def values_of_row(kind: str, row: dict) -> dict:
    """A sheet row's values for `kind`: columns by data item code (platform), ``<code>.score``
    and ``<code>.text`` (self) or ``<code>.<level>`` (survey)."""
    if kind == FillingTask.Kind.PLATFORM:
        return {k: v for k, v in row.items() if k != "object" and v is not None}
    values: dict[str, dict] = {}
    for column, value in row.items():
        if column == "object" or "." not in column or value is None:
            continue
        code, part = column.rsplit(".", 1)
        values.setdefault(code, {})[part] = value
    return values


@action("evaluation.import_fillings", permission=None, target=_target)
def do_import_fillings(
    scope: Scope, *, kind: str, cycle_id, data: bytes, at: dt.datetime | None = None
) -> list[FillingTask]:
    """Saves as drafts the rows of a spreadsheet (column ``object``: the object's code) into
    the caller's open tasks of `kind` in the cycle; all rows or none."""
    at = at or timezone.now()
    scope.require_signed_in()
    rows = rows_of_sheet(data)
    if not rows:
        raise BadInput("the sheet has no rows", field="file")
    tasks = {
        t.object.code: t
        for t in FillingTask.objects.select_for_update()
        .select_related("object")
        .filter(kind=kind, cycle_id=cycle_id, assignee=scope.user)
    }
    saved = []
    for number, row in enumerate(rows, start=2):
        task = tasks.get(str(row.get("object", "")).strip())
        if task is None:
            raise NotFound(f"row {number}: no {kind} task of yours for that object", field="file")
        if task.state not in OPEN:
            raise Conflict(f"row {number}: the task is {task.get_state_display()}", field="file")
        try:
            task.values = clean_values(kind, values_of_row(kind, row))
        except BadInput as exc:
            raise BadInput(f"row {number}: {exc.message}", field="file") from None
        task.state = TaskState.DRAFT
        task.save(update_fields=["values", "state"])
        _event(task, scope, "import", at)
        saved.append(task)
    return saved


def visible_fillings(scope: Scope):
    """The caller's own tasks, and with evaluation.manage those of objects in their areas."""
    from django.db.models import Q

    scope.require_signed_in()
    mine = Q(assignee=scope.user) | Q(reviewer=scope.user)
    if scope.has_perm(perms.EVALUATION_MANAGE):
        mine |= Q(object__in=config.visible_objects(scope).values("pk"))
    return FillingTask.objects.filter(mine)
