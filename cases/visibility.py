"""Which cases a caller sees, and which of their fields: the case rules of the one scope.

- System admins and superusers see every case.
- Without ``cases.read`` a caller sees none.
- Everyone else sees the cases whose point lies in their areas (the same area union as
  `Scope.area_condition`); a handling department's people (``cases.handle`` and no centre or
  inspector permission) only those dispatched to their department; read-only positions (GIS
  admins, evaluators) see their areas.
- Whoever reported a case, or holds a verification or check task on it, sees it wherever it is.

Reporters' names and phones are shown to the centre (acceptors, shift leaders, supervisors,
system admins) and to the person who reported the case; never to handling departments or other
inspectors.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery

from accounts import permissions as perms
from accounts.models import Person
from accounts.scoping import Scope
from core.errors import NotFound
from spatial.models import AdminArea

from .models import Case, CaseTask

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
        area = Person.objects.filter(pk=scope.person_id).values("area_geom")[:1]
        # A case's point always lies in a district (reporting and placement corrections refuse
        # others), so an area covering every district sees every case: the uncorrelated EXISTS
        # run once per query (InitPlans) spare the point-in-area test of each row — at 1M cases
        # that test cost a district-wide dispatcher ~4 µs a row, 0.4 s for the open cases'
        # box counts (bench/README.md "Cases at 1M").
        districts = AdminArea.objects.filter(level=AdminArea.Level.DISTRICT)
        covers_city = Exists(districts) & ~Exists(districts.exclude(geom__coveredby=Subquery(area)))
        rule = covers_city | Q(geom__intersects=Subquery(area))
        if department_only(scope):
            rule &= Q(department_id=scope.department_id)
    user_id = scope.user.pk
    rule |= Q(reported_by_id=user_id)
    rule |= Exists(CaseTask.objects.filter(case=OuterRef("pk"), assignee_id=user_id))
    return cases.filter(rule)


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
