"""Which cases a caller sees, and which of their fields: the case rules of the one scope.

- System admins and superusers see every case.
- Without ``cases.read`` a caller sees none.
- Everyone else sees the cases placed in their areas: the district, street, community or
  responsibility grid of the case's placement snapshot is one of the caller's (the same areas
  whose union `Scope.area_condition` tests). A handling department's people (``cases.handle``
  and no centre or inspector permission) see only those dispatched to their department,
  those it assists with (协办), those a pending transfer (转办) offers it and the parallel
  cases (并行派遣) it has a share of; read-only
  positions (GIS admins, evaluators) see their areas.
- Whoever reported a case, or holds a verification or check task on it, sees it wherever it is.
- The public (anyone, signed in or not: Open311, the public map) sees every case a moderator
  has not hidden (`public_cases`), and only its public fields (`cases.open311.publication`).

Reporters' names and phones are shown to the centre (acceptors, shift leaders, supervisors,
system admins) and to the person who reported the case; never to handling departments or other
inspectors.
"""

from __future__ import annotations

import time

from django.db import models
from django.db.models import Q, QuerySet

from accounts import permissions as perms
from accounts.models import Person
from accounts.scoping import Scope
from core.errors import NotFound
from spatial.models import AdminArea

from .models import Case, CaseTask, PublicEdit

# Permissions that make a caller part of the centre or the field rather than a handling
# department: they see every case in their areas.
_AREA_WIDE = frozenset(
    {
        perms.CASES_ACCEPT,
        perms.CASES_REGISTER,
        perms.CASES_DISPATCH,
        perms.CASES_SUPERVISE,
        perms.CASES_REPORT,
    }
)
_SEES_REPORTER = frozenset({perms.CASES_ACCEPT, perms.CASES_REGISTER, perms.CASES_SUPERVISE})


def public_cases(queryset: QuerySet | None = None) -> QuerySet:
    """The cases the public sees (公开案件): all but those a moderator hid whole."""
    cases = Case.objects.all() if queryset is None else queryset
    hidden = PublicEdit.objects.filter(target=PublicEdit.Target.CASE, hidden=True)
    return cases.exclude(pk__in=hidden.values("case_id"))


def department_only(scope: Scope) -> bool:
    """Whether the caller sees only the cases dispatched to their department."""
    if scope.sees_everything or scope.permissions & _AREA_WIDE:
        return False
    return scope.has_perm(perms.CASES_HANDLE)


def visible_cases(scope: Scope, queryset: QuerySet | None = None) -> QuerySet:
    """The cases `scope` may see, as a queryset (filtered in SQL)."""
    cases = Case.objects.all() if queryset is None else queryset
    if scope.sees_everything:
        return cases
    if scope.is_anonymous or not scope.has_perm(perms.CASES_READ):
        return cases.none()
    rule = Q(pk__in=[])
    if scope.has_area:
        rule = _in_areas(scope)
        if rule is None:  # the whole city
            if not department_only(scope):
                return cases
            rule = _of_department(scope.department_id)
        elif department_only(scope):
            rule &= _of_department(scope.department_id)
    user_id = scope.user.pk
    rule |= Q(reported_by_id=user_id)
    tasks = CaseTask.objects.filter(assignee_id=user_id).order_by().values("case_id")
    rule |= Q(pk__any_of=tasks)
    return cases.filter(rule)


@models.Field.register_lookup
class AnyOf(models.Lookup):
    """``field__any_of=<subquery>``: ``field = ANY(ARRAY(<subquery>))``. Unlike ``IN
    (<subquery>)``, which PostgreSQL runs as a hashed filter, this can be an index condition
    inside an OR (a BitmapOr), as the task branch of the visibility rule needs."""

    lookup_name = "any_of"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY(ARRAY{rhs})", [*lhs_params, *rhs_params]


_CODE_FIELD = {
    AdminArea.Level.DISTRICT: "district_code",
    AdminArea.Level.STREET: "street_code",
    AdminArea.Level.COMMUNITY: "community_code",
}
_codes_cache: dict[tuple[int, str], dict[str, list[str]]] = {}


