"""Closed-case quality sampling (案件质检, spec 5.3.7): draw closed cases from the handling
departments, issue the draw to other departments, who score each case (100 less deductions).

- **Draw** (抽查任务生成): `total` cases among the chosen departments' cases closed (or, by
  `basis`, reported) in [start, end) that the creator sees, spread by `mode`:
  *proportional* (比例方式: each department's share of the cases, largest remainders first),
  *average* (平均方式: equal shares; what a department lacks goes to those with the most cases
  left), *floor* (保底方式: `floor` from each first, the rest proportionally to what is left).
  Within a department the cases are drawn in the order of ``md5(id || seed)``: random, and the
  same seed draws the same cases.
- **Issue** (抽查任务下发): to one or more departments; their scorers (``evaluation.score``)
  score the sampled cases of every department but their own.
- **Score** (案件评价): deductions from `DeductionItem`, a note; editable until submitted.
- **Statistics** (评价统计): per sampled department, cases drawn, scored (submitted scores),
  mean score and deductions by item; every submitted score of a case is shown by department,
  not by person.
"""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal

from django.db import connection
from django.db.models import Avg, Count, Q
from django.utils import timezone

from accounts import permissions as perms
from accounts.models import Department
from accounts.oplog import action
from accounts.scoping import Scope
from cases.visibility import visible_cases
from core.errors import BadInput, Conflict, NotFound

from .models import (
    DeductionItem,
    QualityAssignment,
    QualityScore,
    SampledCase,
    SamplingTask,
)

Mode = SamplingTask.Mode
MAX_TOTAL = 10_000
FULL_SCORE = Decimal(100)


# ---------------------------------------------------------------------------------------------
# Allocation: how many cases each department gives (pure; property-tested).


