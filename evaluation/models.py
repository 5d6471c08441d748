"""Evaluation settings as data: the rules of the spatial indicators and sampling
(`EvaluationRules`), the weights of the composite index (`IndicatorWeight`) and the grade bands
(`GradeBand`). The defaults (`evaluation.scores.DEFAULT_WEIGHTS`, `DEFAULT_BANDS`) apply to a
subject without rows; docs/evaluation.md lists them."""

from __future__ import annotations

from django.db import models


class EvaluationRules(models.Model):
    """The evaluation rules (one row; none: the defaults): when a public report counts as
    missed by an inspector (漏报), and the floor of the sampling's floor mode (保底方式)."""

    missed_report_metres = models.FloatField(
        default=50.0, help_text="an inspector's report of the class this near covers it"
    )
    missed_report_hours = models.FloatField(
        default=72.0, help_text="… when reported at most this long before the public report"
    )
    sample_floor = models.PositiveIntegerField(
        default=5, help_text="floor mode: cases drawn from each department first"
    )

    class Meta:
        verbose_name_plural = "evaluation rules"

    def __str__(self) -> str:
        return "evaluation rules"


class IndicatorWeight(models.Model):
    """The weight of a rate in the composite index (综合指标值) of a subject."""

    subject = models.CharField(max_length=16)
    indicator = models.CharField(max_length=32)
    weight = models.DecimalField(max_digits=6, decimal_places=2)

    class Meta:
        ordering = ["subject", "indicator"]
        constraints = [
            models.UniqueConstraint(fields=["subject", "indicator"], name="weight_unique"),
            models.CheckConstraint(condition=models.Q(weight__gt=0), name="weight_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} {self.indicator} {self.weight}"


class GradeBand(models.Model):
    """A grade (等级 A–E) of a subject's composite index: from `min_score` (inclusive) up to
    the next band's."""

    subject = models.CharField(max_length=16)
    grade = models.CharField(max_length=1)
    min_score = models.DecimalField(max_digits=6, decimal_places=2)

    class Meta:
        ordering = ["subject", "-min_score"]
        constraints = [
            models.UniqueConstraint(fields=["subject", "grade"], name="gradeband_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} {self.grade} ≥ {self.min_score}"
