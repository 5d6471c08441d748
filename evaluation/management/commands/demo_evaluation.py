"""manage.py demo_evaluation: the demo sample library and a demo round of comprehensive
evaluation (indicators, rules, draws, inspections, fillings, results) for this year."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.scoping import command_scope
from evaluation.comprehensive.demo import build_demo_samples
from evaluation.comprehensive.demo_round import build_round
from evaluation.comprehensive.models import EvaluationObject, SamplePoint
from spatial.models import AdminArea


class Command(BaseCommand):
    help = (
        "Build the demo sample library (as demo_samples) when there is none, then play this "
        "year's demo round of comprehensive evaluation: the indicator system, sampling rules, "
        "draws, inspections by the demo evaluator, platform data, surveys, self-evaluations "
        "and results. Same seed, same round; a cycle with inspections is left as it is."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--year", type=int, default=None)

    def handle(self, *args, seed=1, year=None, verbosity=1, **options):
        scope = command_scope("demo_evaluation")
        district = AdminArea.objects.filter(level=AdminArea.Level.DISTRICT).order_by("code").first()
        if district is None:
            raise CommandError("no district; run demo_city first")
        if not SamplePoint.objects.exists():
            build_demo_samples(scope, district)
        city = EvaluationObject.objects.filter(code=f"demo-{district.code}").first()
        if city is None:
            raise CommandError(f"no evaluation object demo-{district.code}; run demo_samples")
        done = build_round(scope, city, year=year or timezone.localdate().year, seed=seed)
        if verbosity:
            self.stdout.write(
                f"cycle {done['cycle']}: {done['inspections']} inspections, "
                f"results for {done['objects']} objects"
            )