def _proportional(counts: dict, total: int) -> dict:
    """Largest remainders: floor(total × share) each, the rest one by one to the largest
    fractional parts (ties: key order). Never more than a department has."""
    whole = sum(counts.values())
    if not whole or not total:
        return dict.fromkeys(counts, 0)
    found = {k: total * c // whole for k, c in counts.items()}
    order = sorted(counts, key=lambda k: (-(total * counts[k] % whole), str(k)))
    for k in order[: total - sum(found.values())]:
        found[k] += 1
    return found


def _average(counts: dict, total: int) -> dict:
    """Equal shares (the remainder one each to the departments with the most cases); what a
    department lacks goes to the department with the most cases left, then the next."""
    if not counts:
        return {}
    by_size = sorted(counts, key=lambda k: (-counts[k], str(k)))
    share, extra = divmod(total, len(counts))
    found = {k: min(share + (1 if i < extra else 0), counts[k]) for i, k in enumerate(by_size)}
    short = total - sum(found.values())
    for k in sorted(counts, key=lambda k: (-(counts[k] - found[k]), str(k))):
        give = min(short, counts[k] - found[k])
        found[k] += give
        short -= give
    return found


def allocate(counts: dict, total: int, mode: str, floor: int = 5) -> dict:
    """How many cases each department (key) gives: min(total, all cases) in all, none more
    than it has."""
    total = min(total, sum(counts.values()))
    if mode == Mode.PROPORTIONAL:
        return _proportional(counts, total)
    if mode == Mode.AVERAGE:
        return _average(counts, total)
    if mode == Mode.FLOOR:
        first = {k: min(floor, c) for k, c in counts.items()}
        if sum(first.values()) >= total:
            return _average(first, total)
        left = {k: counts[k] - first[k] for k in counts}
        rest = _proportional(left, total - sum(first.values()))
        return {k: first[k] + rest[k] for k in counts}
    raise BadInput(f"mode is one of {', '.join(Mode.values)}", field="mode")


# ---------------------------------------------------------------------------------------------
# The draw


def _time_column(basis: str) -> str:
    return "closed_at" if basis == SamplingTask.Basis.CLOSED else "reported_at"


def _pool(scope: Scope, departments: list[int], basis: str, start, end):
    """The closed cases of the departments the caller sees, by the basis time in the period."""
    column = _time_column(basis)
    return visible_cases(scope).filter(
        state="closed",
        department_id__in=departments,
        **{f"{column}__gte": start, f"{column}__lt": end},
    )


DRAW_SQL = """
SELECT id FROM ({pool}) p
ORDER BY md5(p.id::text || %s), p.id
LIMIT %s
"""


def _draw(pool, department: int, seed: str, count: int) -> list[int]:
    if count <= 0:
        return []
    sql, params = pool.filter(department_id=department).values("id").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(DRAW_SQL.format(pool=sql), [*params, seed, count])
        return [r[0] for r in cursor.fetchall()]


def _departments(codes, field: str) -> list[Department]:
    if not isinstance(codes, list) or not codes or not all(isinstance(c, str) for c in codes):
        raise BadInput("name one or more department codes", field=field)
    found = list(Department.objects.filter(code__in=codes, active=True))
    missing = sorted(set(codes) - {d.code for d in found})
    if missing:
        raise BadInput(f"no department {', '.join(missing)}", field=field)
    return found


@action("evaluation.sample", permission=perms.EVALUATION_MANAGE, target=lambda **k: k["name"])
def do_create_sampling(
    scope: Scope,
    *,
    name: str,
    basis: str,
    start: dt.datetime,
    end: dt.datetime,
    total: int,
    mode: str,
    departments: list[str],
    floor: int | None = None,
    seed: str = "",
    at: dt.datetime | None = None,
) -> SamplingTask:
    """Draws a sampling (抽查任务) of closed cases and stores it with its cases."""
    from .rules import rules

    at = at or timezone.now()
    if not name or not isinstance(name, str) or len(name) > 128:
        raise BadInput("give the sampling a name (up to 128 characters)", field="name")
    if basis not in SamplingTask.Basis.values:
        raise BadInput(f"basis is one of {', '.join(SamplingTask.Basis.values)}", field="basis")
    if mode not in Mode.values:
        raise BadInput(f"mode is one of {', '.join(Mode.values)}", field="mode")
    if not isinstance(total, int) or isinstance(total, bool) or not 1 <= total <= MAX_TOTAL:
        raise BadInput(f"total is a whole number from 1 to {MAX_TOTAL}", field="total")
    if end <= start:
        raise BadInput("from must be before to", field="from")
    floor = rules().sample_floor if floor is None else floor
    if not isinstance(floor, int) or isinstance(floor, bool) or not 0 <= floor <= MAX_TOTAL:
        raise BadInput("floor is a whole number", field="floor")
    chosen = _departments(departments, "departments")
    seed = str(seed)[:32] or secrets.token_hex(8)
    pool = _pool(scope, [d.pk for d in chosen], basis, start, end)
    counts = dict.fromkeys((d.pk for d in chosen), 0)
    for department, n in pool.values_list("department_id").annotate(n=Count("id")).order_by():
        counts[department] = n
    shares = allocate(counts, total, mode, floor)
    task = SamplingTask.objects.create(
        name=name, basis=basis, start=start, end=end, total=total, mode=mode, floor=floor,
        seed=seed, created_by=scope.user, created_at=at,
    )  # fmt: skip
    task.departments.set(chosen)
    SampledCase.objects.bulk_create(
        SampledCase(task=task, case_id=case_id, department_id=department)
        for department, n in shares.items()
        for case_id in _draw(pool, department, seed, n)
    )
    return task


def _task_for_manager(scope: Scope, task_id) -> SamplingTask:
    scope.require(perms.EVALUATION_MANAGE)
    task = SamplingTask.objects.filter(pk=_pk(task_id)).first()
    if task is None:
        raise NotFound(f"no sampling {task_id}")
    return task


def _pk(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


@action("evaluation.issue_sampling", permission=perms.EVALUATION_MANAGE, target=lambda i, **k: i)
def do_issue_sampling(
    scope: Scope, task_id, *, departments: list[str], at: dt.datetime | None = None
) -> list[QualityAssignment]:
    """Issues a sampling to evaluating departments (抽查任务下发); a department already given it
    is left as it is."""
    at = at or timezone.now()
    task = _task_for_manager(scope, task_id)
    SamplingTask.objects.select_for_update().filter(pk=task.pk).first()
    chosen = _departments(departments, "departments")
    made = []
    for department in chosen:
        row, created = QualityAssignment.objects.get_or_create(
            task=task, department=department, defaults={"issued_at": at}
        )
        if created:
            made.append(row)
    if task.issued_at is None:
        task.issued_at = at
        task.save(update_fields=["issued_at"])
    return made


# ---------------------------------------------------------------------------------------------
# Scoring


def scorable(scope: Scope):
    """The sampled cases the caller's department scores: of the samplings issued to it, those of
    the other departments."""
    if not scope.has_perm(perms.EVALUATION_SCORE) or scope.department_id is None:
        return SampledCase.objects.none()
    issued = QualityAssignment.objects.filter(department_id=scope.department_id).values("task_id")
    return SampledCase.objects.filter(task_id__in=issued).exclude(department_id=scope.department_id)


@action("evaluation.score", permission=perms.EVALUATION_SCORE, target=lambda i, **k: i)
def do_score_sampled_case(
    scope: Scope,
    sampled_id,
    *,
    deductions: list[str],
    note: str = "",
    submit: bool = False,
    at: dt.datetime | None = None,
) -> QualityScore:
    """Scores a sampled case for the caller's department (案件评价): 100 less the points of
    the deductions (not below 0); submitting ends the edits (提交)."""
    at = at or timezone.now()
    sampled = scorable(scope).select_for_update().filter(pk=_pk(sampled_id)).first()
    if sampled is None:
        raise NotFound(f"no sampled case {sampled_id} to score")
    if not isinstance(deductions, list) or not all(isinstance(c, str) for c in deductions):
        raise BadInput("deductions is a list of deduction codes", field="deductions")
    if not isinstance(note, str) or len(note) > 2000:
        raise BadInput("note is text up to 2000 characters", field="note")
    items = {i.code: i for i in DeductionItem.objects.filter(code__in=deductions, active=True)}
    unknown = sorted(set(deductions) - set(items))
    if unknown:
        raise BadInput(f"no deduction {', '.join(unknown)}", field="deductions")
    score = max(Decimal(0), FULL_SCORE - sum((items[c].points for c in deductions), Decimal(0)))
    row = QualityScore.objects.filter(sampled=sampled, department_id=scope.department_id).first()
    if row is not None and row.submitted_at is not None:
        raise Conflict("the score was submitted: it is no longer edited")
    if row is None:
        row = QualityScore(sampled=sampled, department_id=scope.department_id)
    row.deductions, row.score, row.note = list(deductions), score, note
    row.scored_by, row.scored_at = scope.user, at
    row.submitted_at = at if submit else None
    row.save()
    return row


def statistics(task: SamplingTask) -> list[dict]:
    """Per sampled department: cases drawn, submitted scores, their mean, deductions by item."""
    submitted = Q(scores__submitted_at__isnull=False)
    rows = (
        SampledCase.objects.filter(task=task)
        .values("department__code", "department__name")
        .annotate(
            drawn=Count("id", distinct=True),
            scored=Count("scores", filter=submitted),
            mean=Avg("scores__score", filter=submitted),
        )
        .order_by("department__code")
    )
    deductions: dict[str, dict[str, int]] = {}
    for department, codes in QualityScore.objects.filter(
        sampled__task=task, submitted_at__isnull=False
    ).values_list("sampled__department__code", "deductions"):
        for code in codes:
            found = deductions.setdefault(department, {})
            found[code] = found.get(code, 0) + 1
    return [
        {
            "department": r["department__code"],
            "name": r["department__name"],
            "drawn": r["drawn"],
            "scores": r["scored"],
            "mean_score": round(float(r["mean"]), 2) if r["mean"] is not None else None,
            "deductions": deductions.get(r["department__code"], {}),
        }
        for r in rows
    ]
