"""The precheck of a report (上报预检): what reporting a class at a point now would meet, before
anything is saved — the placement, cross-grid (跨网格), the no-report rules it hits, the similar
cases and the recommended classes. `do_report_case` runs the same `judge` and refuses what it
forbids, so the field app's warnings and the server's refusals never differ.
"""

from __future__ import annotations

import datetime as dt
import importlib
import importlib.util
from dataclasses import dataclass, field

from accounts.scoping import Scope
from core.errors import BadInput, Conflict
from data.models import Category
from spatial.locate import Placement, locate

from . import report_rules, similar, visibility
from .models import Case
from .serializers import local_time


@dataclass
class Judgement:
    """What the rules say of a report: the whole placement (no scope: rules bind whether or
    not the reporter sees their layer), the rules hit, the similar cases and their rule."""

    placement: Placement
    hits: list[report_rules.RuleHit]
    similar: list[tuple[int, float]]
    similar_rule: similar.SimilarParameters
    cross_grid: dict | None = None
    warnings: list[dict] = field(default_factory=list)

    @property
    def forbidding(self) -> list[report_rules.RuleHit]:
        return [hit for hit in self.hits if hit.forbids]

    @property
    def similar_refused(self) -> bool:
        return bool(self.similar) and self.similar_rule.refuse


def judge(
    scope: Scope,
    category: Category,
    lon: float,
    lat: float,
    at: dt.datetime,
    source: str,
    *,
    for_report: bool = False,
) -> Judgement:
    """Gives what the no-report and similar-case rules say of a report (nothing is written).
    `for_report`: inside the report's transaction, a class that refuses similar reports is
    locked first (`similar.lock_class`)."""
    placement = locate(lon, lat, at)
    hits = report_rules.no_report_hits(placement, lon, lat, at, category)
    rule = similar.parameters(category)
    if for_report and rule.refuse:
        similar.lock_class(rule)
    found = similar.find_similar(lon, lat, at, rule)
    grid = report_rules.cross_grid(scope.person_id, lon, lat) if source == "inspector" else None
    judgement = Judgement(placement, hits, found, rule, grid)
    judgement.warnings = [hit.as_dict() for hit in hits if not hit.forbids]
    return judgement


def enforce(judgement: Judgement) -> None:
    """Refuses the report a rule forbids: 409 naming the first forbidding rule and its reason
    (field `point` for a place or road, `category` for reporting hours), or the similar case of
    a class that refuses similar reports."""
    forbidding = judgement.forbidding
    if forbidding:
        hit = forbidding[0]
        where = "category" if hit.kind == "hours" else "point"
        raise Conflict(
            f"禁止上报：{hit.name}" + (f"（{hit.reason}）" if hit.reason else ""),
            field=where,
            code="report_forbidden",
            current={"rule": hit.as_dict()},
        )
    if judgement.similar_refused:
        case_id, metres = judgement.similar[0]
        number = Case.objects.filter(pk=case_id).values_list("number", flat=True).first()
        raise Conflict(
            f"已有相似案件 {number}（{metres} 米内），该类不允许重复上报",
            field="point",
            code="similar_refused",
            current={"similar": [case_id for case_id, _ in judgement.similar]},
        )


def similar_json(scope: Scope, found: list[tuple[int, float]]) -> list[dict]:
    """The similar cases the caller may see, nearest first (another area's are left out)."""
    metres = dict(found)
    rows = (
        visibility.visible_cases(scope)
        .filter(pk__in=list(metres))
        .select_related("category")
        .only(
            "id", "number", "state", "reported_at", "description", "address", "category", "version"
        )
    )
    items = [
        {
            "id": case.pk,
            "number": case.number,
            "state": case.state,
            "state_name": case.get_state_display(),
            "category": {"code": case.category.code, "name": case.category.name},
            "description": case.description[:200],
            "address": case.address,
            "reported_at": local_time(case.reported_at),
            "distance_m": metres[case.pk],
            "version": case.version,
        }
        for case in rows
    ]
    return sorted(items, key=lambda item: (item["distance_m"], item["id"]))


def recommended_categories(description: str, kind: str, placement: Placement) -> list[dict]:
    """The classes the text classifier (`cases.recommend`, when present) proposes for the
    description, each with the department the manual names at the place; an empty list
    without it or without a trained model."""
    if not description.strip() or importlib.util.find_spec("cases.recommend") is None:
        return []
    recommend = getattr(importlib.import_module("cases.recommend"), "recommend", None)
    if recommend is None:
        return []
    areas = [a.code for a in (placement.district, placement.street, placement.community) if a]
    return list(recommend(description, kind=kind, area_codes=areas))


def precheck(
    scope: Scope,
    category: Category,
    lon: float,
    lat: float,
    *,
    source: str,
    description: str = "",
    at: dt.datetime,
) -> dict:
    """Gives the precheck of a report as `PrecheckSerializer` documents it."""
    judgement = judge(scope, category, lon, lat, at, source)
    if judgement.placement.district is None:
        raise BadInput("the point is outside the city", field="point")
    hits = [hit.as_dict() for hit in judgement.hits]
    return {
        "placement": locate(lon, lat, at, scope=scope).as_dict(),
        "cross_grid": judgement.cross_grid,
        "rules": hits,
        "allowed": not judgement.forbidding and not judgement.similar_refused,
        "similar_count": len(judgement.similar),
        "similar": similar_json(scope, judgement.similar),
        "similar_refused": judgement.similar_refused,
        "similar_rule": {
            "metres": judgement.similar_rule.metres,
            "hours": judgement.similar_rule.hours,
        },
        "recommended_categories": recommended_categories(
            description, category.kind, judgement.placement
        ),
    }
