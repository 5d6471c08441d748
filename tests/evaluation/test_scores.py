"""The composite index (综合指标值) and grades: a worked example by hand (docs/evaluation.md),
the defaults on a real table, and weights and bands stored as rows."""

from __future__ import annotations

from decimal import Decimal

import pytest

from evaluation import scores
from evaluation.models import GradeBand, IndicatorWeight
from tests.evaluation.conftest import rows, table

pytestmark = pytest.mark.django_db


def test_the_worked_example_of_the_docs(db):
    """A department: 按期处置率 0.8, 结案率 0.9, 返工率 0.1, 超期结案率 0.25 with the default
    weights 40/30/20/10: 40×0.8 + 30×0.9 + 20×(1−0.1) + 10×(1−0.25) = 32 + 27 + 18 + 7.5 =
    84.5 of 100 → B (80 ≤ 84.5 < 90). Without closes the overdue share has no value and the
    other three carry the mean: (32 + 27 + 18) / 90 × 100 = 85.56 → B."""
    values = {
        "on_time_handle_rate": 0.8,
        "close_rate": 0.9,
        "rework_rate": 0.1,
        "overdue_close_rate": 0.25,
    }
    score = scores.composite("department", values)
    assert score == Decimal("84.50")
    assert scores.grade(score, scores.bands("department")) == "B"
    values["overdue_close_rate"] = None
    assert scores.composite("department", values) == Decimal("85.56")
    assert scores.composite("department", dict.fromkeys(values)) is None
    assert scores.grade(None, scores.bands("department")) is None
    assert scores.grade(Decimal("59.99"), scores.bands("department")) == "E"
    assert scores.grade(Decimal("90"), scores.bands("department")) == "A"


def test_the_tables_carry_the_index_and_grade_with_the_default_weights(week):
    street = rows(table("leader", "subject=area"))[week.street_a.code]
    # 10×0.7778 + 10×0.8571 + 30×0.6667 + 20×0.5 + 20×0.3333 + 10×(1−0.2) = 61.016 → D
    assert (street["score"], street["grade"]) == (61.02, "D")
    huanwei = rows(table("leader", "subject=department"))["H-huanwei"]
    # 40×0.4286 + 30×0.4286 + 20×(1−0.25) + 10×(1−0.3333) = 51.669 → E
    assert (huanwei["score"], huanwei["grade"]) == (51.67, "E")


def test_stored_weights_and_bands_replace_the_defaults(week):
    IndicatorWeight.objects.create(subject="department", indicator="on_time_handle_rate", weight=1)
    IndicatorWeight.objects.create(subject="department", indicator="close_rate", weight=3)
    GradeBand.objects.create(subject="department", grade="A", min_score=40)
    GradeBand.objects.create(subject="department", grade="B", min_score=0)
    found = rows(table("leader", "subject=department"))
    # 环卫: (1×0.4286 + 3×0.4286) / 4 = 42.86 → A; 市政: (1×0.5 + 3×0) / 4 = 12.5 → B
    assert (found["H-huanwei"]["score"], found["H-huanwei"]["grade"]) == (42.86, "A")
    assert (found["H-shizheng"]["score"], found["H-shizheng"]["grade"]) == (12.5, "B")
