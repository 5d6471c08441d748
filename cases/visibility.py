"""Which cases a caller sees, and which of their fields: the case rules of the one scope.

- System admins and superusers see every case.
- Without ``cases.read`` a caller sees none.
- Everyone else sees the cases placed in their areas: the district, street, community or
  responsibility grid of the case's placement snapshot is one of the caller's (the same areas
  whose union `Scope.area_condition` tests). A handling department's people (``cases.handle``
  and no centre or inspector permission) see only those dispatched to their department,
  those it assists with (协办) and those a pending transfer (转办) offers it; read-only
  positions (GIS admins, evaluators) see their areas.
- Whoever reported a case, or holds a verification or check task on it, sees it wherever it is.

Reporters' names and phones are shown to the centre (acceptors, shift leaders, supervisors,
system admins) and to the person who reported the case; never to handling departments or other
inspectors.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

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
        rule = _in_areas(scope.person_id)
        if department_only(scope):
            rule &= _of_department(scope.department_id)
    user_id = scope.user.pk
    rule |= Q(reported_by_id=user_id)
    rule |= Exists(CaseTask.objects.filter(case=OuterRef("pk"), assignee_id=user_id))
    return cases.filter(rule)


def _of_department(department_id: int | None) -> Q:
    """Cases dispatched to the department, those it assists with (协办), and those a pending
    transfer (转办) asks it to take over (it answers the transfer)."""
    from .models import Application, CaseAssist

    assists = CaseAssist.objects.filter(case=OuterRef("pk"), department_id=department_id)
    offered = Application.objects.filter(
        case=OuterRef("pk"), kind="transfer", state="pending", target_department_id=department_id
    )
    return Q(department_id=department_id) | Exists(assists) | Exists(offered)


def _in_areas(person_id: int) -> Q:
    """Cases whose placement snapshot names one of the person's areas: their districts, streets,
    communities or responsibility grids (the person's area union is made of exactly these, see
    `accounts.areas`). The snapshot, not the point, decides: a case stays with the area it was
    placed in when boundaries are redrawn later, as its statistics do; and the test is a
    lookup of indexed codes rather than a point-in-polygon test per row (bench/README.md
    "Cases at 1M")."""
    person = Person.objects.filter(pk=person_id)

    def codes(level: str):
        return person.filter(admin_areas__level=level).values("admin_areas__code")

    return (
        Q(district_code__in=codes(AdminArea.Level.DISTRICT))
        | Q(street_code__in=codes(AdminArea.Level.STREET))
        | Q(community_code__in=codes(AdminArea.Level.COMMUNITY))
        | Q(grid_code__in=person.exclude(grids__code=None).values("grids__code"))
    )


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
