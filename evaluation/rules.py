"""The evaluation rules row, or the defaults when there is none."""

from __future__ import annotations

from .models import EvaluationRules


def rules() -> EvaluationRules:
    """Gives the stored rules (the first row) or an unsaved row of the defaults."""
    return EvaluationRules.objects.order_by("pk").first() or EvaluationRules()
