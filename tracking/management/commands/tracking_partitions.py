"""``manage.py tracking_partitions``: what beat does daily (tracking.partitions.maintain)."""

from django.core.management.base import BaseCommand

from tracking.partitions import maintain


class Command(BaseCommand):
    help = "Creates the fix partitions ahead and drops those past the retention."

    def handle(self, *args, **options):
        self.stdout.write(str(maintain()))