def area_codes(scope: Scope) -> dict[str, list[str]]:
    """The codes of the person's areas by snapshot column (``street_code`` → [...], and
    ``grid_code`` for responsibility grids); kept per process under the person's area digest,
    which changes whenever their areas do."""
    key = (scope.person_id, scope.area_digest)
    found = _codes_cache.get(key)
    if found is not None:
        return found
    person = Person.objects.filter(pk=scope.person_id)
    codes: dict[str, list[str]] = {}
    for level, code in person.values_list("admin_areas__level", "admin_areas__code"):
        if code:
            codes.setdefault(_CODE_FIELD[level], []).append(code)
    grids = [c for c in person.values_list("grids__code", flat=True) if c]
    if grids:
        codes["grid_code"] = grids
    if len(_codes_cache) > 10_000:
        _codes_cache.clear()
    _codes_cache[key] = codes
    return codes


def _of_department(department_id: int | None) -> Q:
    """Cases dispatched to the department, those it assists with (协办), those a pending
    transfer (转办) asks it to take over (it answers the transfer), and the parallel cases
    (并行派遣) it has a share of."""
    from .models import Application, CaseAssist, CaseDispatch

    assists = CaseAssist.objects.filter(department_id=department_id).order_by()
    shares = CaseDispatch.objects.filter(department_id=department_id).order_by()
    offered = Application.objects.filter(
        kind="transfer", state="pending", target_department_id=department_id
    ).order_by()
    return (
        Q(department_id=department_id)
        | Q(pk__any_of=assists.values("case_id"))
        | Q(pk__any_of=offered.values("case_id"))
        | Q(pk__any_of=shares.values("case_id"))
    )


def _in_areas(scope: Scope) -> Q | None:
    """Cases whose placement snapshot names one of the person's areas: their districts, streets,
    communities or responsibility grids (the person's area union is made of exactly these, see
    `accounts.areas`). The snapshot, not the point, decides: a case stays with the area it was
    placed in when boundaries are redrawn later, as its statistics do. The codes go into the
    SQL as values, so the planner sees how selective they are and uses the (code, state)
    indexes (bench/README.md "Cases at 1M"). None when the areas hold every district: the whole
    city, where no test is needed."""
    codes = area_codes(scope)
    if set(codes.get("district_code", ())) >= _all_districts():
        return None  # every case lies in a district: no test needed
    rule = Q(pk__in=[])
    for field, values in codes.items():
        rule |= Q(**{f"{field}__in": values})
    return rule


_districts: tuple[float, frozenset[str]] = (0.0, frozenset())


def forget_districts(**kwargs) -> None:
    """Drops this process's district codes (connected to AdminArea saves and deletes; other
    processes re-read theirs within a minute)."""
    global _districts
    _districts = (0.0, frozenset())


def _all_districts() -> frozenset[str]:
    """The city's district codes, read at most once a minute per process."""
    global _districts
    loaded_at, codes = _districts
    if time.monotonic() - loaded_at > 60 or not codes:
        codes = frozenset(
            AdminArea.objects.filter(level=AdminArea.Level.DISTRICT).values_list("code", flat=True)
        )
        _districts = (time.monotonic(), codes)
    return codes


def get_visible(scope: Scope, case_id, *, for_update: bool = False) -> Case:
    """The case with this id if `scope` sees it; `NotFound` otherwise (the same answer for a
    case that does not exist and one outside the caller's areas)."""
    try:
        pk = int(case_id)
    except (TypeError, ValueError):
        raise NotFound(f"no case {case_id}") from None
    cases = visible_cases(scope).filter(pk=pk)
    if for_update:
        # Lock the case row only (not the joined category or department).
        cases = cases.select_for_update(of=("self",))
    case = cases.select_related("category", "department", "register_condition").first()
    if case is None:
        raise NotFound(f"no case {case_id}")
    return case


def sees_reporter(scope: Scope, case: Case) -> bool:
    """Whether the caller may read the reporter's name and phone of `case`."""
    if scope.sees_everything or scope.permissions & _SEES_REPORTER:
        return True
    return scope.user is not None and case.reported_by_id == scope.user.pk
