"""The composite index (综合指标值) and grade (等级 A–E) of an area, department or person.

The composite index of a row is the weighted mean of its rates, on 0–100: a rate where lower is
better (rework, missed reports, overdue closes) enters as 1 − rate; a rate without a value (its
denominator 0) is left out and the other weights carry the mean. No rate with a value: no index,
no grade. The grade is the band the index falls in (the highest band whose minimum it reaches).
Weights and bands are rows (`IndicatorWeight`, `GradeBand`); a subject without rows uses the
defaults below (docs/evaluation.md).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from . import definitions as d
from .models import GradeBand, IndicatorWeight

DEFAULT_WEIGHTS: dict[str, dict[str, int]] = {
    d.AREA: {
        "valid_rate": 10,
        "register_rate": 10,
        "on_time_handle_rate": 30,
        "close_rate": 20,
        "on_time_close_rate": 20,
        "rework_rate": 10,
    },
    d.DEPARTMENT: {
        "on_time_handle_rate": 40,
        "close_rate": 30,
        "rework_rate": 20,
        "overdue_close_rate": 10,
    },
    d.INSPECTOR: {
        "valid_rate": 30,
        "missed_rate": 30,
        "on_time_verify_rate": 20,
        "on_time_check_rate": 20,
    },
    d.ACCEPTOR: {"on_time_rate": 100},
    d.SHIFT_LEADER: {"on_time_rate": 100},
    d.DISPATCHER: {"on_time_rate": 40, "accurate_rate": 60},
}
DEFAULT_BANDS: list[tuple[str, int]] = [("A", 90), ("B", 80), ("C", 70), ("D", 60), ("E", 0)]
HUNDREDTH = Decimal("0.01")


def weights(subject: str) -> dict[str, Decimal]:
    """The subject's weights: its rows, else the defaults."""
    rows = IndicatorWeight.objects.filter(subject=subject).values_list("indicator", "weight")
    found = {code: Decimal(w) for code, w in rows if code in d.BY_SUBJECT[subject]}
    return found or {k: Decimal(v) for k, v in DEFAULT_WEIGHTS[subject].items()}


def bands(subject: str) -> list[tuple[str, Decimal]]:
    """The subject's grade bands, highest minimum first: its rows, else the defaults."""
    rows = GradeBand.objects.filter(subject=subject).values_list("grade", "min_score")
    found = sorted(((g, Decimal(m)) for g, m in rows), key=lambda b: -b[1])
    return found or [(g, Decimal(m)) for g, m in DEFAULT_BANDS]


def composite(
    subject: str, values: dict, weights_: dict[str, Decimal] | None = None
) -> Decimal | None:
    """The composite index of one row's `values` (rates as fractions), 0–100 to 2 places."""
    weights_ = weights(subject) if weights_ is None else weights_
    total = Decimal(0)
    weight_sum = Decimal(0)
    for code, weight in weights_.items():
        value = values.get(code)
        if value is None:
            continue
        rate = Decimal(str(value))
        if d.BY_SUBJECT[subject][code].lower_is_better:
            rate = 1 - rate
        total += weight * rate
        weight_sum += weight
    if not weight_sum:
        return None
    return (total * 100 / weight_sum).quantize(HUNDREDTH, ROUND_HALF_UP)


def grade(score: Decimal | None, bands_: list[tuple[str, Decimal]]) -> str | None:
    """The grade of a composite index: the first band (highest minimum first) it reaches."""
    if score is None:
        return None
    for name, minimum in bands_:
        if score >= minimum:
            return name
    return bands_[-1][0] if bands_ else None


def grade_table(table) -> dict:
    """{row key (None: the total) → {"score", "grade"}} for an `indicators.Table`."""
    weights_, bands_ = weights(table.subject), bands(table.subject)
    found = {}
    for key, row in [*((r.key, r) for r in table.rows), (None, table.total)]:
        score = composite(table.subject, row.values, weights_)
        found[key] = {
            "score": float(score) if score is not None else None,
            "grade": grade(score, bands_),
        }
    return found
