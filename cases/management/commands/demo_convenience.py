"""`manage.py demo_convenience [--if-empty]`: the demo city's convenience points (toilets, car
parks, green spaces, supermarkets) from its layers (`cases.open311.convenience`)."""

from django.core.management.base import BaseCommand

from cases.open311.convenience import load_demo_points
from cases.open311.models import ConveniencePoint


class Command(BaseCommand):
    help = "Load the demo convenience points of the public map from the city's layers."

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing when any point exists"
        )

    def handle(self, *args, **options):
        if options["if_empty"] and ConveniencePoint.objects.exists():
            return
        count = load_demo_points()
        if options["verbosity"] > 0:
            self.stdout.write(f"{count} convenience points loaded")
