"""manage.py demo_samples: the demo city's sample library for comprehensive evaluation."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from accounts.scoping import command_scope
from evaluation.comprehensive.demo import build_demo_samples
from evaluation.comprehensive.models import SamplePoint
from spatial.models import AdminArea


class Command(BaseCommand):
    help = (
        "Build the sample library (样本库) of comprehensive evaluation from the demo city: the "
        "standard sample types, the district as the evaluated city with its streets, and "
        "samples from its roads, alleys, shops, parks, squares, rivers, toilets, bus stops, "
        "crossings and communities. Run again, it updates the same samples."
    )

    def add_arguments(self, parser):
        parser.add_argument("--district", default="", help="6-digit code (default: the first)")
        parser.add_argument("--if-empty", action="store_true", dest="if_empty")

    def handle(self, *args, district="", if_empty=False, verbosity=1, **options):
        if if_empty and SamplePoint.objects.exists():
            return
        areas = AdminArea.objects.filter(level=AdminArea.Level.DISTRICT)
        found = (areas.filter(code=district) if district else areas.order_by("code")).first()
        if found is None:
            raise CommandError(f"no district {district or '(none at all)'}; run demo_city first")
        done = build_demo_samples(command_scope("demo_samples"), found)
        if verbosity:
            for code, result in done.items():
                self.stdout.write(
                    f"{code}: {result['added']} added, {result['updated']} updated, "
                    f"{result['skipped']} skipped"
                )
