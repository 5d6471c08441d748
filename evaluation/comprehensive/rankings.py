"""Reading evaluation results (评价结果, spec 4.5): rankings (排名) overall and per first-level
indicator with ties and filters, one object's scores per indicator in tree order, and the trend
(趋势) by year. Scores are computed and stored by `results.do_compute_results`; parents are summed
here again from the stored leaves when advanced indicators are left out."""

from __future__ import annotations

from accounts.scoping import Scope

from . import config
from .models import EvaluationCycle, EvaluationResult
from .results import all_indicators, cycle_of, tree_scores


def stored_leaves(cycle: EvaluationCycle, object_ids) -> dict[int, dict[int, float]]:
    """The stored scores by object and indicator."""
    found: dict[int, dict[int, float]] = {}
    for object_id, indicator_id, score in EvaluationResult.objects.filter(
        cycle=cycle, object_id__in=object_ids
    ).values_list("object_id", "indicator_id", "score"):
        found.setdefault(object_id, {})[indicator_id] = score
    return found


def ranked(entries: list[tuple[float, str, dict]]) -> list[dict]:
    """`entries` (score, code, row) by score descending, ties sharing a rank (1, 2, 2, 4)."""
    ordered = sorted(entries, key=lambda e: (-e[0], e[1]))
    rows, previous, rank = [], None, 0
    for position, (score, _code, row) in enumerate(ordered, start=1):
        if score != previous:
            rank, previous = position, score
        rows.append({**row, "rank": rank})
    return rows


def rankings(
    scope: Scope,
    cycle_id,
    *,
    kind: str | None = None,
    size: str | None = None,
    group: str | None = None,
    advanced: bool = True,
) -> dict:
    """Overall and per first-level indicator rankings of the cycle's results for the objects
    the caller sees, filtered by kind, size and group."""
    config.require_reader(scope)
    cycle = cycle_of(cycle_id)
    objects = config.visible_objects(scope).filter(participating=True)
    for name, value in (("kind", kind), ("size", size), ("group", group)):
        if value:
            objects = objects.filter(**{name: value})
    objects = list(objects)
    indicators = all_indicators()
    firsts = [i for i in indicators if i.parent_id is None]
    firsts.sort(key=lambda i: (i.sort_order, i.code))
    parents = {i.parent_id for i in indicators}
    stored = stored_leaves(cycle, [o.pk for o in objects])
    table = []
    for obj in objects:
        if obj.pk not in stored:
            continue
        leaves = {pk: s for pk, s in stored[obj.pk].items() if pk not in parents}
        tree = tree_scores(indicators, leaves, advanced)
        by_first = {i.code: tree.get(i.pk, 0.0) for i in firsts}
        table.append((obj, by_first, round(sum(by_first.values()), 6)))

    def rows_for(key: str | None) -> list[dict]:
        entries = []
        for obj, by_first, total in table:
            score = total if key is None else by_first[key]
            entries.append((score, obj.code, {"object": obj.pk, "code": obj.code,
                                              "name": obj.name, "score": score}))  # fmt: skip
        return ranked(entries)

    return {
        "cycle": cycle.pk,
        "year": cycle.year,
        "advanced": advanced,
        "indicators": [{"code": i.code, "short_name": i.short_name} for i in firsts],
        "overall": [
            {**row, "indicators": next(t[1] for t in table if t[0].pk == row["object"])}
            for row in rows_for(None)
        ],
        "by_indicator": {i.code: rows_for(i.code) for i in firsts},
    }


def object_results(scope: Scope, cycle_id, object_id) -> list[dict]:
    """The stored value, score and source of every indicator for one object, depth first in
    the tree's order."""
    config.require_reader(scope)
    cycle = cycle_of(cycle_id)
    obj = config.row(scope, "objects", object_id)
    found = EvaluationResult.objects.filter(cycle=cycle, object=obj).select_related("indicator")
    by_parent: dict[int | None, list[EvaluationResult]] = {}
    for r in found:
        by_parent.setdefault(r.indicator.parent_id, []).append(r)
    ordered: list[EvaluationResult] = []

    def walk(parent: int | None) -> None:
        for r in sorted(by_parent.get(parent, []), key=lambda r: (r.indicator.sort_order,
                                                                 r.indicator.code)):  # fmt: skip
            ordered.append(r)
            walk(r.indicator_id)

    walk(None)
    return [
        {
            "indicator": r.indicator.code,
            "short_name": r.indicator.short_name,
            "level": r.indicator.level,
            "parent": r.indicator.parent_id,
            "source": r.source,
            "value": r.value,
            "score": r.score,
            "full_score": r.indicator.full_score,
        }
        for r in ordered
    ]


def trend(scope: Scope, object_id, indicator_code: str | None = None) -> list[dict]:
    """The object's overall score (or one indicator's) per cycle, by year."""
    config.require_reader(scope)
    obj = config.row(scope, "objects", object_id)
    found = EvaluationResult.objects.filter(object=obj).select_related("cycle", "indicator")
    if indicator_code:
        found = found.filter(indicator__code=indicator_code)
    else:
        found = found.filter(indicator__parent__isnull=True)
    by_cycle: dict[int, dict] = {}
    for r in found:
        entry = by_cycle.setdefault(
            r.cycle_id,
            {
                "cycle": r.cycle_id,
                "name": r.cycle.name,
                "year": r.cycle.year,
                "score": 0.0,
            },  # fmt: skip
        )
        entry["score"] = round(entry["score"] + r.score, 6)
    return sorted(by_cycle.values(), key=lambda e: (e["year"], e["cycle"]))
